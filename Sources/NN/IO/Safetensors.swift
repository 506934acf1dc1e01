import Foundation
import Tensor

/// A safetensors file: named float32 tensors, named int64 tensors, and string metadata.
///
/// Format: an 8-byte little-endian header length, a JSON header mapping each name to
/// `{dtype, shape, data_offsets}` (plus an optional `__metadata__` object of strings), then the
/// raw little-endian data. Float tensors are read and written as `F32`; `I64` tensors (such as
/// batch norm's `num_batches_tracked`) are kept as integers. `F64`, `F16` and `BF16` are read and
/// converted to float32; `I32`, `I16`, `I8`, `U8` and `BOOL` are read as int64 values.
public struct SafeTensors {
    public var floats: [String: Tensor] = [:]
    public var integers: [String: (shape: [Int], values: [Int64])] = [:]
    /// Tensor names in file order (float and integer).
    public var order: [String] = []
    public var metadata: [String: String] = [:]

    public init() {}

    /// Adds a float tensor.
    public mutating func set(_ name: String, _ t: Tensor) {
        if floats[name] == nil && integers[name] == nil { order.append(name) }
        floats[name] = t
    }

    /// Adds an int64 tensor.
    public mutating func set(_ name: String, integers values: [Int64], shape: [Int]) {
        if floats[name] == nil && integers[name] == nil { order.append(name) }
        integers[name] = (shape, values)
    }

    /// Bytes per element of every dtype the reader accepts.
    static let elementSizes = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    /// Reads a file; every problem is reported as ``SafeTensorsError`` naming the file.
    public static func read(_ path: String) throws -> SafeTensors {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError(path: path, problem: "cannot be read (missing or not a file)")
        }
        return try decode(data, path: path)
    }

    /// Parses the bytes of a file (`path` only labels errors).
    public static func decode(_ data: Data, path: String = "<memory>") throws -> SafeTensors {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(path: path, problem: problem) }
        guard data.count >= 8 else { throw fail("is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("declares a \(headerLength)-byte header but the file has \(data.count) bytes (truncated?)")
        }
        let headerEnd = 8 + Int(headerLength)
        let header = data[8..<headerEnd]
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw fail("has a header that is not a JSON object")
        }
        let dataSize = data.count - headerEnd
        var result = SafeTensors()
        var entries: [(name: String, begin: Int, end: Int, dtype: String, shape: [Int])] = []
        for (name, value) in json {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("has non-string __metadata__") }
                result.metadata = m
                continue
            }
            guard let e = value as? [String: Any], let dtype = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let off = e["data_offsets"] as? [Int], off.count == 2 else {
                throw fail("has a malformed entry for tensor '\(name)'")
            }
            guard let width = Self.elementSizes[dtype] else {
                throw fail("stores tensor '\(name)' as \(dtype); expected one of \(Self.elementSizes.keys.sorted().joined(separator: ", "))")
            }
            guard shape.allSatisfy({ $0 >= 0 }), off[0] >= 0, off[0] <= off[1], off[1] <= dataSize else {
                throw fail("has tensor '\(name)' outside the data (offsets \(off), \(dataSize) data bytes; truncated?)")
            }
            guard off[1] - off[0] == shape.reduce(1, *) * width else {
                throw fail("has tensor '\(name)' of shape \(shape) \(dtype) but \(off[1] - off[0]) bytes")
            }
            entries.append((name, off[0], off[1], dtype, shape))
        }
        entries.sort { $0.begin < $1.begin }
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + headerEnd
            for e in entries {
                let count = e.shape.reduce(1, *)
                let src = base + e.begin
                switch e.dtype {
                case "I64":
                    let values = (0..<count).map { Int64(littleEndian: src.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                    result.set(e.name, integers: values, shape: e.shape)
                case "I32":
                    let values = (0..<count).map { Int64(Int32(littleEndian: src.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
                    result.set(e.name, integers: values, shape: e.shape)
                case "I16":
                    let values = (0..<count).map { Int64(Int16(littleEndian: src.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
                    result.set(e.name, integers: values, shape: e.shape)
                case "I8":
                    result.set(e.name, integers: (0..<count).map { Int64(src.load(fromByteOffset: $0, as: Int8.self)) }, shape: e.shape)
                case "U8", "BOOL":
                    result.set(e.name, integers: (0..<count).map { Int64(src.load(fromByteOffset: $0, as: UInt8.self)) }, shape: e.shape)
                default:
                    var t = Tensor(uninitializedShape: e.shape)
                    let dst = t.mutablePointer()
                    for i in 0..<count {
                        switch e.dtype {
                        case "F32": dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                        case "F64": dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                        case "F16": dst[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
                        default: dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16)
                        }
                    }
                    result.set(e.name, t)
                }
            }
        }
        return result
    }

    /// The file's bytes. Tensors are written in ``order``; header keys are sorted so the same
    /// content always gives the same bytes.
    public func encoded() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        var layout: [(String, Int)] = []
        for name in order {
            if let t = floats[name] {
                header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]]
                layout.append((name, offset)); offset += t.count * 4
            } else if let i = integers[name] {
                header[name] = ["dtype": "I64", "shape": i.shape, "data_offsets": [offset, offset + i.values.count * 8]]
                layout.append((name, offset)); offset += i.values.count * 8
            }
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to an 8-byte boundary, as the reference writer does.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (name, _) in layout {
            if let t = floats[name] {
                t.withUnsafeBufferPointer { b in
                    b.withMemoryRebound(to: UInt32.self) { u in
                        for x in u { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
                    }
                }
            } else if let i = integers[name] {
                for x in i.values { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    /// Writes the file atomically (a temporary file renamed into place).
    public func write(to path: String) throws {
        let data = try encoded()
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SafeTensorsError(path: path, problem: "cannot be written: \(error.localizedDescription)")
        }
    }
}

/// A safetensors file that cannot be used, and why.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "safetensors file \(path) \(problem)" }
}
