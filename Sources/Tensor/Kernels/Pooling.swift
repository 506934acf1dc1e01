import CDNNL

/// The geometry of a 2-D max or average pooling window (PyTorch's floor rule, no ceil mode).
public struct Pool2DGeometry: Hashable, Sendable {
    public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelH: kernel, kernelW: kernel, strideH: stride ?? kernel, strideW: stride ?? kernel,
                  padH: padding, padW: padding)
    }

    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int) {
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padH = padH; self.padW = padW
    }

    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        ((h + 2 * padH - kernelH) / strideH + 1, (w + 2 * padW - kernelW) / strideW + 1)
    }
}

/// Max and average pooling on channels-last feature maps `[N, H, W, C]`, through oneDNN.
///
/// Average pooling counts padding in the divisor (PyTorch's `count_include_pad=True`). Max
/// pooling keeps oneDNN's workspace (the arg-max) for backward.
public final class Pool2DKernel {
    public enum Kind: Sendable { case max, average }
    public let kind: Kind
    public let geometry: Pool2DGeometry
    private var plans: [[Int]: Plan] = [:]

    public init(_ kind: Kind, _ geometry: Pool2DGeometry) {
        self.kind = kind
        self.geometry = geometry
    }

    /// Forward; the returned workspace (empty for average pooling) is needed by backward.
    public func forward(_ x: Tensor) -> (output: Tensor, workspace: Tensor) {
        let plan = self.plan(x.shape)
        var y = Tensor(uninitializedShape: plan.outputShape)
        var args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL.Arg.src, UnsafeMutableRawPointer(x.pointer), plan.srcMD),
            (DNNL.Arg.dst, UnsafeMutableRawPointer(y.mutablePointer()), plan.dstMD),
        ]
        var ws = Tensor(uninitializedShape: [plan.workspaceFloats])
        if let wmd = plan.workspaceMD {
            args.append((DNNL.Arg.workspace, UnsafeMutableRawPointer(ws.mutablePointer()), wmd))
        }
        plan.forward.execute(args)
        return (y, ws)
    }

    /// Gradient with respect to the input.
    public func backward(_ gradOutput: Tensor, inputShape: [Int], workspace: Tensor) -> Tensor {
        let plan = self.plan(inputShape)
        var dx = Tensor(uninitializedShape: inputShape)
        var args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL.Arg.diffDst, UnsafeMutableRawPointer(gradOutput.pointer), plan.dstMD),
            (DNNL.Arg.diffSrc, UnsafeMutableRawPointer(dx.mutablePointer()), plan.srcMD),
        ]
        if let wmd = plan.workspaceMD {
            args.append((DNNL.Arg.workspace, UnsafeMutableRawPointer(workspace.pointer), wmd))
        }
        plan.backwardPrimitive().execute(args)
        return dx
    }

    private func plan(_ shape: [Int]) -> Plan {
        if let p = plans[shape] { return p }
        precondition(shape.count == 4, "pooling expects [N, H, W, C], got \(shape)")
        let p = Plan(kind, geometry, shape)
        plans[shape] = p
        return p
    }

    private final class Plan {
        let outputShape: [Int]
        let srcMD, dstMD: dnnl_memory_desc_t
        let workspaceMD: dnnl_memory_desc_t?
        let workspaceFloats: Int
        let forward: DNNLPrimitive
        private var backward: DNNLPrimitive?
        private let alg: dnnl_alg_kind_t
        private var strides, kernel, padL, padR: dnnl_dims_t

        init(_ kind: Kind, _ g: Pool2DGeometry, _ s: [Int]) {
            let (ho, wo) = g.outputSize(h: s[1], w: s[2])
            precondition(ho > 0 && wo > 0, "pooling output would be empty for input \(s)")
            outputShape = [s[0], ho, wo, s[3]]
            srcMD = DNNL.memoryDesc([s[0], s[3], s[1], s[2]], dnnl_nhwc)
            dstMD = DNNL.memoryDesc([s[0], s[3], ho, wo], dnnl_nhwc)
            alg = kind == .max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding
            strides = DNNL.dims64([g.strideH, g.strideW])
            kernel = DNNL.dims64([g.kernelH, g.kernelW])
            padL = DNNL.dims64([g.padH, g.padW])
            padR = DNNL.dims64([(ho - 1) * g.strideH + g.kernelH - s[1] - g.padH,
                                (wo - 1) * g.strideW + g.kernelW - s[2] - g.padW])
            var desc = dnnl_pooling_desc_t()
            var src = srcMD, dst = dstMD
            let alg = self.alg
            withDims(&strides, &kernel, &padL, &padR) { st, k, pl, pr in
                DNNL.check(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_training, alg, &src, &dst, st, k, pl, pr),
                           "describing pooling \(g) on \(s)")
            }
            guard let fwd = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0) }) else {
                fatalError("oneDNN has no pooling for \(g) on \(s)")
            }
            forward = fwd
            if kind == .max {
                let wmd = fwd.memoryDesc(dnnl_query_workspace_md)
                workspaceMD = wmd
                var m = wmd
                workspaceFloats = (dnnl_memory_desc_get_size(&m) + 3) / 4
            } else {
                workspaceMD = nil
                workspaceFloats = 0
            }
        }

        func backwardPrimitive() -> DNNLPrimitive {
            if let b = backward { return b }
            var desc = dnnl_pooling_desc_t()
            var src = srcMD, dst = dstMD
            let alg = self.alg
            withDims(&strides, &kernel, &padL, &padR) { st, k, pl, pr in
                DNNL.check(dnnl_pooling_backward_desc_init(&desc, alg, &src, &dst, st, k, pl, pr),
                           "describing pooling backward")
            }
            guard let p = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0, hint: forward.descriptor) }) else {
                fatalError("oneDNN has no pooling backward")
            }
            backward = p
            return p
        }
    }
}

/// Adaptive average pooling on `[N, H, W, C]` to `[N, outH, outW, C]`, with PyTorch's windows:
/// output cell i covers input rows `floor(i*H/outH) ..< ceil((i+1)*H/outH)`.
public enum AdaptiveAveragePool2D {
    @inline(__always) static func window(_ i: Int, _ inSize: Int, _ outSize: Int) -> Range<Int> {
        (i * inSize / outSize)..<(((i + 1) * inSize + outSize - 1) / outSize)
    }

    public static func forward(_ x: Tensor, outputH: Int, outputW: Int) -> Tensor {
        precondition(x.rank == 4, "adaptive average pool expects [N, H, W, C], got \(x.shape)")
        let n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        var y = Tensor(zeros: [n, outputH, outputW, c])
        let src = x.pointer, dst = y.mutablePointer()
        Parallel.forEach(n * outputH, grain: 1) { row in
            let b = row / outputH, oh = row % outputH
            let rows = window(oh, h, outputH)
            for ow in 0..<outputW {
                let cols = window(ow, w, outputW)
                let out = dst + ((b * outputH + oh) * outputW + ow) * c
                for ih in rows { for iw in cols {
                    let p = src + ((b * h + ih) * w + iw) * c
                    for k in 0..<c { out[k] += p[k] }
                } }
                let inv = 1 / Float(rows.count * cols.count)
                for k in 0..<c { out[k] *= inv }
            }
        }
        return y
    }

    public static func backward(_ gradOutput: Tensor, inputShape: [Int]) -> Tensor {
        let n = inputShape[0], h = inputShape[1], w = inputShape[2], c = inputShape[3]
        let outputH = gradOutput.shape[1], outputW = gradOutput.shape[2]
        var dx = Tensor(zeros: inputShape)
        let g = gradOutput.pointer, dst = dx.mutablePointer()
        // Parallel over images: windows of one image may overlap, those of two never do.
        Parallel.forEach(n, grain: 1) { b in
            for oh in 0..<outputH {
                let rows = window(oh, h, outputH)
                for ow in 0..<outputW {
                    let cols = window(ow, w, outputW)
                    let inv = 1 / Float(rows.count * cols.count)
                    let go = g + ((b * outputH + oh) * outputW + ow) * c
                    for ih in rows { for iw in cols {
                        let p = dst + ((b * h + ih) * w + iw) * c
                        for k in 0..<c { p[k] += go[k] * inv }
                    } }
                }
            }
        }
        return dx
    }
}
