import CJPEG
import Foundation

/// JPEG through libjpeg-turbo with Pillow's settings (ISLOW DCT, fancy upsampling), then
/// Pillow's conversion to RGB: gray replicated, CMYK/YCCK inverted (Pillow's `CMYK;I` unpacking,
/// applied to every 4-component file) and mapped with Pillow's integer CMYK formula.
enum JPEGDecoder {
    static func decode(_ data: Data, path: String) throws(ImageError) -> RGBImage {
        var result = pb_jpeg_result()
        data.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            pb_jpeg_decode(base, UInt(raw.count), UInt(ImageDecoder.maxPixels), &result)
        }
        let message = cMessage(&result.message)
        guard let raw = result.pixels else {
            if result.truncated != 0 { throw .truncated(path: path, format: "JPEG") }
            if result.too_large != 0 {
                throw .tooLarge(path: path, width: Int(result.width), height: Int(result.height), limit: ImageDecoder.maxPixels)
            }
            throw .corrupt(path: path, format: "JPEG", reason: message.isEmpty ? "cannot be decoded" : message)
        }
        defer { free(raw) }
        if result.truncated != 0 { throw .truncated(path: path, format: "JPEG") }
        let w = Int(result.width), h = Int(result.height), n = w * h
        var out = [UInt8](repeating: 0, count: n * 3)
        out.withUnsafeMutableBufferPointer { dst in
            switch result.components {
            case 1:
                for i in 0..<n { let v = raw[i]; dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v }
            case 3:
                dst.baseAddress!.update(from: raw, count: n * 3)
            default:
                for i in 0..<n {
                    // Pillow's v = 255 - stored on all four channels, then nk = 255 - K = stored K.
                    let nk = Int(raw[4 * i + 3])
                    for c in 0..<3 {
                        let t = (255 - Int(raw[4 * i + c])) * nk + 128
                        dst[3 * i + c] = UInt8(clamping: nk - (((t >> 8) + t) >> 8))
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}

/// Writes 8-bit RGB images as baseline JPEG files (test data, example folders).
public enum JPEGEncoder {
    /// The JPEG bytes of `image` at `quality` (1...100; libjpeg's 4:2:0 chroma subsampling).
    public static func encode(_ image: RGBImage, quality: Int = 90) throws(ImageError) -> Data {
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let bytes = image.pixels.withUnsafeBufferPointer { px in
            message.withUnsafeMutableBufferPointer { msg in
                pb_jpeg_encode_rgb(px.baseAddress, Int32(image.width), Int32(image.height), Int32(min(max(quality, 1), 100)),
                                   &size, msg.baseAddress)
            }
        }
        guard let bytes else {
            throw .corrupt(path: "<jpeg encoder>", format: "JPEG",
                           reason: cMessage(message))
        }
        defer { free(bytes) }
        return Data(bytes: bytes, count: Int(size))
    }
}
