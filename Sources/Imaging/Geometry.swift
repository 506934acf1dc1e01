import Foundation

/// torchvision's geometric transforms on PIL images, with its exact size and offset arithmetic.
public enum ImageGeometry {
    /// `Resize(size)` with an int: the shorter side becomes `size`, the longer
    /// `int(size * long / short)`; returns (height, width).
    public static func shorterSideSize(height: Int, width: Int, to size: Int) -> (height: Int, width: Int) {
        if width <= height {
            return (Int(Double(size) * Double(height) / Double(width)), size)
        }
        return (size, Int(Double(size) * Double(width) / Double(height)))
    }

    /// `Resize(size)` (shorter side) with the given filter; a no-op when the size is unchanged.
    public static func resizeShorterSide(_ image: RGBImage, to size: Int, filter: ResamplingFilter) -> RGBImage {
        let (h, w) = shorterSideSize(height: image.height, width: image.width, to: size)
        return Resampler.resize(image, width: w, height: h, filter: filter)
    }

    /// `CenterCrop`'s top-left corner: `int(round((H - h) / 2))` with Python's half-to-even round.
    public static func centerCropOrigin(height: Int, width: Int, cropHeight: Int, cropWidth: Int) -> (top: Int, left: Int) {
        (Int((Double(height - cropHeight) / 2).rounded(.toNearestOrEven)),
         Int((Double(width - cropWidth) / 2).rounded(.toNearestOrEven)))
    }

    /// `CenterCrop(height, width)`: a crop larger than the image is first zero-padded, left/top by
    /// `(c - s) // 2` and right/bottom by the rest, as torchvision does.
    public static func centerCrop(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
        var img = image
        if height > img.height || width > img.width {
            let padTop = max(0, height - img.height) / 2, padLeft = max(0, width - img.width) / 2
            let padded = (max(height, img.height), max(width, img.width))
            img = img.cropped(top: -padTop, left: -padLeft, height: padded.0, width: padded.1)
        }
        let (top, left) = centerCropOrigin(height: img.height, width: img.width, cropHeight: height, cropWidth: width)
        return img.cropped(top: top, left: left, height: height, width: width)
    }

    /// A crop box `(top, left, height, width)`.
    public struct CropBox: Equatable, Sendable {
        public var top: Int, left: Int, height: Int, width: Int
        public init(top: Int, left: Int, height: Int, width: Int) {
            self.top = top; self.left = left; self.height = height; self.width = width
        }
    }

    /// `RandomResizedCrop.get_params`: up to 10 draws of an area fraction uniform in `scale` and a
    /// log-uniform aspect ratio in `ratio`; the first box that fits wins, at a uniform position;
    /// otherwise the central crop clamped to the ratio range. The draws come from `generator`
    /// (so they are not torch's stream); everything else is torchvision's arithmetic.
    public static func randomResizedCropBox<G: RandomNumberGenerator>(
        height: Int, width: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
        using generator: inout G
    ) -> CropBox {
        let area = Double(height * width)
        let logRatio = (Double(Float(log(ratio.lowerBound))), Double(Float(log(ratio.upperBound))))
        for _ in 0..<10 {
            let targetArea = area * uniform(scale.lowerBound, scale.upperBound, using: &generator)
            let aspect = exp(uniform(logRatio.0, logRatio.1, using: &generator))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let i = Int.random(in: 0...(height - h), using: &generator)
                let j = Int.random(in: 0...(width - w), using: &generator)
                return CropBox(top: i, left: j, height: h, width: w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return CropBox(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// `F.resized_crop`: the box cut out, then resized to `height` x `width` (no aspect rule).
    public static func resizedCrop(_ image: RGBImage, box: CropBox, height: Int, width: Int,
                                   filter: ResamplingFilter = .bilinear) -> RGBImage {
        Resampler.resize(image.cropped(top: box.top, left: box.left, height: box.height, width: box.width),
                         width: width, height: height, filter: filter)
    }

    /// A float32-precision uniform draw in [a, b), as torch's `uniform_` on a float tensor gives.
    private static func uniform<G: RandomNumberGenerator>(_ a: Double, _ b: Double, using g: inout G) -> Double {
        let u = Double(Float.random(in: 0..<1, using: &g))
        return Double(Float(a + (b - a) * u))
    }
}
