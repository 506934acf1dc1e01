import CZlib
import Foundation

/// Writes a state dict as `torch.save` does (zip format, pickle protocol 2, STORED records
/// aligned to 64 bytes), so `torch.load(f, weights_only=True)` gives an `OrderedDict` of
/// contiguous CPU tensors. Only float32 and int64 tensors are written.
public enum TorchSaveWriter {
    /// One entry of the state dict.
    public struct Entry: Sendable {
        public enum Values: Sendable { case float32([Float]), int64([Int64]) }
        public var name: String
        public var shape: [Int]
        public var values: Values

        public init(name: String, shape: [Int], values: Values) {
            self.name = name; self.shape = shape; self.values = values
        }
    }

    /// The file's bytes; records live under `archive/` as when torch writes to a buffer, or under
    /// the file's stem when `archiveName` is given (as `torch.save(obj, "stem.pth")` does).
    public static func encode(_ entries: [Entry], archiveName: String = "archive") -> [UInt8] {
        var records: [(String, [UInt8])] = [("\(archiveName)/data.pkl", pickle(entries))]
        records.append(("\(archiveName)/byteorder", Array("little".utf8)))
        for (key, entry) in entries.enumerated() {
            let data: [UInt8]
            switch entry.values {
            case .float32(let v): data = v.flatMap { le(UInt64($0.bitPattern), 4) }
            case .int64(let v): data = v.flatMap { le(UInt64(bitPattern: $0), 8) }
            }
            records.append(("\(archiveName)/data/\(key)", data))
        }
        records.append(("\(archiveName)/version", Array("3\n".utf8)))
        return zip(records)
    }

    /// Writes `entries` to `path` (records under the file name's stem).
    public static func write(_ entries: [Entry], to path: String) throws {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        try Data(encode(entries, archiveName: stem.isEmpty ? "archive" : stem)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: Pickle

    private static func pickle(_ entries: [Entry]) -> [UInt8] {
        var p: [UInt8] = [0x80, 0x02]                           // PROTO 2
        func global(_ module: String, _ name: String) { p += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        func string(_ s: String) { let b = Array(s.utf8); p += [0x58] + le(UInt64(b.count), 4) + b }  // BINUNICODE
        func int(_ v: Int) {
            if v >= 0 && v < 256 { p += [0x4B, UInt8(v)] }                     // BININT1
            else if v >= 0 && v < 65536 { p += [0x4D] + le(UInt64(v), 2) }    // BININT2
            else if v >= Int(Int32.min) && v <= Int(Int32.max) { p += [0x4A] + le(UInt64(bitPattern: Int64(v)), 4) }  // BININT
            else { p += [0x8A, 0x08] + le(UInt64(bitPattern: Int64(v)), 8) }   // LONG1
        }
        func tuple(_ values: [Int]) {
            if values.isEmpty { p.append(0x29); return }                          // EMPTY_TUPLE
            p.append(0x28); values.forEach(int); p.append(0x74)                  // MARK ... TUPLE
        }
        func orderedDict() { global("collections", "OrderedDict"); p += [0x29, 0x52] }  // () REDUCE
        orderedDict()
        if !entries.isEmpty { p.append(0x28) }                                    // MARK
        for (key, entry) in entries.enumerated() {
            string(entry.name)
            global("torch._utils", "_rebuild_tensor_v2")
            p.append(0x28)                                                       // MARK (args)
            p.append(0x28)                                                       // MARK (persistent id)
            string("storage")
            switch entry.values {
            case .float32: global("torch", "FloatStorage")
            case .int64: global("torch", "LongStorage")
            }
            string("\(key)")
            string("cpu")
            int(entry.shape.reduce(1, *))
            p.append(0x74)                                                       // TUPLE
            p.append(0x51)                                                       // BINPERSID
            int(0)                                                               // storage offset
            tuple(entry.shape)
            var stride = [Int](repeating: 1, count: entry.shape.count)
            for d in stride.indices.reversed().dropFirst() { stride[d] = stride[d + 1] * Swift.max(entry.shape[d + 1], 1) }
            tuple(stride)
            p.append(0x89)                                                       // NEWFALSE (requires_grad)
            orderedDict()                                                        // backward hooks
            p.append(0x74)                                                       // TUPLE
            p.append(0x52)                                                       // REDUCE
        }
        if !entries.isEmpty { p.append(0x75) }                                    // SETITEMS
        p.append(0x2E)                                                           // STOP
        return p
    }

    // MARK: Zip (STORED, data 64-byte aligned through an extra field, as torch writes)

    private static func zip(_ records: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        for (name, data) in records {
            let nameBytes = Array(name.utf8)
            let crc = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            let offset = out.count
            let headerEnd = offset + 30 + nameBytes.count + 4
            let padding = (64 - headerEnd % 64) % 64
            let extra: [UInt8] = [0x46, 0x42] + le(UInt64(padding), 2) + [UInt8](repeating: 0x5A, count: padding)  // "FB"
            out += le(0x0403_4B50, 4) + le(20, 2) + le(0x0800, 2) + le(0, 2) + le(0, 2) + le(0, 2)
            out += le(UInt64(crc), 4) + le(UInt64(data.count), 4) + le(UInt64(data.count), 4)
            out += le(UInt64(nameBytes.count), 2) + le(UInt64(extra.count), 2) + nameBytes + extra + data
            central += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0x0800, 2) + le(0, 2) + le(0, 2) + le(0, 2)
            central += le(UInt64(crc), 4) + le(UInt64(data.count), 4) + le(UInt64(data.count), 4)
            central += le(UInt64(nameBytes.count), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
            central += le(UInt64(offset), 4) + nameBytes
        }
        let centralOffset = out.count
        out += central
        out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(UInt64(records.count), 2) + le(UInt64(records.count), 2)
        out += le(UInt64(central.count), 4) + le(UInt64(centralOffset), 4) + le(0, 2)
        return out
    }

    private static func le(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
