/// The one error type of the module: every failure names the file and says what was expected.
///
/// Nothing in a refused file is ever executed, and no partial result is returned: a
/// `TorchCheckpointError` means nothing was loaded.
public struct TorchCheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers that want to branch on it.
    public enum Kind: Sendable, Equatable {
        /// A global outside the allowlist (or on the inert-object denylist). The payload is `module.name`.
        case refusedGlobal(String)
        /// An opcode that is unknown or deliberately not supported.
        case unsupportedOpcode
        /// The bytes end early or a declared length runs past the end.
        case truncated
        /// The bytes are structurally wrong (bad stack, bad memo index, wrong argument types, ...).
        case malformed
        /// A well-formed file using a feature this reader refuses (compression, TorchScript, complex storages, ...).
        case unsupported
        /// A resource limit (nesting depth, object count, sizes) was exceeded.
        case limitExceeded
        /// The file could not be read from disk.
        case io
    }

    /// The category of the failure.
    public let kind: Kind
    /// The file (or logical name) the failure is about, as given by the caller.
    public let file: String
    /// The human-readable explanation, without the file prefix.
    public let message: String

    /// Creates an error; `message` must already have untrusted parts escaped (see `TorchCheckpointError.quote`).
    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    /// `"<file>: <message>"`.
    public var description: String { "\(file): \(message)" }

    /// Escapes untrusted text for an error message: control and non-ASCII bytes become `\xNN` / `\u{...}`
    /// escapes and the result is cut to `limit` characters, so a hostile file cannot inject terminal
    /// control sequences or megabytes of text into a log.
    public static func quote(_ text: String, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…"
                break
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7F {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value < 0x100 {
                    out += "\\x" + hex2(UInt8(scalar.value))
                } else {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                }
            }
            count += 1
        }
        return out
    }

    /// Escapes raw bytes (not necessarily UTF-8) for an error message.
    static func quote(bytes: some Collection<UInt8>, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for byte in bytes {
            if count >= limit {
                out += "…"
                break
            }
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "'") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "\\x" + hex2(byte)
            }
            count += 1
        }
        return out
    }

    static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    /// `0x…` formatting for byte offsets.
    static func hex(_ value: Int) -> String { "0x" + String(value, radix: 16) }
}
