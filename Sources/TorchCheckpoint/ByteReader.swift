import Foundation

/// A bounds-checked cursor over bytes. Every read checks the remaining length first, so declared
/// lengths larger than the data fail with `.truncated` instead of allocating or crashing.
struct ByteReader {
    let bytes: [UInt8]
    /// The first index this reader may touch.
    let start: Int
    /// One past the last index this reader may touch.
    let end: Int
    var position: Int
    /// Used in error messages.
    let file: String
    /// What is being read ("data.pkl", "the legacy storage area"), for error messages.
    let part: String

    init(bytes: [UInt8], start: Int = 0, end: Int? = nil, file: String, part: String) {
        self.bytes = bytes
        self.start = max(0, min(start, bytes.count))
        self.end = max(self.start, min(end ?? bytes.count, bytes.count))
        self.position = self.start
        self.file = file
        self.part = part
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }
    /// Offset relative to `start`, as shown in errors.
    var relativeOffset: Int { position - start }

    func truncated(_ what: String, needed: Int) -> TorchCheckpointError {
        TorchCheckpointError(.truncated, file: file,
                             "\(part) is truncated: \(what) at offset \(TorchCheckpointError.hex(relativeOffset)) needs \(needed) byte(s), \(remaining) left")
    }

    mutating func u8(_ what: String) throws -> UInt8 {
        guard position < end else { throw truncated(what, needed: 1) }
        defer { position += 1 }
        return bytes[position]
    }

    /// Reads `count` bytes as a range of `bytes` (no copy).
    mutating func range(_ count: Int, _ what: String) throws -> Range<Int> {
        guard count >= 0, count <= remaining else { throw truncated(what, needed: count) }
        defer { position += count }
        return position..<(position + count)
    }

    mutating func take(_ count: Int, _ what: String) throws -> ArraySlice<UInt8> {
        bytes[try range(count, what)]
    }

    mutating func uintLE(_ width: Int, _ what: String) throws -> UInt64 {
        let r = try range(width, what)
        var value: UInt64 = 0
        for (shift, index) in r.enumerated() { value |= UInt64(bytes[index]) << (8 * UInt64(shift)) }
        return value
    }

    mutating func u16(_ what: String) throws -> UInt16 { UInt16(try uintLE(2, what)) }
    mutating func u32(_ what: String) throws -> UInt32 { UInt32(try uintLE(4, what)) }
    mutating func u64(_ what: String) throws -> UInt64 { try uintLE(8, what) }

    /// Reads a line ending in `\n` (the newline is consumed, not returned), at most `limit` bytes.
    mutating func line(_ what: String, limit: Int = 1024) throws -> ArraySlice<UInt8> {
        var index = position
        while index < end && index - position <= limit {
            if bytes[index] == 0x0A {
                let slice = bytes[position..<index]
                position = index + 1
                return slice
            }
            index += 1
        }
        if index >= end { throw truncated(what + " (no newline)", needed: 1) }
        throw TorchCheckpointError(.limitExceeded, file: file,
                                   "\(part): \(what) at offset \(TorchCheckpointError.hex(relativeOffset)) is longer than \(limit) bytes")
    }
}

/// Reads an unsigned little-endian integer at an absolute index; the caller has checked bounds.
@inline(__always)
func readLE(_ bytes: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<width { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
    return value
}

/// Decodes UTF-8, or returns nil if the bytes are not valid UTF-8.
func strictUTF8(_ bytes: ArraySlice<UInt8>) -> String? {
    String(bytes: bytes, encoding: .utf8)
}
