import CDNNL

/// The geometry of a 2-D convolution, in PyTorch's terms.
public struct Conv2DGeometry: Hashable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: (h: Int, w: Int) { (kernelH, kernelW) }
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int
    public var hasBias: Bool

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = false) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelH: kernel, kernelW: kernel,
                  strideH: stride, strideW: stride, padH: padding, padW: padding,
                  dilationH: dilation, dilationW: dilation, groups: groups, bias: bias)
    }

    public init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                padH: Int, padW: Int, dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1, bias: Bool = false) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padH = padH; self.padW = padW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.groups = groups; self.hasBias = bias
    }

    /// Output height and width for an input of `h` x `w` (PyTorch's floor rule).
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        ((h + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1,
         (w + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1)
    }

    /// An unpadded, ungrouped 1x1 convolution: a matrix product per pixel.
    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && padH == 0 && padW == 0 && groups == 1 }

    /// Weight shape in PyTorch's layout `[out, in/groups, kh, kw]`.
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernelH, kernelW] }
}

/// 2-D convolution on channels-last feature maps through oneDNN.
///
/// Input `[N, H, W, Cin]`, weight `[Cout, Cin/groups, kh, kw]` (PyTorch's layout), optional bias
/// `[Cout]`, output `[N, Ho, Wo, Cout]`. oneDNN picks the weight layout its fastest kernel wants;
/// weights are reordered into it on each call (they change every optimizer step), and weight
/// gradients are reordered back. Primitives are created once per input shape and reused.
public final class Conv2DKernel {
    public let geometry: Conv2DGeometry
    private var plans: [[Int]: Plan] = [:]

    public init(_ geometry: Conv2DGeometry) { self.geometry = geometry }

    /// The forward pass.
    public func forward(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition((bias != nil) == geometry.hasBias,
                     geometry.hasBias ? "conv2d declared with a bias needs one" : "conv2d declared without a bias got one")
        let plan = self.plan(for: input.shape)
        var output = Tensor(uninitializedShape: plan.outputShape)
        let w = plan.forwardWeights(weight)
        var args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL.Arg.src, UnsafeMutableRawPointer(input.pointer), plan.srcMD),
            (DNNL.Arg.weights, UnsafeMutableRawPointer(w.pointer), plan.forwardWeightsMD),
            (DNNL.Arg.dst, UnsafeMutableRawPointer(output.mutablePointer()), plan.dstMD),
        ]
        if geometry.hasBias, let bias {
            args.append((DNNL.Arg.bias, UnsafeMutableRawPointer(bias.pointer), plan.biasMD))
        }
        plan.forward.execute(args)
        return output
    }

    /// Gradient with respect to the input.
    public func backwardData(_ gradOutput: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        let plan = self.plan(for: inputShape)
        let bwd = plan.backwardDataPrimitive()
        var gradInput = Tensor(uninitializedShape: inputShape)
        let w = plan.backwardDataWeights(weight)
        bwd.execute([
            (DNNL.Arg.diffDst, UnsafeMutableRawPointer(gradOutput.pointer), plan.dstMD),
            (DNNL.Arg.weights, UnsafeMutableRawPointer(w.pointer), plan.backwardDataWeightsMD!),
            (DNNL.Arg.diffSrc, UnsafeMutableRawPointer(gradInput.mutablePointer()), plan.srcMD),
        ])
        return gradInput
    }

    /// Gradients with respect to the weight and (when the convolution has one) the bias.
    public func backwardWeights(_ gradOutput: Tensor, input: Tensor) -> (weight: Tensor, bias: Tensor?) {
        if geometry.isPointwise { return pointwiseBackwardWeights(gradOutput, input: input) }
        // oneDNN 2.6's jit_1x1 weight-gradient kernel writes out of bounds for a batch of one
        // (heap corruption, seen with 1x1 convs; padded or grouped 1x1 convs still reach it). A
        // second image with a zero output gradient contributes exactly nothing to either
        // gradient, so pad to two.
        if input.shape[0] == 1 {
            return backwardWeights(Self.padBatch(gradOutput), input: Self.padBatch(input))
        }
        let plan = self.plan(for: input.shape)
        let bwd = plan.backwardWeightsPrimitive()
        let md = plan.backwardWeightsMD!
        let native = Tensor(uninitializedShape: [DNNL.elementCount(md)])
        var gradBias: Tensor? = geometry.hasBias ? Tensor(uninitializedShape: [geometry.outChannels]) : nil
        var args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL.Arg.src, UnsafeMutableRawPointer(input.pointer), plan.srcMD),
            (DNNL.Arg.diffDst, UnsafeMutableRawPointer(gradOutput.pointer), plan.dstMD),
            (DNNL.Arg.diffWeights, UnsafeMutableRawPointer(native.pointer), md),
        ]
        if gradBias != nil {
            args.append((DNNL.Arg.diffBias, UnsafeMutableRawPointer(gradBias!.mutablePointer()), plan.biasMD))
        }
        bwd.execute(args)
        var gradWeight = Tensor(uninitializedShape: geometry.weightShape)
        plan.weightsGradReorder!.run(from: native.pointer, to: gradWeight.mutablePointer())
        return (gradWeight, gradBias)
    }

    /// The weight gradient of an unpadded, ungrouped 1x1 convolution as one GEMM:
    /// `dW[oc, ic] = sum over (n, i, j) of dY[n, i, j, oc] * X[n, i*s, j*s, ic]`.
    ///
    /// oneDNN 2.6's jit_1x1 AVX2 weight-gradient kernel deadlocks in its reduction barrier for some
    /// shapes (seen: batch 32, 4 -> 8 channels, 28x28, stride 2, two threads) and writes out of
    /// bounds for a batch of one with AVX-512; a GEMM over the (subsampled) input has neither problem
    /// and is deterministic for a fixed thread count.
    private func pointwiseBackwardWeights(_ gradOutput: Tensor, input: Tensor) -> (weight: Tensor, bias: Tensor?) {
        let s = input.shape
        precondition(s.count == 4 && s[3] == geometry.inChannels,
                     "conv2d expects [N, H, W, \(geometry.inChannels)], got \(s)")
        let (ho, wo) = geometry.outputSize(h: s[1], w: s[2])
        precondition(gradOutput.shape == [s[0], ho, wo, geometry.outChannels],
                     "conv2d output gradient \(gradOutput.shape), expected \([s[0], ho, wo, geometry.outChannels])")
        let ic = geometry.inChannels, oc = geometry.outChannels, rows = s[0] * ho * wo
        let sampled = geometry.strideH == 1 && geometry.strideW == 1 ? input : Self.subsample(input, ho: ho, wo: wo, geometry)
        var gradWeight = Tensor(uninitializedShape: geometry.weightShape)
        GEMM.sgemm(transA: true, transB: false, m: oc, n: ic, k: rows, a: gradOutput.pointer, lda: oc,
                   b: sampled.pointer, ldb: ic, c: gradWeight.mutablePointer(), ldc: ic)
        guard geometry.hasBias else { return (gradWeight, nil) }
        let ones = Tensor(repeating: 1, shape: [rows])
        var gradBias = Tensor(uninitializedShape: [oc])
        GEMM.sgemm(transA: true, transB: false, m: oc, n: 1, k: rows, a: gradOutput.pointer, lda: oc,
                   b: ones.pointer, ldb: 1, c: gradBias.mutablePointer(), ldc: 1)
        return (gradWeight, gradBias)
    }

    /// The input pixels a strided 1x1 convolution reads: `[N, Ho, Wo, C]` from `[N, H, W, C]`.
    private static func subsample(_ x: Tensor, ho: Int, wo: Int, _ g: Conv2DGeometry) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = Tensor(uninitializedShape: [n, ho, wo, c])
        let src = x.pointer, dst = out.mutablePointer()
        Parallel.forEach(n * ho, grain: max(1, 16_384 / max(1, wo * c))) { row in
            let (b, i) = row.quotientAndRemainder(dividingBy: ho)
            for j in 0..<wo {
                (dst + (row * wo + j) * c).update(from: src + ((b * h + i * g.strideH) * w + j * g.strideW) * c, count: c)
            }
        }
        return out
    }

    /// `[1, ...]` to `[2, ...]` with a zero second item.
    private static func padBatch(_ x: Tensor) -> Tensor {
        var padded = Tensor(zeros: [2] + x.shape.dropFirst())
        padded.mutablePointer().update(from: x.pointer, count: x.count)
        return padded
    }

    private func plan(for inputShape: [Int]) -> Plan {
        if let p = plans[inputShape] { return p }
        precondition(inputShape.count == 4 && inputShape[3] == geometry.inChannels,
                     "conv2d expects [N, H, W, \(geometry.inChannels)], got \(inputShape)")
        let p = Plan(geometry, inputShape)
        plans[inputShape] = p
        return p
    }

    /// Everything oneDNN needs for one input shape.
    private final class Plan {
        let g: Conv2DGeometry
        let outputShape: [Int]
        let srcMD, dstMD, biasMD, userWeightsMD: dnnl_memory_desc_t
        let forward: DNNLPrimitive
        let forwardWeightsMD: dnnl_memory_desc_t
        private let forwardWeightsReorder: DNNLReorder
        private(set) var backwardDataWeightsMD: dnnl_memory_desc_t?
        private var backwardData: DNNLPrimitive?
        private var backwardDataReorder: DNNLReorder?
        private(set) var backwardWeightsMD: dnnl_memory_desc_t?
        private var backwardWeights: DNNLPrimitive?
        private(set) var weightsGradReorder: DNNLReorder?
        private let strides, padL, padR, dil: dnnl_dims_t

        init(_ g: Conv2DGeometry, _ s: [Int]) {
            self.g = g
            let (ho, wo) = g.outputSize(h: s[1], w: s[2])
            precondition(ho > 0 && wo > 0, "conv2d output would be empty for input \(s)")
            outputShape = [s[0], ho, wo, g.outChannels]
            // oneDNN describes activations by logical NCHW dims with a physical tag.
            srcMD = DNNL.memoryDesc([s[0], s[3], s[1], s[2]], dnnl_nhwc)
            dstMD = DNNL.memoryDesc([s[0], g.outChannels, ho, wo], dnnl_nhwc)
            biasMD = DNNL.memoryDesc([g.outChannels], dnnl_x)
            userWeightsMD = Plan.weightsMD(g, dnnl_format_tag_any, user: true)
            strides = DNNL.dims64([g.strideH, g.strideW])
            padL = DNNL.dims64([g.padH, g.padW])
            // oneDNN's right padding makes its output size equal PyTorch's floor rule.
            padR = DNNL.dims64([
                (ho - 1) * g.strideH + g.dilationH * (g.kernelH - 1) + 1 - s[1] - g.padH,
                (wo - 1) * g.strideW + g.dilationW * (g.kernelW - 1) + 1 - s[2] - g.padW,
            ])
            dil = DNNL.dims64([g.dilationH - 1, g.dilationW - 1])
            var desc = dnnl_convolution_desc_t()
            var src = srcMD, dst = dstMD, bias = biasMD
            var w = Plan.weightsMD(g, dnnl_format_tag_any, user: false)
            var st = strides, pl = padL, pr = padR, dl = dil
            withDims(&st, &dl, &pl, &pr) { st, dl, pl, pr in
                withUnsafePointer(to: &bias) { bp in
                    DNNL.check(dnnl_dilated_convolution_forward_desc_init(
                        &desc, dnnl_forward_training, dnnl_convolution_direct, &src, &w,
                        g.hasBias ? bp : nil, &dst, st, dl, pl, pr), "describing conv2d \(g)")
                }
            }
            guard let fwd = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0) }) else {
                fatalError("oneDNN has no conv2d forward for \(g) on input \(s)")
            }
            forward = fwd
            forwardWeightsMD = fwd.memoryDesc(dnnl_query_weights_md)
            forwardWeightsReorder = DNNLReorder(from: userWeightsMD, to: forwardWeightsMD)
        }

        static func weightsMD(_ g: Conv2DGeometry, _ any: dnnl_format_tag_t, user: Bool) -> dnnl_memory_desc_t {
            if g.groups == 1 {
                return DNNL.memoryDesc([g.outChannels, g.inChannels, g.kernelH, g.kernelW], user ? dnnl_oihw : any)
            }
            return DNNL.memoryDesc([g.groups, g.outChannels / g.groups, g.inChannels / g.groups, g.kernelH, g.kernelW],
                                   user ? dnnl_goihw : any)
        }

        func forwardWeights(_ weight: Tensor) -> Tensor { reorder(weight, forwardWeightsReorder) }

        func backwardDataWeights(_ weight: Tensor) -> Tensor { reorder(weight, backwardDataReorder!) }

        private func reorder(_ weight: Tensor, _ r: DNNLReorder) -> Tensor {
            precondition(weight.shape == g.weightShape, "conv2d weight \(weight.shape), expected \(g.weightShape)")
            if r.isIdentity { return weight }
            let out = Tensor(uninitializedShape: [DNNL.elementCount(r.target)])
            r.run(from: weight.pointer, to: out.pointer)
            return out
        }

        func backwardDataPrimitive() -> DNNLPrimitive {
            if let p = backwardData { return p }
            var desc = dnnl_convolution_desc_t()
            var src = srcMD, dst = dstMD
            var w = Plan.weightsMD(g, dnnl_format_tag_any, user: false)
            var st = strides, pl = padL, pr = padR, dl = dil
            withDims(&st, &dl, &pl, &pr) { st, dl, pl, pr in
                DNNL.check(dnnl_dilated_convolution_backward_data_desc_init(
                    &desc, dnnl_convolution_direct, &src, &w, &dst, st, dl, pl, pr), "describing conv2d backward")
            }
            guard let p = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0, hint: forward.descriptor) }) else {
                fatalError("oneDNN has no conv2d backward-data for \(g)")
            }
            backwardData = p
            backwardDataWeightsMD = p.memoryDesc(dnnl_query_weights_md)
            backwardDataReorder = DNNLReorder(from: userWeightsMD, to: backwardDataWeightsMD!)
            return p
        }

        func backwardWeightsPrimitive() -> DNNLPrimitive {
            if let p = backwardWeights { return p }
            var desc = dnnl_convolution_desc_t()
            var src = srcMD, dst = dstMD, bias = biasMD
            var w = Plan.weightsMD(g, dnnl_format_tag_any, user: false)
            var st = strides, pl = padL, pr = padR, dl = dil
            withDims(&st, &dl, &pl, &pr) { st, dl, pl, pr in
                withUnsafePointer(to: &bias) { bp in
                    DNNL.check(dnnl_dilated_convolution_backward_weights_desc_init(
                        &desc, dnnl_convolution_direct, &src, &w, g.hasBias ? bp : nil, &dst, st, dl, pl, pr),
                        "describing conv2d weight gradient")
                }
            }
            guard let p = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0, hint: forward.descriptor) }) else {
                fatalError("oneDNN has no conv2d backward-weights for \(g)")
            }
            backwardWeights = p
            backwardWeightsMD = p.memoryDesc(dnnl_query_diff_weights_md)
            weightsGradReorder = DNNLReorder(from: backwardWeightsMD!, to: userWeightsMD)
            return p
        }
    }
}

/// Hands four `dnnl_dims_t` to a C function as `const int64_t *`.
func withDims(_ a: inout dnnl_dims_t, _ b: inout dnnl_dims_t, _ c: inout dnnl_dims_t, _ d: inout dnnl_dims_t,
              _ body: (UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>) -> Void) {
    withUnsafeBytes(of: &a) { pa in
        withUnsafeBytes(of: &b) { pb in
            withUnsafeBytes(of: &c) { pc in
                withUnsafeBytes(of: &d) { pd in
                    body(pa.bindMemory(to: Int64.self).baseAddress!, pb.bindMemory(to: Int64.self).baseAddress!,
                         pc.bindMemory(to: Int64.self).baseAddress!, pd.bindMemory(to: Int64.self).baseAddress!)
                }
            }
        }
    }
}
