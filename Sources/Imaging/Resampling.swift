import Foundation

/// The resampling filters torchvision's PIL path uses.
public enum ResamplingFilter: String, Sendable, CaseIterable {
    /// Triangle filter, support 1 (Pillow's BILINEAR).
    case bilinear
    /// Cubic convolution with a = -0.5, support 2 (Pillow's BICUBIC).
    case bicubic

    var support: Double { self == .bilinear ? 1 : 2 }

    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Pillow's antialiased resampling (`Image.resize`), reproduced bit for bit: per-axis kernels
/// scaled by the reduction factor, normalised, rounded to 22-bit fixed point; a horizontal pass
/// into an 8-bit intermediate, then a vertical pass, each rounding and clamping to 0...255.
public enum Resampler {
    private static let precisionBits = 22

    /// One output position's taps: the first input index and fixed-point weights.
    private struct Kernel {
        var first: Int
        var weights: [Int32]
    }

    /// The kernels mapping `inputLength` samples onto `outputLength` (Pillow's precompute_coeffs
    /// and normalize_coeffs_8bpc).
    private static func kernels(from inputLength: Int, to outputLength: Int, filter: ResamplingFilter) -> [Kernel] {
        let scale = Double(inputLength) / Double(outputLength)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let reciprocal = 1.0 / filterScale  // Pillow multiplies by 1/scale rather than dividing
        let unit = Double(1 << precisionBits)
        return (0..<outputLength).map { o in
            let center = (Double(o) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inputLength)
            var w = (0 ..< max(0, xmax - xmin)).map { k in filter.weight((Double(xmin + k) - center + 0.5) * reciprocal) }
            let sum = w.reduce(0, +)
            if sum != 0 { w = w.map { $0 / sum } }
            let fixed = w.map { v in Int32(v < 0 ? (v * unit - 0.5) : (v * unit + 0.5)) }
            return Kernel(first: xmin, weights: fixed)
        }
    }

    @inline(__always)
    private static func clip8(_ acc: Int32) -> UInt8 {
        if acc >= Int32(1) << (precisionBits + 8) { return 255 }
        if acc <= 0 { return 0 }
        return UInt8(acc >> Int32(precisionBits))
    }

    /// `image` resized to `width` x `height` with `filter`. The same size returns the image
    /// unchanged (as Pillow and torchvision do).
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        if width == image.width && height == image.height { return image }
        var current = image
        if width != image.width { current = horizontal(current, to: width, filter: filter) }
        if height != image.height { current = vertical(current, to: height, filter: filter) }
        return current
    }

    private static func horizontal(_ image: RGBImage, to width: Int, filter: ResamplingFilter) -> RGBImage {
        let ks = kernels(from: image.width, to: width, filter: filter)
        var out = [UInt8](repeating: 0, count: width * image.height * 3)
        let half = Int32(1) << Int32(precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let row = y * image.width * 3
                    for (x, k) in ks.enumerated() {
                        var r = half, g = half, b = half
                        var p = row + k.first * 3
                        for w in k.weights {
                            r &+= Int32(src[p]) &* w; g &+= Int32(src[p + 1]) &* w; b &+= Int32(src[p + 2]) &* w
                            p += 3
                        }
                        let d = (y * width + x) * 3
                        dst[d] = clip8(r); dst[d + 1] = clip8(g); dst[d + 2] = clip8(b)
                    }
                }
            }
        }
        return RGBImage(width: width, height: image.height, pixels: out)
    }

    private static func vertical(_ image: RGBImage, to height: Int, filter: ResamplingFilter) -> RGBImage {
        let ks = kernels(from: image.height, to: height, filter: filter)
        let rowBytes = image.width * 3
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        let half = Int32(1) << Int32(precisionBits - 1)
        var acc = [Int32](repeating: 0, count: rowBytes)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { acc in
                    for (y, k) in ks.enumerated() {
                        for i in 0..<rowBytes { acc[i] = half }
                        for (j, w) in k.weights.enumerated() {
                            let s = (k.first + j) * rowBytes
                            for i in 0..<rowBytes { acc[i] &+= Int32(src[s + i]) &* w }
                        }
                        let d = y * rowBytes
                        for i in 0..<rowBytes { dst[d + i] = clip8(acc[i]) }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: height, pixels: out)
    }
}
