import XCTest
@testable import TorchCheckpoint

/// The zip and legacy containers, storages and views, on hand-made files.
final class ContainerTests: XCTestCase {
    /// `{'w': tensor}` with one float32 storage "0".
    func simplePickle(numel: Int = 4, shape: [Int] = [2, 2], storage: String = "FloatStorage",
                      offset: Int = 0, stride: [Int]? = nil) -> [UInt8] {
        var p = PickleBytes()
        p.proto()
        p.emptyDict()
        p.string("w")
        p.tensor(key: "0", numel: numel, shape: shape, storage: storage, offset: offset, stride: stride)
        p.setItem()
        p.stop()
        return p.bytes
    }

    func testZip64AndFolderName() throws {
        let data = f32Bytes([1, 2, 3, 4])
        for zip64 in [false, true] {
            let zip = TestZip.checkpoint(pickle: simplePickle(), storages: [("0", data)], folder: "pytorch_model", zip64: zip64)
            let value = try TorchCheckpoint.read(bytes: zip, name: "pytorch_model.bin")
            XCTAssertEqual(value["w"]?.tensorValue?.floatValues(), [1, 2, 3, 4], "zip64 \(zip64)")
            XCTAssertEqual(value["w"]?.tensorValue?.shape, [2, 2])
        }
    }

    func testBigEndianByteorder() throws {
        let data = [Float(1.5), -2, 3, 4].flatMap { TestZip.le(UInt64($0.bitPattern), 4).reversed() }
        let zip = TestZip.checkpoint(pickle: simplePickle(), storages: [("0", data)], byteorder: "big")
        XCTAssertEqual(try TorchCheckpoint.read(bytes: zip, name: "be")["w"]?.tensorValue?.floatValues(), [1.5, -2, 3, 4])
    }

    func testStridedViewAndBoundsCheck() throws {
        let data = f32Bytes([0, 1, 2, 3, 4, 5])
        let transposed = TestZip.checkpoint(pickle: simplePickle(numel: 6, shape: [3, 2], stride: [1, 3]), storages: [("0", data)])
        XCTAssertEqual(try TorchCheckpoint.read(bytes: transposed, name: "t")["w"]?.tensorValue?.floatValues(), [0, 3, 1, 4, 2, 5])
        let outside = TestZip.checkpoint(pickle: simplePickle(numel: 6, shape: [3, 2], offset: 1), storages: [("0", data)])
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: outside, name: "o.pth"))
        XCTAssertEqual(error?.kind, .malformed)
        XCTAssertTrue(error?.description.contains("reaches element 6") ?? false, error?.description ?? "")
    }

    func testExpandBombIsLimited() {
        for shape in [[100_000, 100_000], [1 << 40, 1 << 40]] {
            let zip = TestZip.checkpoint(pickle: simplePickle(numel: 1, shape: shape, stride: [0, 0]), storages: [("0", f32Bytes([7]))])
            XCTAssertEqual(assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "bomb.pth"))?.kind, .limitExceeded, "\(shape)")
        }
        let small = TestZip.checkpoint(pickle: simplePickle(numel: 1, shape: [2, 3], stride: [0, 0]), storages: [("0", f32Bytes([7]))])
        XCTAssertEqual(try TorchCheckpoint.read(bytes: small, name: "ok")["w"]?.tensorValue?.floatValues(), [7, 7, 7, 7, 7, 7])
    }

    func testStorageSizeMismatch() {
        let zip = TestZip.checkpoint(pickle: simplePickle(), storages: [("0", [UInt8](repeating: 0, count: 10))])
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "s.pth"))
        XCTAssertTrue(error?.description.contains("holds 10 bytes") ?? false, error?.description ?? "")
        let missing = TestZip.checkpoint(pickle: simplePickle(), storages: [])
        XCTAssertTrue(assertCheckpointError(try TorchCheckpoint.read(bytes: missing, name: "m.pth"))?.description.contains("missing") ?? false)
    }

    func testCompressedRecordsAreRefused() {
        let zip = TestZip.make([("archive/data.pkl", simplePickle())], method: 8)
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "c.pth"))
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertTrue(error?.description.contains("compressed (deflate)") ?? false, error?.description ?? "")
    }

    func testTorchScriptIsRefused() {
        let zip = TestZip.make([("model/data.pkl", simplePickle()), ("model/constants.pkl", [0x80, 0x02, 0x29, 0x2E]),
                                ("model/code/__torch__.py", Array("x".utf8))])
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "ts.pt"))
        XCTAssertTrue(error?.description.contains("TorchScript") ?? false, error?.description ?? "")
    }

    func testUnsupportedStoragesAndRebuilds() {
        for (module, name, needle) in [("torch", "ComplexFloatStorage", "complex"), ("torch", "QInt8Storage", "quantized"),
                                       ("torch", "UntypedStorage", "untyped"), ("torch._utils", "_rebuild_tensor_v3", "_rebuild_tensor_v3"),
                                       ("torch._utils", "_rebuild_qtensor", "not supported")] {
            var p = PickleBytes()
            p.proto()
            p.global(module, name)
            p.stop()
            for mode in [ObjectTreeMode.strictAllowlist, .inertObjects] {
                let error = assertCheckpointError(try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: p.bytes), name: "u.pth", mode: mode))
                XCTAssertEqual(error?.kind, .unsupported, "\(name)")
                XCTAssertTrue(error?.description.contains(needle) ?? false, error?.description ?? "")
            }
        }
    }

    func testOtherContainersAreRecognised() {
        var safetensors = TestZip.le(2, 8) + Array("{}".utf8)
        XCTAssertEqual(TorchCheckpoint.container(of: safetensors), .safetensors)
        XCTAssertTrue(assertCheckpointError(try TorchCheckpoint.read(bytes: safetensors, name: "m.safetensors"))?.description.contains("safetensors") ?? false)
        safetensors = [0x80, 0x02, 0x4E, 0x2E]
        XCTAssertEqual(TorchCheckpoint.container(of: safetensors), .barePickle)
        XCTAssertEqual(assertCheckpointError(try TorchCheckpoint.read(bytes: Array("hello".utf8), name: "x"))?.kind, .unsupported)
        XCTAssertEqual(assertCheckpointError(try TorchCheckpoint.read(path: "/nonexistent/file.pth"))?.kind, .io)
    }

    // MARK: - Legacy

    /// A legacy file: magic, 1001, sys_info, `object`, keys, then counts and data.
    func legacyFile(object: [UInt8], keys: [String], storages: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = LegacyCheckpoint.signature + [0x2E]
        out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
        out += [0x80, 0x02, 0x7D, 0x2E]
        out += object
        var list = PickleBytes()
        list.proto()
        list.op(0x5D)
        list.mark()
        for key in keys { list.string(key) }
        list.op(0x65, 0x2E)
        out += list.bytes
        for data in storages { out += TestZip.le(UInt64(data.count / 4), 8) + data }
        return out
    }

    func legacyTensorPickle(viewMetadata: Bool) -> [UInt8] {
        var p = PickleBytes()
        p.proto()
        p.emptyDict()
        p.string("w")
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark(); p.string("storage"); p.global("torch", "FloatStorage"); p.string("9001"); p.string("cpu"); p.int(6)
        if viewMetadata { p.mark(); p.string("9002"); p.int(2); p.int(4); p.tuple() } else { p.none() }
        p.tuple()
        p.op(0x51)
        p.int(0)
        p.mark(); p.int(2); p.tuple()
        p.mark(); p.int(1); p.tuple()
        p.bool(false)
        p.orderedDict()
        p.tuple()
        p.reduce()
        p.setItem()
        p.stop()
        return p.bytes
    }

    func testLegacyWithAndWithoutViewMetadata() throws {
        let data = f32Bytes([0, 1, 2, 3, 4, 5])
        let whole = legacyFile(object: legacyTensorPickle(viewMetadata: false), keys: ["9001"], storages: [data])
        XCTAssertEqual(TorchCheckpoint.container(of: whole), .legacy)
        XCTAssertEqual(try TorchCheckpoint.read(bytes: whole, name: "l")["w"]?.tensorValue?.floatValues(), [0, 1])
        let view = legacyFile(object: legacyTensorPickle(viewMetadata: true), keys: ["9001"], storages: [data])
        XCTAssertEqual(try TorchCheckpoint.read(bytes: view, name: "l")["w"]?.tensorValue?.floatValues(), [2, 3])
        let wrongCount = legacyFile(object: legacyTensorPickle(viewMetadata: false), keys: ["9001"], storages: [f32Bytes([1, 2])])
        XCTAssertTrue(assertCheckpointError(try TorchCheckpoint.read(bytes: wrongCount, name: "l"))?.description.contains("holds 2 elements") ?? false)
    }

    func testLegacyModulePersistentIdIsRefused() {
        var p = PickleBytes()
        p.proto()
        p.mark(); p.string("module"); p.string("Net"); p.string("net.py"); p.string("class Net: ..."); p.tuple()
        p.op(0x51)
        p.stop()
        let file = legacyFile(object: p.bytes, keys: [], storages: [])
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: file, name: "old.pth"))
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertTrue(error?.description.contains("whole nn.Module") ?? false, error?.description ?? "")
    }
}
