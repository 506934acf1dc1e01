import CPNG
import CZlib
import Foundation

/// PNG through libpng's low-level API with the transformations that reproduce Pillow's
/// `convert("RGB")` (palette lookup with tRNS ignored, high byte of 16-bit samples, alpha dropped
/// without compositing, gray replicated), plus Pillow's clip of 16-bit gray to 0...255.
/// Like Pillow, a bad CRC is an error in every chunk but IDAT.
enum PNGDecoder {
    static func decode(_ data: Data, path: String) throws(ImageError) -> RGBImage {
        try checkChunkCRCs(data, path: path)
        var result = pb_png_result()
        data.withUnsafeBytes { raw in
            pb_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, UInt(ImageDecoder.maxPixels), &result)
        }
        let message = cMessage(&result.message)
        guard let raw = result.pixels else {
            if result.too_large != 0 {
                throw .tooLarge(path: path, width: Int(result.width), height: Int(result.height), limit: ImageDecoder.maxPixels)
            }
            if message.contains("truncated") || message.contains("Not enough image data") {
                throw .truncated(path: path, format: "PNG")
            }
            throw .corrupt(path: path, format: "PNG", reason: message.isEmpty ? "cannot be decoded" : message)
        }
        defer { free(raw) }
        let w = Int(result.width), h = Int(result.height), n = w * h
        var out = [UInt8](repeating: 0, count: n * 3)
        out.withUnsafeMutableBufferPointer { dst in
            if result.gray16 != 0 {
                // Pillow opens 16-bit gray as I;16 and its RGB conversion clips (no v >> 8).
                for i in 0..<n {
                    let v = Int(raw[2 * i]) << 8 | Int(raw[2 * i + 1])
                    let g = UInt8(min(v, 255))
                    dst[3 * i] = g; dst[3 * i + 1] = g; dst[3 * i + 2] = g
                }
            } else {
                dst.baseAddress!.update(from: raw, count: n * 3)
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Walks the chunk list and checks the CRC of every complete chunk except IDAT.
    private static func checkChunkCRCs(_ data: Data, path: String) throws(ImageError) {
        let bytes = [UInt8](data)
        var offset = 8
        while offset + 8 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let type = String(decoding: bytes[offset + 4 ..< offset + 8].map { (0x20...0x7E).contains($0) ? $0 : 0x3F }, as: UTF8.self)
            let end = offset + 8 + length + 4
            guard length <= 0x7FFF_FFFF, end <= bytes.count else { return }  // libpng reports truncation
            if type != "IDAT" {
                let stored = UInt(bytes[end - 4]) << 24 | UInt(bytes[end - 3]) << 16 | UInt(bytes[end - 2]) << 8 | UInt(bytes[end - 1])
                let computed = bytes.withUnsafeBufferPointer { buf in
                    crc32(0, buf.baseAddress! + offset + 4, uInt(length + 4))
                }
                if UInt(computed) != stored {
                    throw .corrupt(path: path, format: "PNG", reason: "bad checksum in chunk \(type)")
                }
            }
            if type == "IEND" { return }
            offset = end
        }
    }
}

/// Writes 8-bit RGB images as PNG files (previews, test data).
public enum PNGEncoder {
    /// The PNG bytes of `image`.
    public static func encode(_ image: RGBImage) throws(ImageError) -> Data {
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let bytes = image.pixels.withUnsafeBufferPointer { px in
            message.withUnsafeMutableBufferPointer { msg in
                pb_png_encode_rgb(px.baseAddress, Int32(image.width), Int32(image.height), &size, msg.baseAddress)
            }
        }
        guard let bytes else {
            throw .corrupt(path: "<png encoder>", format: "PNG", reason: cMessage(message))
        }
        defer { free(bytes) }
        return Data(bytes: bytes, count: size)
    }
}
