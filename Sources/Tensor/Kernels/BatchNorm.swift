import CDNNL

/// 2-D batch normalisation on channels-last feature maps `[N, H, W, C]`, through oneDNN.
///
/// Training: `y = (x - mean_B) / sqrt(var_B + eps) * gamma + beta` with the batch's biased
/// variance; the running statistics are then updated as PyTorch does,
/// `running = (1 - momentum) * running + momentum * stat`, using the *unbiased* batch variance
/// (`var_B * n / (n - 1)`, n = N*H*W). Eval: the running statistics replace the batch's.
///
/// With `fusedReLU`, the output is `max(y, 0)` and backward applies ReLU's mask too (oneDNN's
/// `fuse_norm_relu`, which keeps the mask in a workspace): one pass instead of two.
public final class BatchNormKernel {
    public let channels: Int
    public let epsilon: Float
    public let fusedReLU: Bool
    private var plans: [[Int]: Plan] = [:]

    public init(channels: Int, epsilon: Float = 1e-5, fusedReLU: Bool = false) {
        self.channels = channels
        self.epsilon = epsilon
        self.fusedReLU = fusedReLU
    }

    /// What training-mode forward keeps for backward.
    public struct Saved: Sendable {
        public var mean: Tensor
        public var variance: Tensor
        /// ReLU's mask when fused (oneDNN's workspace, opaque).
        public var workspace: Tensor?
    }

    /// Training-mode forward. Updates `runningMean`/`runningVar` in place and returns the output
    /// and the batch statistics.
    public func forwardTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: inout Tensor,
                                runningVar: inout Tensor, momentum: Float) -> (Tensor, Saved) {
        let plan = self.plan(x.shape)
        var y = x.emptyLike()
        var mean = Tensor(uninitializedShape: [channels]), variance = Tensor(uninitializedShape: [channels])
        var workspace: Tensor? = plan.workspaceMD.map { Tensor(uninitializedShape: [(DNNL.byteCount($0) + 3) / 4]) }
        var args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL.Arg.src, UnsafeMutableRawPointer(x.pointer), plan.dataMD),
            (DNNL.Arg.dst, UnsafeMutableRawPointer(y.mutablePointer()), plan.dataMD),
            (DNNL.Arg.scale, UnsafeMutableRawPointer(gamma.pointer), plan.channelMD),
            (DNNL.Arg.shift, UnsafeMutableRawPointer(beta.pointer), plan.channelMD),
            (DNNL.Arg.mean, UnsafeMutableRawPointer(mean.mutablePointer()), plan.channelMD),
            (DNNL.Arg.variance, UnsafeMutableRawPointer(variance.mutablePointer()), plan.channelMD),
        ]
        if let md = plan.workspaceMD { args.append((DNNL.Arg.workspace, UnsafeMutableRawPointer(workspace!.mutablePointer()), md)) }
        plan.training.execute(args)
        let n = Float(x.count / channels)
        let unbias = n > 1 ? n / (n - 1) : 1
        let rm = runningMean.mutablePointer(), rv = runningVar.mutablePointer()
        for c in 0..<channels {
            rm[c] = (1 - momentum) * rm[c] + momentum * mean.pointer[c]
            rv[c] = (1 - momentum) * rv[c] + momentum * variance.pointer[c] * unbias
        }
        return (y, Saved(mean: mean, variance: variance, workspace: workspace))
    }

    /// Eval-mode forward with the running statistics.
    public func forwardInference(_ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor) -> Tensor {
        let plan = self.plan(x.shape)
        var y = x.emptyLike()
        plan.inference.execute([
            (DNNL.Arg.src, UnsafeMutableRawPointer(x.pointer), plan.dataMD),
            (DNNL.Arg.dst, UnsafeMutableRawPointer(y.mutablePointer()), plan.dataMD),
            (DNNL.Arg.scale, UnsafeMutableRawPointer(gamma.pointer), plan.channelMD),
            (DNNL.Arg.shift, UnsafeMutableRawPointer(beta.pointer), plan.channelMD),
            (DNNL.Arg.mean, UnsafeMutableRawPointer(runningMean.pointer), plan.channelMD),
            (DNNL.Arg.variance, UnsafeMutableRawPointer(runningVar.pointer), plan.channelMD),
        ])
        return y
    }

    /// Backward of training-mode forward: gradients of input, gamma and beta.
    public func backward(_ gradOutput: Tensor, input: Tensor, gamma: Tensor, beta: Tensor, saved: Saved)
        -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        let plan = self.plan(input.shape)
        var dx = input.emptyLike()
        var dg = Tensor(uninitializedShape: [channels]), db = Tensor(uninitializedShape: [channels])
        var args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)] = [
            (DNNL.Arg.src, UnsafeMutableRawPointer(input.pointer), plan.dataMD),
            (DNNL.Arg.diffDst, UnsafeMutableRawPointer(gradOutput.pointer), plan.dataMD),
            (DNNL.Arg.mean, UnsafeMutableRawPointer(saved.mean.pointer), plan.channelMD),
            (DNNL.Arg.variance, UnsafeMutableRawPointer(saved.variance.pointer), plan.channelMD),
            (DNNL.Arg.scale, UnsafeMutableRawPointer(gamma.pointer), plan.channelMD),
            // oneDNN 2.6 insists on the shift argument in backward, although it does not read it.
            (DNNL.Arg.shift, UnsafeMutableRawPointer(beta.pointer), plan.channelMD),
            (DNNL.Arg.diffSrc, UnsafeMutableRawPointer(dx.mutablePointer()), plan.dataMD),
            (DNNL.Arg.diffScale, UnsafeMutableRawPointer(dg.mutablePointer()), plan.channelMD),
            (DNNL.Arg.diffShift, UnsafeMutableRawPointer(db.mutablePointer()), plan.channelMD),
        ]
        if let md = plan.workspaceMD { args.append((DNNL.Arg.workspace, UnsafeMutableRawPointer(saved.workspace!.pointer), md)) }
        plan.backwardPrimitive().execute(args)
        return (dx, dg, db)
    }

    private func plan(_ shape: [Int]) -> Plan {
        if let p = plans[shape] { return p }
        precondition(shape.count == 4 && shape[3] == channels,
                     "batch norm expects [N, H, W, \(channels)], got \(shape)")
        let p = Plan(shape: shape, epsilon: epsilon, fusedReLU: fusedReLU)
        plans[shape] = p
        return p
    }

    private final class Plan {
        let dataMD: dnnl_memory_desc_t
        let channelMD: dnnl_memory_desc_t
        let training: DNNLPrimitive
        let inference: DNNLPrimitive
        let workspaceMD: dnnl_memory_desc_t?
        private var backward: DNNLPrimitive?
        private let epsilon: Float
        private let flags: UInt32

        init(shape s: [Int], epsilon: Float, fusedReLU: Bool) {
            self.epsilon = epsilon
            dataMD = DNNL.memoryDesc([s[0], s[3], s[1], s[2]], dnnl_nhwc)
            channelMD = DNNL.memoryDesc([s[3]], dnnl_x)
            flags = UInt32(dnnl_use_scale.rawValue | dnnl_use_shift.rawValue)
                | (fusedReLU ? UInt32(dnnl_fuse_norm_relu.rawValue) : 0)
            training = Plan.make(dnnl_forward_training, dataMD, epsilon, flags, hint: nil)
            inference = Plan.make(dnnl_forward_inference, dataMD, epsilon,
                                  flags | UInt32(dnnl_use_global_stats.rawValue), hint: nil)
            workspaceMD = fusedReLU ? training.memoryDesc(dnnl_query_workspace_md) : nil
        }

        func backwardPrimitive() -> DNNLPrimitive {
            if let b = backward { return b }
            var desc = dnnl_batch_normalization_desc_t()
            var md = dataMD
            DNNL.check(dnnl_batch_normalization_backward_desc_init(&desc, dnnl_backward, &md, &md, epsilon, flags),
                       "describing batch norm backward")
            guard let p = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0, hint: training.descriptor) }) else {
                fatalError("oneDNN has no batch norm backward")
            }
            backward = p
            return p
        }

        static func make(_ kind: dnnl_prop_kind_t, _ md: dnnl_memory_desc_t, _ eps: Float, _ flags: UInt32,
                         hint: dnnl_primitive_desc_t?) -> DNNLPrimitive {
            var desc = dnnl_batch_normalization_desc_t()
            var m = md
            DNNL.check(dnnl_batch_normalization_forward_desc_init(&desc, kind, &m, eps, flags), "describing batch norm")
            guard let p = withUnsafePointer(to: &desc, { DNNLPrimitive(opDesc: $0, hint: hint) }) else {
                fatalError("oneDNN has no batch norm forward")
            }
            return p
        }
    }
}
