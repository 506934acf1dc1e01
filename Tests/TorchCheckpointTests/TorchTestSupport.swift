import Foundation
import XCTest
@testable import TorchCheckpoint

/// Fixture location, relative to this file with symlinks resolved, so the tests find
/// `Tests/Fixtures/torch` both from the main package and from a scratch package that links the folders.
enum TorchFixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("torch")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The tensor names of a fixture's `.json` `structure`, in pickle order.
    static func structureTensorNames(_ name: String) throws -> [String] {
        guard let root = try json(name) as? [String: Any], let structure = root["structure"] else { return [] }
        var names: [String] = []
        func walk(_ node: Any) {
            if let dict = node as? [String: Any] {
                if let tensor = dict["tensor"] as? String { names.append(tensor); return }
                if let items = dict["items"] { walk(items) }
            } else if let array = node as? [Any] {
                for element in array { walk(element) }
            }
        }
        walk(structure)
        return names
    }
}

/// A test-only safetensors reader for the golden `expected.safetensors` files (F32, F64, I64).
struct ExpectedTensor {
    let dtype: String
    let shape: [Int]
    let data: [UInt8]

    var f32: [UInt32] { words(4).map { UInt32(truncatingIfNeeded: $0) } }
    var f64: [UInt64] { words(8) }
    var i64: [Int64] { words(8).map { Int64(bitPattern: $0) } }

    private func words(_ width: Int) -> [UInt64] {
        stride(from: 0, to: data.count, by: width).map { start in
            var value: UInt64 = 0
            for i in 0..<width { value |= UInt64(data[start + i]) << (8 * UInt64(i)) }
            return value
        }
    }

    static func readAll(_ name: String) throws -> [String: ExpectedTensor] {
        let bytes = try TorchFixtures.bytes(name)
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any] ?? [:]
        let base = 8 + headerLength
        var out: [String: ExpectedTensor] = [:]
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int] else {
                throw NSError(domain: "safetensors", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad header entry \(key)"])
            }
            out[key] = ExpectedTensor(dtype: dtype, shape: shape, data: Array(bytes[(base + offsets[0])..<(base + offsets[1])]))
        }
        return out
    }
}

/// Builds pickle byte sequences by hand (no Python involved).
struct PickleBytes {
    var bytes: [UInt8] = []

    @discardableResult mutating func op(_ raw: UInt8...) -> PickleBytes { bytes += raw; return self }
    mutating func proto(_ version: UInt8 = 2) { bytes += [0x80, version] }
    mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array((module + "\n" + name + "\n").utf8) }
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes += [0x58] + le(UInt64(utf8.count), 4) + utf8
    }
    mutating func int(_ value: Int) {
        if value >= 0 && value < 256 {
            bytes += [0x4B, UInt8(value)]
        } else if let small = Int32(exactly: value) {
            bytes += [0x4A] + le(UInt64(UInt32(bitPattern: small)), 4)
        } else {
            bytes += [0x8A, 8] + le(UInt64(bitPattern: Int64(value)), 8) // LONG1
        }
    }
    mutating func mark() { bytes.append(0x28) }
    mutating func tuple() { bytes.append(0x74) }
    mutating func emptyTuple() { bytes.append(0x29) }
    mutating func emptyDict() { bytes.append(0x7D) }
    mutating func setItem() { bytes.append(0x73) }
    mutating func setItems() { bytes.append(0x75) }
    mutating func reduce() { bytes.append(0x52) }
    mutating func newObj() { bytes.append(0x81) }
    mutating func build() { bytes.append(0x62) }
    mutating func none() { bytes.append(0x4E) }
    mutating func bool(_ b: Bool) { bytes.append(b ? 0x88 : 0x89) }
    mutating func stop() { bytes.append(0x2E) }
    mutating func put(_ index: UInt8) { bytes += [0x71, index] }
    mutating func get(_ index: UInt8) { bytes += [0x68, index] }

    /// `collections.OrderedDict()`.
    mutating func orderedDict() {
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
    }

    /// A contiguous `_rebuild_tensor_v2` of `shape` on storage `key` (float32 unless `storage` says otherwise).
    mutating func tensor(key: String, numel: Int, shape: [Int], storage: String = "FloatStorage", offset: Int = 0,
                         stride explicitStride: [Int]? = nil, requiresGrad: Bool = false) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark(); string("storage"); global("torch", storage); string(key); string("cpu"); int(numel); tuple()
        op(0x51) // BINPERSID
        int(offset)
        mark(); for s in shape { int(s) }; tuple()
        var strides: [Int] = []
        var running = 1
        for s in shape.reversed() { strides.insert(running, at: 0); running &*= s }
        mark(); for s in explicitStride ?? strides { int(s) }; tuple()
        bool(requiresGrad)
        orderedDict()
        tuple()
        reduce()
    }

    func le(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
}

/// Writes STORED zips like torch.save (optionally zip64, or with a fake compression method).
enum TestZip {
    static func le(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    static func make(_ records: [(String, [UInt8])], zip64: Bool = false, method: UInt16 = 0) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, data) in records {
            let nameBytes = Array(name.utf8)
            let offset = out.count
            out += le(0x0403_4b50, 4) + le(20, 2) + le(0, 2) + le(UInt64(method), 2) + le(0, 4) + le(0, 4)
            out += le(UInt64(data.count), 4) + le(UInt64(data.count), 4) + le(UInt64(nameBytes.count), 2) + le(0, 2)
            out += nameBytes + data
            let saturate = zip64 ? UInt64(0xFFFF_FFFF) : UInt64(data.count)
            let extra: [UInt8] = zip64 ? le(1, 2) + le(24, 2) + le(UInt64(data.count), 8) + le(UInt64(data.count), 8) + le(UInt64(offset), 8) : []
            central += le(0x0201_4b50, 4) + le(45, 2) + le(20, 2) + le(0, 2) + le(UInt64(method), 2) + le(0, 4) + le(0, 4)
            central += le(zip64 ? 0xFFFF_FFFF : saturate, 4) + le(saturate, 4)
            central += le(UInt64(nameBytes.count), 2) + le(UInt64(extra.count), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
            central += le(zip64 ? 0xFFFF_FFFF : UInt64(offset), 4) + nameBytes + extra
        }
        let cdOffset = out.count
        out += central
        if zip64 {
            let recordOffset = out.count
            out += le(0x0606_4b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
            out += le(UInt64(records.count), 8) + le(UInt64(records.count), 8) + le(UInt64(central.count), 8) + le(UInt64(cdOffset), 8)
            out += le(0x0706_4b50, 4) + le(0, 4) + le(UInt64(recordOffset), 8) + le(1, 4)
            out += le(0x0605_4b50, 4) + le(0, 4) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(0, 2)
        } else {
            out += le(0x0605_4b50, 4) + le(0, 4) + le(UInt64(records.count), 2) + le(UInt64(records.count), 2)
            out += le(UInt64(central.count), 4) + le(UInt64(cdOffset), 4) + le(0, 2)
        }
        return out
    }

    /// A torch-style checkpoint zip: `<folder>/data.pkl`, `byteorder`, and `data/<key>` records.
    static func checkpoint(pickle: [UInt8], storages: [(String, [UInt8])] = [], folder: String = "archive",
                           byteorder: String = "little", zip64: Bool = false) -> [UInt8] {
        var records: [(String, [UInt8])] = [("\(folder)/data.pkl", pickle), ("\(folder)/byteorder", Array(byteorder.utf8))]
        for (key, data) in storages { records.append(("\(folder)/data/\(key)", data)) }
        records.append(("\(folder)/version", Array("3\n".utf8)))
        return make(records, zip64: zip64)
    }

    /// The bytes of a record, read with the module's own zip reader.
    static func record(_ name: String, in bytes: [UInt8]) throws -> [UInt8] {
        let zip = try ZipArchive(bytes: bytes, file: "test")
        guard let entry = zip.entries.first(where: { $0.name.hasSuffix(name) }) else { throw TorchCheckpointError(.malformed, file: "test", "no \(name)") }
        return Array(bytes[try zip.dataRange(of: entry)])
    }
}

/// Float32 little-endian bytes.
func f32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { TestZip.le(UInt64($0.bitPattern), 4) } }

/// Asserts `body` throws a `TorchCheckpointError` and returns it.
@discardableResult
func assertCheckpointError(_ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> TorchCheckpointError? {
    do {
        _ = try body()
        XCTFail("expected a TorchCheckpointError", file: file, line: line)
        return nil
    } catch let error as TorchCheckpointError {
        return error
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
        return nil
    }
}

/// Compares one tensor to its expected entry: shape, dtype class and bits (NaN positions for floats).
func assertTensorEqual(_ tensor: TorchTensor, _ expected: ExpectedTensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(tensor.shape, expected.shape, "\(name): shape", file: file, line: line)
    switch expected.dtype {
    case "F32":
        XCTAssertTrue([.float32, .float16, .bfloat16].contains(tensor.dtype), "\(name): dtype \(tensor.dtype) for F32", file: file, line: line)
        let ours = tensor.floatValues()
        let theirs = expected.f32
        XCTAssertEqual(ours.count, theirs.count, "\(name): count", file: file, line: line)
        for (i, (a, b)) in zip(ours, theirs).enumerated() {
            let bNaN = Float(bitPattern: b).isNaN
            if a.isNaN || bNaN {
                XCTAssertTrue(a.isNaN && bNaN, "\(name)[\(i)]: NaN position", file: file, line: line)
            } else if a.bitPattern != b {
                XCTFail("\(name)[\(i)]: \(a) != \(Float(bitPattern: b))", file: file, line: line)
                return
            }
        }
    case "F64":
        XCTAssertEqual(tensor.dtype, .float64, "\(name): dtype", file: file, line: line)
        let ours = tensor.doubleValues()
        XCTAssertEqual(ours.count, expected.f64.count, "\(name): count", file: file, line: line)
        for (i, (a, b)) in zip(ours, expected.f64).enumerated() {
            let bNaN = Double(bitPattern: b).isNaN
            if a.isNaN || bNaN {
                XCTAssertTrue(a.isNaN && bNaN, "\(name)[\(i)]: NaN position", file: file, line: line)
            } else {
                XCTAssertEqual(a.bitPattern, b, "\(name)[\(i)]", file: file, line: line)
            }
        }
    case "I64":
        XCTAssertFalse(tensor.dtype.isFloatingPoint, "\(name): dtype \(tensor.dtype) for I64", file: file, line: line)
        XCTAssertEqual(tensor.int64Values(), expected.i64, "\(name): values", file: file, line: line)
    default:
        XCTFail("\(name): unexpected expected dtype \(expected.dtype)", file: file, line: line)
    }
}
