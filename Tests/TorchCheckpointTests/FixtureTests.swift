import XCTest
@testable import TorchCheckpoint

/// Every golden `weights/` fixture against its `expected.safetensors` and `.json` structure.
final class FixtureTests: XCTestCase {
    static let cases = ["tiny_resnet", "tiny_resnet_legacy", "tiny_resnet_ddp_wrapped", "dtypes", "views", "parameters"]

    func checkFixture(_ name: String) throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path(name + ".pth"))
        let tensors = TorchCheckpoint.tensors(in: value)
        let expected = try ExpectedTensor.readAll(name + ".expected.safetensors")
        XCTAssertEqual(Set(tensors.map(\.name)), Set(expected.keys), "\(name): tensor names")
        XCTAssertEqual(tensors.count, expected.count, "\(name): no duplicate names")
        for (tensorName, tensor) in tensors {
            guard let want = expected[tensorName] else { continue }
            assertTensorEqual(tensor, want, "\(name)/\(tensorName)")
        }
        // Pickle (insertion) order, as the fixture's structure lists it.
        XCTAssertEqual(tensors.map(\.name), try TorchFixtures.structureTensorNames(name + ".json"), "\(name): order")
    }

    func testTinyResNet() throws { try checkFixture("tiny_resnet") }
    func testTinyResNetLegacy() throws { try checkFixture("tiny_resnet_legacy") }
    func testTinyResNetDDPWrapped() throws { try checkFixture("tiny_resnet_ddp_wrapped") }
    func testDTypes() throws { try checkFixture("dtypes") }
    func testViews() throws { try checkFixture("views") }
    func testParameters() throws { try checkFixture("parameters") }

    func testLegacyEqualsZip() throws {
        let zip = TorchCheckpoint.tensors(in: try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet.pth")))
        let legacy = TorchCheckpoint.tensors(in: try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet_legacy.pth")))
        XCTAssertEqual(zip.map(\.name), legacy.map(\.name))
        XCTAssertEqual(zip.map(\.tensor), legacy.map(\.tensor))
    }

    func testStateDictStructureAndMetadata() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet.pth"))
        guard case .dict(let dict) = value else { return XCTFail("expected a dict, got \(value.kindDescription)") }
        XCTAssertEqual(dict.typeName, "collections.OrderedDict")
        XCTAssertNil(dict["_metadata"], "BUILD attributes must not become items")
        guard case .dict(let metadata)? = dict.attribute("_metadata") else { return XCTFail("no _metadata attribute") }
        XCTAssertEqual(metadata[""]?["version"]?.intValue, 1)
        let nbt = try XCTUnwrap(dict["bn1.num_batches_tracked"]?.tensorValue)
        XCTAssertEqual(nbt.dtype, .int64)
        XCTAssertEqual(nbt.shape, [])
    }

    func testDTypesDetails() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("dtypes.pth"))
        let want: [String: TorchDType] = ["f32": .float32, "f16": .float16, "bf16": .bfloat16, "f64": .float64, "i64": .int64,
                                          "i32": .int32, "i16": .int16, "i8": .int8, "u8": .uint8, "bool": .bool]
        for (key, dtype) in want { XCTAssertEqual(value[key]?.tensorValue?.dtype, dtype, key) }
        XCTAssertEqual(value["num_batches_tracked_0d"]?.tensorValue?.int64Values(), [123_456_789_012])
        XCTAssertEqual(value["num_batches_tracked_0d"]?.tensorValue?.shape, [])
        XCTAssertEqual(value["scalar_0d"]?.tensorValue?.shape, [])
        let empty = try XCTUnwrap(value["empty_0x3"]?.tensorValue)
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.count, 0)
    }

    func testViewsShareStorageAndMemo() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("views.pth"))
        let embed = try XCTUnwrap(value["embed.weight"]?.tensorValue)
        let head = try XCTUnwrap(value["head.weight"]?.tensorValue)
        let flat = try XCTUnwrap(value["tied_view_flat"]?.tensorValue)
        XCTAssertEqual(embed, head)
        XCTAssertEqual(embed.floatValues(), flat.floatValues())
        let transposed = try XCTUnwrap(value["transposed"]?.tensorValue)
        XCTAssertEqual(transposed.shape, [6, 4])
        let expanded = try XCTUnwrap(value["expanded"]?.tensorValue)
        let rows = expanded.floatValues()
        XCTAssertEqual(Array(rows[0..<3]), Array(rows[9..<12]), "stride 0 repeats the row")
    }

    func testParametersRequiresGrad() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("parameters.pth"))
        XCTAssertEqual(value["weight"]?.tensorValue?.requiresGrad, true)
        XCTAssertEqual(value["bias"]?.tensorValue?.requiresGrad, true)
        XCTAssertEqual(value["frozen"]?.tensorValue?.requiresGrad, false)
    }

    func testDDPCheckpointOtherEntries() throws {
        let value = try TorchCheckpoint.read(path: TorchFixtures.path("tiny_resnet_ddp_wrapped.pth"))
        XCTAssertEqual(value["epoch"]?.intValue, 3)
        XCTAssertEqual(value["arch"]?.stringValue, "tiny_resnet")
        XCTAssertEqual(value["best_acc1"]?.doubleValue, 71.25)
        guard case .dict(let state)? = value["optimizer"]?["state"] else { return XCTFail("no optimizer state") }
        XCTAssertEqual(state.entries.first?.key.intValue, 0, "int keys stay ints")
    }

    func testReadDataMatchesReadPath() throws {
        let data = try Data(contentsOf: TorchFixtures.directory.appendingPathComponent("views.pth"))
        let a = TorchCheckpoint.tensors(in: try TorchCheckpoint.read(data: data, name: "views.pth"))
        let b = TorchCheckpoint.tensors(in: try TorchCheckpoint.read(path: TorchFixtures.path("views.pth")))
        XCTAssertEqual(a.map(\.name), b.map(\.name))
        XCTAssertEqual(a.map(\.tensor), b.map(\.tensor))
    }
}
