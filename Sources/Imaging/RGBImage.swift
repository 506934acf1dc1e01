/// An 8-bit RGB image, rows top to bottom, pixels `R, G, B` interleaved (`[height, width, 3]`).
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `height * width * 3` bytes, row-major.
    public var pixels: [UInt8]

    /// An image from its bytes; `pixels.count` must be `width * height * 3` (a programming error
    /// otherwise).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The image with its columns reversed (torchvision's `hflip`).
    public func flippedHorizontally() -> RGBImage {
        var out = pixels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * width * 3
                    for x in 0..<width {
                        let s = row + x * 3, d = row + (width - 1 - x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// The `height` x `width` region whose top-left corner is (`top`, `left`). Parts outside the
    /// image are black (torchvision's crop pads with zeros).
    public func cropped(top: Int, left: Int, height h: Int, width w: Int) -> RGBImage {
        precondition(h >= 0 && w >= 0)
        var out = [UInt8](repeating: 0, count: h * w * 3)
        let x0 = max(0, left), x1 = min(width, left + w)
        if x1 > x0 {
            for y in max(0, top)..<min(height, top + h) {
                let src = (y * width + x0) * 3, dst = ((y - top) * w + (x0 - left)) * 3
                out.replaceSubrange(dst ..< dst + (x1 - x0) * 3, with: pixels[src ..< src + (x1 - x0) * 3])
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
