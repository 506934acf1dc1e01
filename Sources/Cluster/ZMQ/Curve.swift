import CZeroMQ
import Foundation

/// A CURVE key pair as 40-character Z85 text (cluster.md §13).
public struct CurveKeyPair: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String

    /// A fresh random key pair from libzmq.
    public static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: Z85.text(pub), secretKey: Z85.text(sec))
    }

    /// The key file text: `public = KEY` and `secret = KEY` lines.
    public var fileText: String { "# prunebench CURVE key pair; keep secret\npublic = \(publicKey)\nsecret = \(secretKey)\n" }

    /// Reads a key file written by `prunebench keygen` (the secret must derive the public key).
    public static func load(_ path: String) throws -> CurveKeyPair {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ClusterError("\(path): cannot read the key file")
        }
        var values = [String: String]()
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let parts = t.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { throw ClusterError("\(path): expected 'public = KEY' and 'secret = KEY' lines, got '\(t)'") }
            values[parts[0]] = parts[1]
        }
        guard let pub = values["public"], let sec = values["secret"] else {
            throw ClusterError("\(path): expected 'public = KEY' and 'secret = KEY' lines")
        }
        for (name, key) in [("public", pub), ("secret", sec)] where !Z85.isKey(key) {
            throw ClusterError("\(path): field '\(name)': expected a 40-character Z85 key")
        }
        var derived = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&derived, sec) == 0, Z85.text(derived) == pub else {
            throw ClusterError("\(path): the secret key does not match the public key")
        }
        return CurveKeyPair(publicKey: pub, secretKey: sec)
    }

    /// Reads a public key: a file holding the key (alone, or as `public = KEY`, or `ID KEY`), or the key itself.
    public static func loadPublicKey(_ pathOrKey: String) throws -> String {
        if Z85.isKey(pathOrKey) && !FileManager.default.fileExists(atPath: pathOrKey) { return pathOrKey }
        guard let text = try? String(contentsOfFile: pathOrKey, encoding: .utf8) else {
            throw ClusterError("\(pathOrKey): cannot read the public key file")
        }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            // Z85 keys may contain '=', so split on whitespace only ("public = KEY", "ID KEY", "KEY").
            if let key = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init), Z85.isKey(key),
               !line.hasPrefix("secret") {
                return key
            }
        }
        throw ClusterError("\(pathOrKey): expected a 40-character Z85 public key")
    }
}

/// Z85 (ZeroMQ RFC 32) helpers.
public enum Z85 {
    static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")

    /// Whether `text` is a 40-character Z85 string (a 32-byte key).
    public static func isKey(_ text: String) -> Bool { text.count == 40 && text.allSatisfy(alphabet.contains) }

    /// Encodes bytes whose count is a multiple of 4.
    public static func encode(_ bytes: [UInt8]) -> String {
        precondition(bytes.count % 4 == 0, "Z85 needs a multiple of 4 bytes")
        var out = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        _ = zmq_z85_encode(&out, bytes, bytes.count)
        return text(out)
    }

    /// The text of a NUL-terminated C buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The allowlist of worker public keys: one `WORKER_ID Z85_PUBLIC_KEY` per line, `#` comments.
/// Reread when the file changes, so adding a node needs no restart (cluster.md §13).
public struct Allowlist: Sendable, Equatable {
    /// Public key → worker ID.
    public var workers: [String: String]

    public init(workers: [String: String]) { self.workers = workers }

    public static func parse(_ text: String, source: String) throws -> Allowlist {
        var workers = [String: String]()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let parts = t.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 2, Z85.isKey(parts[1]), WorkerID.isValid(parts[0]) else {
                throw ClusterError("\(source):\(n + 1): expected 'WORKER_ID PUBLIC_KEY' (a 40-character Z85 key), got '\(t)'")
            }
            workers[parts[1]] = parts[0]
        }
        return Allowlist(workers: workers)
    }

    public static func load(_ path: String) throws -> Allowlist {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ClusterError("\(path): cannot read the allowlist") }
        return try parse(text, source: path)
    }
}

/// Worker identities (cluster.md §4.4).
public enum WorkerID {
    /// 1–255 bytes of printable ASCII without spaces, not starting with 0x00.
    public static func isValid(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return !bytes.isEmpty && bytes.count <= 255 && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// A cluster failure with one clear message.
public struct ClusterError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
