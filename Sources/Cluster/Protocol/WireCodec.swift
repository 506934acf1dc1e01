import Foundation

/// A decoding failure: the message is malformed and is dropped (cluster.md §5.2 rule 7).
public struct WireError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Big-endian binary writer for message bodies: fixed-width integers, IEEE doubles, and
/// length-prefixed (u32) strings, byte strings and arrays.
public struct WireWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    public mutating func data(_ v: [UInt8]) { u32(UInt32(v.count)); bytes.append(contentsOf: v) }
    public mutating func string(_ v: String) { data(Array(v.utf8)) }
    public mutating func optionalString(_ v: String?) {
        bool(v != nil)
        if let v { string(v) }
    }
    public mutating func array<T>(_ items: [T], _ write: (inout WireWriter, T) -> Void) {
        u32(UInt32(items.count))
        for item in items { write(&self, item) }
    }
}

/// The reader matching `WireWriter`. Every read checks the remaining length and every string is
/// validated as UTF-8; lengths are bounded so a hostile length prefix cannot allocate much.
public struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0
    /// Longest string accepted (bytes). Spec and result JSON travel as `data`.
    public static let maxString = 64 * 1024
    /// Longest array accepted (elements).
    public static let maxArray = 100_000

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ n: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else {
            throw WireError("field '\(field)': truncated (needs \(n) bytes, \(bytes.count - offset) left)")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func u8(_ field: String) throws -> UInt8 { try take(1, field).first! }
    public mutating func bool(_ field: String) throws -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let b: throw WireError("field '\(field)': expected a boolean (0 or 1), got \(b)")
        }
    }
    public mutating func u32(_ field: String) throws -> UInt32 { try take(4, field).reduce(0) { $0 << 8 | UInt32($1) } }
    public mutating func u64(_ field: String) throws -> UInt64 { try take(8, field).reduce(0) { $0 << 8 | UInt64($1) } }
    public mutating func i32(_ field: String) throws -> Int32 { Int32(bitPattern: try u32(field)) }
    public mutating func f64(_ field: String) throws -> Double {
        let v = Double(bitPattern: try u64(field))
        guard v.isFinite else { throw WireError("field '\(field)': expected a finite number") }
        return v
    }
    public mutating func int(_ field: String) throws -> Int { Int(Int64(bitPattern: try u64(field))) }
    /// A non-negative integer no larger than `max`.
    public mutating func count(_ field: String, max: Int) throws -> Int {
        let v = try int(field)
        guard v >= 0, v <= max else { throw WireError("field '\(field)': expected 0...\(max), got \(v)") }
        return v
    }
    public mutating func data(_ field: String, max: Int) throws -> [UInt8] {
        let n = Int(try u32(field))
        guard n <= max else { throw WireError("field '\(field)': \(n) bytes exceeds the limit of \(max)") }
        return Array(try take(n, field))
    }
    public mutating func string(_ field: String, max: Int = WireReader.maxString) throws -> String {
        let raw = try data(field, max: max)
        guard let s = String(validating: raw, as: UTF8.self) else { throw WireError("field '\(field)': invalid UTF-8") }
        return s
    }
    public mutating func optionalString(_ field: String) throws -> String? { try bool(field) ? try string(field) : nil }
    /// A value of a closed vocabulary, sent as its raw string; anything else is refused by name.
    public mutating func choice<T: RawRepresentable & CaseIterable>(_ field: String, _ type: T.Type) throws -> T where T.RawValue == String {
        let s = try string(field, max: 64)
        guard let v = T(rawValue: s) else {
            throw WireError("field '\(field)': '\(PeerText.escaped(s))' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }
    /// A string of exactly 64 lowercase hex digits (experiment IDs, SHA-256 digests).
    public mutating func hex64(_ field: String) throws -> String {
        let s = try string(field, max: 64)
        guard s.utf8.count == 64, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw WireError("field '\(field)': expected 64 lowercase hex digits")
        }
        return s
    }
    public mutating func array<T>(_ field: String, _ read: (inout WireReader) throws -> T) throws -> [T] {
        let n = Int(try u32(field))
        guard n <= Self.maxArray else { throw WireError("field '\(field)': \(n) elements exceeds the limit") }
        var out = [T]()
        out.reserveCapacity(min(n, 1024))
        for _ in 0..<n { out.append(try read(&self)) }
        return out
    }
    /// Fails if bytes are left over.
    public func finish(_ command: String) throws {
        guard isAtEnd else { throw WireError("\(command): \(bytes.count - offset) unexpected trailing bytes") }
    }
}
