import Crypto
import Foundation

/// SHA-256 digests as 64 lowercase hex digits (swift-crypto): experiment IDs, checkpoint
/// digests, the bodies of transferred files.
public enum ContentDigest {
    /// The digest of the UTF-8 bytes of `string`.
    public static func hex(_ string: String) -> String { hex(Array(string.utf8)) }

    /// The digest of `bytes`.
    public static func hex<Bytes: DataProtocol>(_ bytes: Bytes) -> String { format(SHA256.hash(data: bytes)) }

    /// The digest of the file at `path`, read in 1 MiB blocks (the file is never held in memory whole).
    public static func file(atPath path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update(data: block) }
        return format(hasher.finalize())
    }

    private static func format(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
