import Foundation

/// Decodes JPEG and PNG files into RGB exactly as Pillow's `Image.open(f).convert("RGB")` does
/// (what torchvision's ImageFolder loader returns): the format is chosen by the file's first
/// bytes, never by its name; no EXIF rotation and no colour management are applied.
public enum ImageDecoder {
    /// Images with more pixels than this are refused before any pixel buffer is allocated
    /// (Pillow's decompression-bomb error threshold is 2 x 89,478,485).
    public static let maxPixels = 178_956_970

    /// Reads and decodes the file at `path`.
    public static func decode(contentsOf path: String) throws(ImageError) -> RGBImage {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try decode(data, path: path)
    }

    /// Decodes the bytes of an image file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws(ImageError) -> RGBImage {
        switch ImageFormat(signature: data) {
        case .jpeg: return try JPEGDecoder.decode(data, path: path)
        case .png: return try PNGDecoder.decode(data, path: path)
        case .other(let name): throw .unsupportedFormat(path: path, format: name)
        case .unknown:
            let head = data.prefix(8).map { byte in
                let s = String(byte, radix: 16)
                return s.count == 1 ? "0" + s : s
            }.joined(separator: " ")
            throw .unidentified(path: path, firstBytes: head.isEmpty ? "none: the file is empty" : head)
        }
    }
}

/// An image container told apart by its signature, as Pillow's `Image.open` does.
public enum ImageFormat: Equatable, Sendable {
    case jpeg
    case png
    /// A format Pillow would open that this project does not decode (named for the error).
    case other(String)
    case unknown

    /// The format the first bytes announce.
    public init(signature data: Data) {
        let b = [UInt8](data.prefix(12))
        func starts(_ p: [UInt8]) -> Bool { b.count >= p.count && Array(b[0..<p.count]) == p }
        if starts([0xFF, 0xD8, 0xFF]) { self = .jpeg }
        else if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png }
        else if starts(Array("GIF8".utf8)) { self = .other("GIF") }
        else if starts(Array("BM".utf8)) { self = .other("BMP") }
        else if b.count >= 12, starts(Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { self = .other("WebP") }
        else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { self = .other("TIFF") }
        else if b.count >= 2, b[0] == 0x50, (0x31...0x36).contains(b[1]) { self = .other("PPM/PGM") }
        else { self = .unknown }
    }
}
