import Tensor

/// How images are turned into network inputs: per sample, deterministic given a generator.
///
/// Order: random crop of the original size from the zero-padded image, random horizontal flip,
/// scaling to [0, 1] and per-channel normalisation `(x - mean) / std`, optional resize, and
/// replication of a single channel to `outputChannels`. Padding is black (pixel value 0) before
/// normalisation, as torchvision's `RandomCrop(padding:)` before `Normalize`; normalising before
/// the resize gives the same result as after, since both resize modes are affine.
public struct TransformConfig: Sendable, Equatable {
    /// Resampling to a different resolution.
    public struct Resize: Sendable, Equatable {
        /// Interpolation rule.
        public enum Mode: String, Sendable {
            /// The nearest source pixel (pixel centres aligned, like PyTorch's `nearest-exact`).
            case nearest
            /// Bilinear interpolation with half-pixel centres (PyTorch `align_corners=False`).
            case bilinear
        }
        /// Output height in pixels.
        public var height: Int
        /// Output width in pixels.
        public var width: Int
        /// Interpolation rule.
        public var mode: Mode
        /// A resize to `height` x `width`.
        public init(height: Int, width: Int, mode: Mode = .bilinear) {
            self.height = height; self.width = width; self.mode = mode
        }
    }

    /// Per-channel mean of the [0, 1]-scaled pixels; one value applies to every channel.
    public var mean: [Float]
    /// Per-channel standard deviation; one value applies to every channel.
    public var std: [Float]
    /// Random crop padding in pixels: the image is zero-padded by this much on every side and a
    /// crop of the original size taken at a uniformly random offset. 0 disables the crop.
    public var cropPadding: Int
    /// Whether to flip images left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// Resampling after augmentation; nil keeps the data set's resolution.
    public var resize: Resize?
    /// Channels of the output; nil keeps the data set's. A 1-channel source can be replicated to
    /// any count (3 for models expecting RGB); otherwise it must equal the source's.
    public var outputChannels: Int?
    /// For file-backed data sets: the pipeline that decodes files become tensors through (its
    /// own crop, flip and normalisation; the fields above do not apply).
    public var pipeline: ImagePipeline?

    /// The transform of decoded image files: `pipeline` does everything.
    public init(pipeline: ImagePipeline) {
        self.init()
        self.pipeline = pipeline
    }

    /// A transform; the defaults only scale pixels to [0, 1].
    public init(mean: [Float] = [0], std: [Float] = [1], cropPadding: Int = 0, horizontalFlip: Bool = false,
                resize: Resize? = nil, outputChannels: Int? = nil) {
        self.mean = mean
        self.std = std
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.resize = resize
        self.outputChannels = outputChannels
    }

    /// Whether the transform draws random numbers (crop or flip enabled).
    public var isRandom: Bool { pipeline?.isRandom ?? (cropPadding > 0 || horizontalFlip) }

    /// Fashion-MNIST normalisation; with `augment`, random crop with padding 2 (of 28) and
    /// horizontal flip. `resizeTo` upsamples (bilinear) for models built for larger inputs;
    /// `outputChannels: 3` replicates the grey channel.
    public static func fashionMNIST(augment: Bool, cropPadding: Int = 2, resizeTo size: Int? = nil,
                                    outputChannels: Int? = nil) -> TransformConfig {
        TransformConfig(mean: FashionMNIST.mean, std: FashionMNIST.std, cropPadding: augment ? cropPadding : 0,
                        horizontalFlip: augment, resize: size.map { Resize(height: $0, width: $0) },
                        outputChannels: outputChannels)
    }

    /// CIFAR-10 normalisation; with `augment`, random crop with padding 4 (of 32) and flip.
    public static func cifar10(augment: Bool, resizeTo size: Int? = nil) -> TransformConfig {
        TransformConfig(mean: CIFAR.cifar10Mean, std: CIFAR.cifar10Std, cropPadding: augment ? 4 : 0,
                        horizontalFlip: augment, resize: size.map { Resize(height: $0, width: $0) })
    }

    /// CIFAR-100 normalisation; with `augment`, random crop with padding 4 (of 32) and flip.
    public static func cifar100(augment: Bool, resizeTo size: Int? = nil) -> TransformConfig {
        TransformConfig(mean: CIFAR.cifar100Mean, std: CIFAR.cifar100Std, cropPadding: augment ? 4 : 0,
                        horizontalFlip: augment, resize: size.map { Resize(height: $0, width: $0) })
    }
}

/// A ``TransformConfig`` prepared for images of one geometry: lookup tables and resampling
/// indices computed once, then applied to any number of samples.
public struct ImageTransform: Sendable {
    /// The configuration.
    public let config: TransformConfig
    /// Source channels, height and width.
    public let inputChannels: Int, inputHeight: Int, inputWidth: Int
    /// Output height, width and channels: one sample is `[outputHeight, outputWidth, outputChannels]`.
    public let outputHeight: Int, outputWidth: Int, outputChannels: Int
    /// `lut[c * 256 + v]`: normalised value of pixel byte `v` in source channel `c`.
    private let lut: [Float]
    private let rows: [Tap], cols: [Tap]

    /// Two source positions and the weight of the second (nearest: the same position twice).
    private struct Tap: Sendable { var i0: Int32; var i1: Int32; var w: Float }

    /// Elements of one transformed sample.
    public var outputSampleSize: Int { outputHeight * outputWidth * outputChannels }

    /// Prepares `config` for `channels` x `height` x `width` images.
    ///
    /// - Throws: ``DatasetError/invalidConfiguration(_:)`` when the mean or std count fits neither
    ///   1 nor `channels`, a std is not positive, the padding is negative, the resize is not
    ///   positive or the output channels cannot be made from the source's.
    public init(_ config: TransformConfig, channels: Int, height: Int, width: Int) throws(DatasetError) {
        guard channels > 0, height > 0, width > 0 else {
            throw .invalidConfiguration("input geometry \(channels)x\(height)x\(width)")
        }
        for (name, v) in [("mean", config.mean), ("std", config.std)] where v.count != 1 && v.count != channels {
            throw .invalidConfiguration("\(v.count) \(name) values for \(channels) channels")
        }
        guard config.std.allSatisfy({ $0 > 0 && $0.isFinite }), config.mean.allSatisfy(\.isFinite) else {
            throw .invalidConfiguration("std must be positive and mean finite: mean \(config.mean), std \(config.std)")
        }
        guard config.cropPadding >= 0 else { throw .invalidConfiguration("crop padding \(config.cropPadding)") }
        let outC = config.outputChannels ?? channels
        guard outC == channels || (channels == 1 && outC > 0) else {
            throw .invalidConfiguration("cannot make \(outC) output channels from \(channels)")
        }
        if let r = config.resize, r.height <= 0 || r.width <= 0 {
            throw .invalidConfiguration("resize to \(r.height)x\(r.width)")
        }
        self.config = config
        if let pipeline = config.pipeline {
            // Decoded files: the pipeline makes every image its output size, in RGB.
            let side = pipeline.outputSize ?? height
            (inputChannels, inputHeight, inputWidth) = (3, side, side)
            (outputHeight, outputWidth, outputChannels) = (side, side, 3)
            (lut, rows, cols) = ([], [], [])
            return
        }
        (inputChannels, inputHeight, inputWidth) = (channels, height, width)
        (outputHeight, outputWidth, outputChannels) = (config.resize?.height ?? height, config.resize?.width ?? width, outC)
        var lut = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            let m = config.mean.count == 1 ? config.mean[0] : config.mean[c]
            let s = config.std.count == 1 ? config.std[0] : config.std[c]
            for v in 0..<256 { lut[c * 256 + v] = (Float(v) / 255 - m) / s }
        }
        self.lut = lut
        let mode = config.resize?.mode ?? .nearest
        rows = Self.taps(from: height, to: outputHeight, mode: mode)
        cols = Self.taps(from: width, to: outputWidth, mode: mode)
    }

    private static func taps(from n: Int, to m: Int, mode: TransformConfig.Resize.Mode) -> [Tap] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            switch mode {
            case .nearest:
                let i = Int32(min(n - 1, Int((Double(o) + 0.5) * scale)))
                return Tap(i0: i, i1: i, w: 0)
            case .bilinear:
                let f = min(max((Double(o) + 0.5) * scale - 0.5, 0), Double(n - 1))
                let i0 = Int(f)
                return Tap(i0: Int32(i0), i1: Int32(min(i0 + 1, n - 1)), w: Float(f - Double(i0)))
            }
        }
    }

    /// Transforms one image.
    ///
    /// - Parameters:
    ///   - image: `inputChannels * inputHeight * inputWidth` bytes, channel-planar.
    ///   - output: room for ``outputSampleSize`` floats, written `[H, W, C]`.
    ///   - scratch: room for `inputHeight * inputWidth * inputChannels` floats (used only when
    ///     resizing).
    ///   - generator: the sample's own generator. Draws, in order: the crop row and column offsets
    ///     (`nextInt(below: 2 * padding + 1)` each) when cropping, then one `next()` whose top bit
    ///     decides the flip when flipping.
    public func apply(_ image: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<Float>,
                      scratch: UnsafeMutablePointer<Float>, generator: inout SeededGenerator) {
        let p = config.cropPadding
        let (dy, dx) = p > 0 ? (generator.nextInt(below: 2 * p + 1) - p, generator.nextInt(below: 2 * p + 1) - p) : (0, 0)
        let flip = config.horizontalFlip && generator.next() >> 63 == 1
        let (C, H, W) = (inputChannels, inputHeight, inputWidth)
        // Augmented, normalised image at source resolution, [H, W, C'] directly into the output
        // when no resize follows, else [H, W, C] into the scratch buffer.
        let direct = config.resize == nil
        let stage = direct ? output : scratch
        let stageC = direct ? outputChannels : C
        lut.withUnsafeBufferPointer { lut in
            for y in 0..<H {
                let sy = y + dy
                for x in 0..<W {
                    let sx = (flip ? W - 1 - x : x) + dx
                    let inside = sy >= 0 && sy < H && sx >= 0 && sx < W
                    let base = stage + (y * W + x) * stageC
                    for k in 0..<stageC {
                        let c = C == 1 ? 0 : k
                        let v = inside ? Int(image[(c * H + sy) * W + sx]) : 0
                        base[k] = lut[c * 256 + v]
                    }
                }
            }
        }
        if direct { return }
        let (outW, outC) = (outputWidth, outputChannels)
        let replicas = C == 1 ? outC : 1
        rows.withUnsafeBufferPointer { rows in
            cols.withUnsafeBufferPointer { cols in
                for oy in 0..<rows.count {
                    let r = rows[oy]
                    let row0 = scratch + Int(r.i0) * W * C, row1 = scratch + Int(r.i1) * W * C
                    for ox in 0..<cols.count {
                        let t = cols[ox]
                        let x0 = Int(t.i0) * C, x1 = Int(t.i1) * C
                        let o = output + (oy * outW + ox) * outC
                        for c in 0..<C {
                            let a = row0[x0 + c] + (row0[x1 + c] - row0[x0 + c]) * t.w
                            let b = row1[x0 + c] + (row1[x1 + c] - row1[x0 + c]) * t.w
                            let v = a + (b - a) * r.w
                            for k in 0..<replicas { o[c + k] = v }
                        }
                    }
                }
            }
        }
    }

    /// Transforms image `index` of `dataset` into a `[outputHeight, outputWidth, outputChannels]`
    /// tensor (convenience for tests and inspection; the loader writes batches in place).
    public func apply(to dataset: Dataset, index: Int, generator: inout SeededGenerator) -> Tensor {
        precondition(dataset.channels == inputChannels && dataset.height == inputHeight && dataset.width == inputWidth,
                     "data set geometry \(dataset.shape) does not match the transform")
        var out = Tensor(uninitializedShape: [outputHeight, outputWidth, outputChannels])
        let o = out.mutablePointer()
        var scratch = [Float](repeating: 0, count: inputChannels * inputHeight * inputWidth)
        let offset = index * dataset.sampleSize
        dataset.pixels.withUnsafeBufferPointer { px in
            scratch.withUnsafeMutableBufferPointer { s in
                apply(px.baseAddress! + offset, into: o, scratch: s.baseAddress!, generator: &generator)
            }
        }
        return out
    }
}
