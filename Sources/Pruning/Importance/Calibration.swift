import NN
import Tensor

/// One calibration mini-batch: channels-last images `[N, H, W, C]` and their labels.
public struct CalibrationBatch: Sendable {
    public var images: Tensor
    public var labels: [Int32]

    public init(images: Tensor, labels: [Int32]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "calibration batch: \(labels.count) labels for images of shape \(images.shape)")
        self.images = images; self.labels = labels
    }

    /// Sample `n` alone, as a batch holding it twice: with frozen statistics its mean loss is
    /// sample n's loss ℓ_n and the gradient is ∂ℓ_n/∂θ. (Twice, not once: oneDNN's weight-gradient
    /// reorder fails on some batch-1 convolutions, e.g. a 1×1 stride-2 shortcut after a forward.)
    func sample(_ n: Int) -> CalibrationBatch {
        CalibrationBatch(images: images.gathering(axis: 0, [n, n]), labels: [labels[n], labels[n]])
    }
}

/// The calibration set of a pruning run (pruningbench.md §4.1): called by ``Pruner/step()``
/// with the step index (1-based) right before the step scores its groups. The benchmark draws
/// 10 training mini-batches afresh for every step from an RNG stream seeded by (seed, step).
/// It throws when the data cannot be read (an image file that does not decode).
public typealias CalibrationSource = (_ step: Int) throws -> [CalibrationBatch]

/// A graph executor for calibration: the model's forward/backward without ReLU fusion, with
/// per-node observers (Torch-Pruning's forward and backward hooks).
///
/// Gradient passes run in training mode with ``ForwardContext/frozenStatistics``: batch norm uses
/// and keeps its running statistics and dropout is off, as in the reference benchmark, which
/// calls `loss.backward()` on a model in `eval()` mode. No model state changes except parameter
/// gradients, which the callers clear.
enum CalibrationRun {
    /// Runs `body` with the model's ReLU fusion off (so every node's output is its own),
    /// restoring it afterwards.
    static func unfused<R>(_ model: Model, _ body: () throws -> R) rethrows -> R {
        let fused = model.fusesOperations
        model.fusesOperations = false
        defer { model.fusesOperations = fused }
        return try body()
    }

    /// Forward over `images`; `observe(node, inputs, output)` sees every node. With `saving`,
    /// layers keep what backward needs (frozen statistics). Call inside ``unfused(_:_:)``.
    static func forward(_ model: Model, _ images: Tensor, saving: Bool,
                        observe: (Int, [Tensor], Tensor) -> Void = { _, _, _ in }) -> Tensor {
        let nodes = model.nodes
        var pending = [Int](repeating: 0, count: nodes.count)
        for n in nodes { for j in n.inputs { pending[j] += 1 } }
        var outputs = [Tensor?](repeating: nil, count: nodes.count)
        outputs[0] = images
        var context = ForwardContext(training: saving, frozenStatistics: true)
        for i in 1..<nodes.count {
            let xs = nodes[i].inputs.map { outputs[$0]! }
            let y = nodes[i].layer.forward(xs, context: &context)
            observe(i, xs, y)
            outputs[i] = y
            for j in nodes[i].inputs {
                pending[j] -= 1
                if pending[j] == 0 && j != model.outputNode { outputs[j] = nil }
            }
        }
        return outputs[model.outputNode]!
    }

    /// Backward of a ``forward(_:_:saving:observe:)`` with `saving`; `observe(node, gradOutput)`
    /// sees the gradient of every node's output before the node's backward runs. Accumulates
    /// parameter gradients like ``Model/backward(_:)``.
    static func backward(_ model: Model, _ gradOutput: Tensor, observe: (Int, Tensor) -> Void = { _, _ in }) {
        let nodes = model.nodes
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        grads[model.outputNode] = gradOutput
        for i in stride(from: nodes.count - 1, through: 1, by: -1) {
            guard let g = grads[i] else { nodes[i].layer.clearSaved(); continue }
            grads[i] = nil
            observe(i, g)
            let inputGrads = nodes[i].layer.backward(g, needsInputGradient: nodes[i].inputs.map { $0 != 0 })
            nodes[i].layer.clearSaved()
            for (j, gi) in zip(nodes[i].inputs, inputGrads) where j != 0 {
                guard let gi else { continue }
                if grads[j] == nil { grads[j] = gi } else { Elementwise.accumulate(&grads[j]!, gi) }
            }
        }
    }

    /// The gradient of every learnable parameter after one pass of `accumulate`, keyed by the
    /// parameter's identity; clears all gradients before and after.
    static func gradients(_ model: Model, _ accumulate: () -> Void) -> [ObjectIdentifier: (parameter: Parameter, grad: Tensor)] {
        model.zeroGradients()
        defer { model.zeroGradients() }
        unfused(model, accumulate)
        var out: [ObjectIdentifier: (Parameter, Tensor)] = [:]
        for (_, p) in model.namedParameters { if let g = p.grad { out[ObjectIdentifier(p)] = (p, g) } }
        return out
    }

    /// One training-loss forward/backward (mean cross-entropy over the batch, true labels).
    static func lossBackward(_ model: Model, _ batch: CalibrationBatch) {
        let logits = forward(model, batch.images, saving: true)
        let (_, g) = CrossEntropy.lossAndGradient(logits: logits, targets: batch.labels)
        backward(model, g)
    }
}

extension Scoring {
    /// Contributions from a per-element term of each scored parameter (`terms[ObjectIdentifier(p)]`,
    /// the parameter's shape): one per weight slice (no biases) the group's items own, of every
    /// family: Conv/Linear out rows and in columns (a depthwise conv's filters as an out side,
    /// pruning-semantics §11.1), batch-norm and layer-norm weight entries, an attention layer's
    /// qkv/proj slices. Each local score is the sum of the slice's terms (`absoluteOfSum`: |Σ|).
    static func termContributions(_ group: Group, _ graph: DependencyGraph, _ terms: [ObjectIdentifier: Tensor],
                                  absoluteOfSum: Bool = false) -> [Contribution] {
        var out: [Contribution] = []
        for item in group.items where item.target.node >= 0 {
            for s in graph.slices(of: item) where !s.isBias {
                guard let t = terms[ObjectIdentifier(s.parameter)] else { continue }
                let scores: [Float]
                if t.rank < 2 {
                    let v = t.scalars
                    scores = s.indices.map { absoluteOfSum ? abs(v[$0]) : v[$0] }
                } else {
                    scores = slices(t, axis: s.axis, s.indices).map { x in
                        absoluteOfSum ? abs(x.reduce(Float(0), +)) : x.reduce(Float(0), +)
                    }
                }
                out.append(Contribution(scores: scores, roots: s.roots))
            }
        }
        return out
    }

    /// ``normalize(_:_:)``, except that a group whose scores sum to zero (nothing to tell its
    /// channels apart) keeps its raw scores instead of dividing by zero.
    static func normalizeFinite(_ s: [Float], _ normalizer: ScoreNormalizer) -> [Float] {
        if normalizer != .none && normalizer != .standarization && normalizer != .gaussian
            && s.allSatisfy({ $0 == 0 }) { return s }
        return normalize(s, normalizer)
    }
}

/// Element-wise helpers on same-shaped tensors.
extension Tensor {
    func zipped(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "shape mismatch \(shape) vs \(other.shape)")
        let a = scalars, b = other.scalars
        return Tensor(shape: shape, values: (0..<a.count).map { f(a[$0], b[$0]) })
    }
}
