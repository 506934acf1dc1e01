/// Peer-supplied text made safe for a log line: every byte that is not printable ASCII
/// (control characters, newlines, DEL, bytes of invalid or non-ASCII UTF-8) is written as `\xNN`,
/// a backslash as `\\`, and the result is capped, so a peer can neither forge log lines nor flood
/// one entry.
public enum PeerText {
    /// The longest escaped text kept; longer text ends in `…(N bytes)`.
    public static let maximumLength = 96

    /// `bytes` escaped and capped for a log line.
    public static func escaped<Bytes: Collection>(_ bytes: Bytes, limit: Int = maximumLength) -> String where Bytes.Element == UInt8 {
        var out = ""
        out.reserveCapacity(min(bytes.count, limit) + 8)
        for b in bytes {
            if out.utf8.count >= limit { return out + "…(\(bytes.count) bytes)" }
            switch b {
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// `text`'s UTF-8 bytes escaped and capped for a log line.
    public static func escaped(_ text: String, limit: Int = maximumLength) -> String {
        escaped(Array(text.utf8), limit: limit)
    }
}
