import Imaging
import Tensor

/// The standard per-image pipelines of ImageNet-style training and evaluation, with
/// torchvision's (and timm's) exact arithmetic on the PIL path.
public enum ImagePipeline: String, Sendable, CaseIterable {
    /// `RandomResizedCrop(224)` (bilinear) → `RandomHorizontalFlip()` → `ToTensor` →
    /// `Normalize(ImageNet)`: torchvision's reference training transform.
    case imagenetTrain = "imagenet-train"
    /// `Resize(256)` (bilinear, antialiased) → `CenterCrop(224)` → `ToTensor` →
    /// `Normalize(ImageNet)`: the evaluation preset of torchvision's V1 weights.
    case imagenetEval = "imagenet-eval"
    /// `Resize(232)` → `CenterCrop(224)` → ImageNet normalisation: ResNet-50 `IMAGENET1K_V2`'s preset.
    case imagenetEval232 = "imagenet-eval-232"
    /// timm's ViT eval for `vit_small_patch16_224.augreg_in21k_ft_in1k`: `Resize(248, bicubic)`
    /// (crop_pct 0.9) → `CenterCrop(224)` → `Normalize(0.5, 0.5)`.
    case vitEval = "vit-eval"
    /// The decoded image as is (no geometry), scaled to 0...1 without normalisation.
    case none

    /// ImageNet's per-channel mean and std (torchvision's constants).
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    /// The output side length, or nil when the output keeps the image's size.
    public var outputSize: Int? { self == .none ? nil : 224 }

    /// Whether the pipeline draws random numbers (crop and flip).
    public var isRandom: Bool { self == .imagenetTrain }

    /// Mean and std of the final normalisation.
    public var normalization: (mean: [Float], std: [Float]) {
        switch self {
        case .imagenetTrain, .imagenetEval, .imagenetEval232: (Self.imagenetMean, Self.imagenetStd)
        case .vitEval: ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
        case .none: ([0, 0, 0], [1, 1, 1])
        }
    }

    /// The geometric part: the 8-bit image the model's tensor is made from. Random pipelines draw,
    /// in order: up to ten (area, log-ratio) pairs and then the crop's row and column, then one
    /// number for the flip.
    public func geometry(_ image: RGBImage, generator: inout SeededGenerator) -> RGBImage {
        switch self {
        case .imagenetTrain:
            let box = ImageGeometry.randomResizedCropBox(height: image.height, width: image.width, using: &generator)
            let crop = ImageGeometry.resizedCrop(image, box: box, height: 224, width: 224)
            return generator.next() >> 63 == 1 ? crop.flippedHorizontally() : crop
        case .imagenetEval: return Self.resizeAndCrop(image, resize: 256, crop: 224, filter: .bilinear)
        case .imagenetEval232: return Self.resizeAndCrop(image, resize: 232, crop: 224, filter: .bilinear)
        case .vitEval: return Self.resizeAndCrop(image, resize: 248, crop: 224, filter: .bicubic)
        case .none: return image
        }
    }

    private static func resizeAndCrop(_ image: RGBImage, resize: Int, crop: Int, filter: ResamplingFilter) -> RGBImage {
        ImageGeometry.centerCrop(ImageGeometry.resizeShorterSide(image, to: resize, filter: filter), height: crop, width: crop)
    }

    /// `ToTensor` then `Normalize` into `output` (`height * width * 3` floats, `[H, W, C]`, the
    /// engine's layout): `(v / 255 - mean) / std` in float32, a true division, bit-identical to
    /// torchvision.
    public func normalize(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
        let (mean, std) = normalization
        var lut = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 { for v in 0..<256 { lut[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] } }
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<px.count { output[i] = lut[(i % 3) * 256 + Int(px[i])] }
        }
    }
}
