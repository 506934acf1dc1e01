/// Why an image file could not be turned into RGB pixels. Every message names the file.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read from disk.
    case unreadable(path: String, reason: String)
    /// The data ends before the image does (Pillow: "image file is truncated").
    case truncated(path: String, format: String)
    /// The data is damaged; `reason` is the decoder's.
    case corrupt(path: String, format: String, reason: String)
    /// A known image format this project does not decode (only JPEG and PNG are supported).
    case unsupportedFormat(path: String, format: String)
    /// The bytes are not an image in any format recognised by its signature.
    case unidentified(path: String, firstBytes: String)
    /// The image is larger than the decoder accepts.
    case tooLarge(path: String, width: Int, height: Int, limit: Int)

    /// A one-line message naming the file and what was expected.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read image file: \(reason)"
        case let .truncated(path, format):
            return "\(path): \(format) image file is truncated"
        case let .corrupt(path, format, reason):
            return "\(path): corrupt \(format) data: \(reason)"
        case let .unsupportedFormat(path, format):
            return "\(path): \(format) images are not supported (expected JPEG or PNG)"
        case let .unidentified(path, bytes):
            return "\(path): not a JPEG or PNG image (first bytes \(bytes))"
        case let .tooLarge(path, w, h, limit):
            return "\(path): image of \(w)x\(h) pixels exceeds the limit of \(limit) pixels"
        }
    }
}

/// The text of a NUL-terminated C message buffer (a fixed-size char array or tuple).
func cMessage<T>(_ buffer: inout T) -> String {
    withUnsafeBytes(of: &buffer) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

/// The text of a NUL-terminated C message held in an array.
func cMessage(_ chars: [CChar]) -> String {
    String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
