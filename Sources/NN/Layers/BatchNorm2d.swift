import Tensor

/// `nn.BatchNorm2d` (affine, tracking running statistics): state `weight`, `bias`,
/// `running_mean`, `running_var`; `num_batches_tracked` is kept as an integer counter.
public final class BatchNorm2d: ReLUFusing {
    public static let kind = "batchnorm2d"
    public private(set) var channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight, bias, runningMean, runningVar: Parameter
    /// How many training batches have updated the running statistics.
    public var numBatchesTracked: Int = 0
    private var kernel: BatchNormKernel
    /// Applies the following ReLU in the same oneDNN pass (set by the model).
    public var fusesReLU = false {
        didSet { if fusesReLU != oldValue { kernel = BatchNormKernel(channels: channels, epsilon: epsilon, fusedReLU: fusesReLU) } }
    }
    private var saved: (input: Tensor, stats: BatchNormKernel.Saved)?
    /// Input and output of a frozen-statistics training forward (see ``ForwardContext/frozenStatistics``).
    private var savedFrozen: (input: Tensor, output: Tensor)?

    /// PyTorch's initial state: weight 1, bias 0, running mean 0, running variance 1.
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Parameter(Tensor(repeating: 1, shape: [channels]))
        bias = Parameter(Tensor(zeros: [channels]))
        runningMean = Parameter(Tensor(zeros: [channels]), kind: .buffer)
        runningVar = Parameter(Tensor(repeating: 1, shape: [channels]), kind: .buffer)
        kernel = BatchNormKernel(channels: channels, epsilon: epsilon)
    }

    public var state: [(name: String, parameter: Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)]
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs[0].count == 4, inputs[0][3] == channels else {
            throw ShapeError("expects \(channels) channels, got shape \(inputs[0])")
        }
        return inputs[0]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0]
        if context.training && context.frozenStatistics {
            let y = kernel.forwardInference(x, gamma: weight.value, beta: bias.value,
                                            runningMean: runningMean.value, runningVar: runningVar.value)
            savedFrozen = (x, y)
            return y
        }
        guard context.training else {
            return kernel.forwardInference(x, gamma: weight.value, beta: bias.value,
                                           runningMean: runningMean.value, runningVar: runningVar.value)
        }
        let (y, stats) = kernel.forwardTraining(x, gamma: weight.value, beta: bias.value,
                                                runningMean: &runningMean.value, runningVar: &runningVar.value,
                                                momentum: momentum)
        numBatchesTracked += 1
        saved = (x, stats)
        savedFrozen = nil
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        if let frozen = savedFrozen { return [frozenBackward(gradOutput, frozen.input, frozen.output)] }
        guard let saved else { fatalError("batchnorm2d backward without a training forward") }
        let g = kernel.backward(gradOutput, input: saved.input, gamma: weight.value, beta: bias.value, saved: saved.stats)
        weight.accumulate(g.gamma)
        bias.accumulate(g.beta)
        return [g.input]
    }

    public func clearSaved() { saved = nil; savedFrozen = nil }

    /// Backward of `y = γ·(x − μ)/√(σ² + ε) + β` with the running μ, σ² held constant:
    /// dx = g·γ/√(σ² + ε), dγ = Σ g·x̂, dβ = Σ g (g masked by y > 0 when the ReLU is fused).
    private func frozenBackward(_ gradOutput: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor {
        let c = channels, rows = x.count / c
        var rstd = Tensor(uninitializedShape: [c])
        let rs = rstd.mutablePointer(), vp = runningVar.value.pointer
        for k in 0..<c { rs[k] = 1 / (vp[k] + epsilon).squareRoot() }
        var dx = x.emptyLike()
        let dxp = dx.mutablePointer(), gp = gradOutput.pointer, xp = x.pointer, yp = y.pointer
        let gamma = weight.value.pointer, mean = runningMean.value.pointer
        let relu = fusesReLU
        // Rows split into fixed chunks; per-chunk double sums combined in chunk order (deterministic).
        let grain = max(1, 16384 / max(c, 1))
        let chunks = Parallel.chunkCount(rows, grain: grain)
        var partial = [Double](repeating: 0, count: chunks * 2 * c)
        partial.withUnsafeMutableBufferPointer { part in
            let pp = part.baseAddress!
            Parallel.forEachChunk(rows, grain: grain) { chunk, range in
                let dGamma = pp + chunk * 2 * c, dBeta = dGamma + c
                for r in range {
                    let base = r * c
                    for k in 0..<c {
                        let g = relu && yp[base + k] <= 0 ? 0 : gp[base + k]
                        dxp[base + k] = g * gamma[k] * rs[k]
                        dGamma[k] += Double(g * (xp[base + k] - mean[k]) * rs[k])
                        dBeta[k] += Double(g)
                    }
                }
            }
        }
        var dGamma = Tensor(zeros: [c]), dBeta = Tensor(zeros: [c])
        let dg = dGamma.mutablePointer(), db = dBeta.mutablePointer()
        for k in 0..<c {
            var sg = 0.0, sb = 0.0
            for chunk in 0..<chunks { sg += partial[chunk * 2 * c + k]; sb += partial[chunk * 2 * c + c + k] }
            dg[k] = Float(sg); db[k] = Float(sb)
        }
        weight.accumulate(dGamma)
        bias.accumulate(dBeta)
        return dx
    }

    /// `numel(input) * 2` (affine).
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { inputShapes[0].reduce(1, *) * 2 }

    /// Weight 1, bias 0 (either recipe).
    public func initialize(_ recipe: InitializationRecipe, using generator: inout SeededGenerator) {
        weight.value = Tensor(repeating: 1, shape: [channels])
        bias.value = Tensor(zeros: [channels])
    }

    /// `num_batches_tracked`.
    public var counters: [(name: String, value: Int)] { [("num_batches_tracked", numBatchesTracked)] }

    public func setCounter(_ name: String, to value: Int) {
        if name == "num_batches_tracked" { numBatchesTracked = value }
    }

    /// Keeps only the channels `indices` (increasing): slices gamma, beta and the running
    /// statistics and rebuilds the kernel (keeping ReLU fusion as it was).
    public func keep(channels indices: [Int]) {
        for p in [weight, bias, runningMean, runningVar] {
            p.value = p.value.gathering(axis: 0, indices)
            p.grad = nil
        }
        channels = indices.count
        kernel = BatchNormKernel(channels: channels, epsilon: epsilon, fusedReLU: fusesReLU)
        saved = nil
        savedFrozen = nil
    }

    /// ONNX `BatchNormalization` in inference form (running statistics).
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let args = [inputs[0].name] + [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)]
            .map { graph.state(node, $0.0, $0.1.value) }
        return graph.add("BatchNormalization", args, [.float("epsilon", epsilon)], name: node)
    }
}
