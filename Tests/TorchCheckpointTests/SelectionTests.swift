import XCTest
@testable import TorchCheckpoint

/// `StateDictSelection`: timm's key order and the wrapper-prefix stripping.
final class SelectionTests: XCTestCase {
    func testDDPWrappedSelectsStateDictAndStripsModule() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet_ddp_wrapped.pth"))
        let selection = try StateDictSelection(from: value)
        XCTAssertEqual(selection.report.takenKey, "state_dict")
        XCTAssertEqual(selection.report.strippedPrefixes, ["module."])
        XCTAssertEqual(selection.report.skippedNonTensorCount, 0)
        XCTAssertEqual(selection.report.description, "took 'state_dict', stripped 'module.'")

        let expected = try ExpectedTensor.readAll("tiny_resnet.expected.safetensors")
        XCTAssertEqual(Set(selection.tensors.map(\.name)), Set(expected.keys))
        let plain = TorchCheckpoint.tensors(in: try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet.pth")))
        XCTAssertEqual(selection.tensors.map(\.name), plain.map(\.name))
        for (name, tensor) in selection.tensors {
            guard let want = expected[name] else { continue }
            assertTensorEqual(tensor, want, name)
        }
    }

    func testPlainStateDictIsTakenAsIs() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet.pth"))
        let selection = try StateDictSelection(from: value)
        XCTAssertNil(selection.report.takenKey)
        XCTAssertEqual(selection.report.strippedPrefixes, [])
        XCTAssertEqual(selection.report.description, "took the top-level object, stripped nothing")
        XCTAssertEqual(selection.tensors.count, 38)
    }

    private func tensor(_ v: Float) -> PickleValue {
        .tensor(TorchTensor(dtype: .float32, shape: [1], rawBytes: f32Bytes([v]))!)
    }

    private func dict(_ entries: [(String, PickleValue)]) -> PickleValue {
        .dict(PickleDict(entries: entries.map { (key: .string($0.0), value: $0.1) }))
    }

    func testTimmOrderAndEMAFlag() throws {
        let checkpoint = dict([
            ("epoch", .int(1)),
            ("model", dict([("a.weight", tensor(1))])),
            ("state_dict", dict([("_orig_mod.module.a.weight", tensor(2)), ("module._orig_mod.b.weight", tensor(3)), ("step", .int(5))])),
            ("model_ema", dict([("a.weight", tensor(4))])),
            ("state_dict_ema", dict([("a.weight", tensor(5))])),
        ])
        let normal = try StateDictSelection(from: checkpoint)
        XCTAssertEqual(normal.report.takenKey, "state_dict")
        XCTAssertEqual(normal.tensors.map(\.name), ["a.weight", "b.weight"])
        XCTAssertEqual(normal.report.strippedPrefixes, ["_orig_mod.", "module."])
        XCTAssertEqual(normal.report.skippedNonTensorCount, 1)
        XCTAssertEqual(normal["a.weight"]?.floatValues(), [2])

        XCTAssertEqual(try StateDictSelection(from: checkpoint, useEMA: true).report.takenKey, "state_dict_ema")
        let withoutEMADict = dict([("model", dict([("x", tensor(1))])), ("model_ema", dict([("x", tensor(2))]))])
        XCTAssertEqual(try StateDictSelection(from: withoutEMADict).report.takenKey, "model")
        XCTAssertEqual(try StateDictSelection(from: withoutEMADict, useEMA: true).report.takenKey, "model_ema")
    }

    func testInfixIsNotStripped() throws {
        let sel = try StateDictSelection(from: dict([("features.module.0.weight", tensor(1))]))
        XCTAssertEqual(sel.tensors.map(\.name), ["features.module.0.weight"])
        XCTAssertEqual(sel.report.strippedPrefixes, [])
    }

    func testClashAfterStrippingIsAnError() {
        let error = assertCheckpointError(try StateDictSelection(from: self.dict([("module.a", self.tensor(1)), ("a", self.tensor(2))])))
        XCTAssertTrue(error?.description.contains("both become 'a'") ?? false, error?.description ?? "")
    }

    func testNonStateDictIsAnError() {
        let error = assertCheckpointError(try StateDictSelection(from: .list([.int(1)]), file: "x.pth"))
        XCTAssertTrue(error?.description.hasPrefix("x.pth: ") ?? false)
    }
}
