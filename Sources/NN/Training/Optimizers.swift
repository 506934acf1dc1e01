import Tensor

/// Updates a model's parameters from their gradients.
public protocol Optimizer {
    /// The learning rate for the next step (schedules set it).
    var learningRate: Float { get set }
    /// One update of every parameter that has a gradient.
    mutating func step(_ parameters: [(name: String, parameter: Parameter)])
}

/// SGD with momentum, Nesterov and weight decay, exactly as `torch.optim.SGD`:
/// `d = g + wd * p`; `buf = momentum * buf + d` (`buf = d` on the first step);
/// `d = nesterov ? d + momentum * buf : buf`; `p -= lr * d`.
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var nesterov: Bool
    private var buffers: [ObjectIdentifier: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public mutating func step(_ parameters: [(name: String, parameter: Parameter)]) {
        for (_, p) in parameters {
            guard let g = p.grad else { continue }
            let id = ObjectIdentifier(p)
            let lr = learningRate, mom = momentum, wd = weightDecay, nest = nesterov
            let first = buffers[id] == nil
            if first && mom != 0 { buffers[id] = Tensor(uninitializedShape: g.shape) }
            let pp = p.value.mutablePointer(), gp = g.pointer
            let bp: UnsafeMutablePointer<Float>? = mom != 0 ? buffers[id]!.mutablePointer() : nil
            Parallel.forEachChunk(g.count, grain: 32768) { _, r in
                for i in r {
                    var d = gp[i] + wd * pp[i]
                    if let bp {
                        let b = first ? d : mom * bp[i] + d
                        bp[i] = b
                        d = nest ? d + mom * b : b
                    }
                    pp[i] -= lr * d
                }
            }
        }
    }
}

/// AdamW, exactly as `torch.optim.AdamW` (decoupled weight decay, bias-corrected moments):
/// `p *= 1 - lr * wd`; `m = b1 m + (1 - b1) g`; `v = b2 v + (1 - b2) g^2`;
/// `p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.
///
/// With `decayMatricesOnly`, weight decay skips vectors (biases, norm scales) and ViT's
/// `cls_token`/`pos_embed`, as timm's `param_groups_weight_decay` does.
public struct AdamW: Optimizer {
    public var learningRate: Float
    public var beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public var decayMatricesOnly: Bool
    private var moments: [ObjectIdentifier: (m: Tensor, v: Tensor, t: Int)] = [:]

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, decayMatricesOnly: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay
        self.decayMatricesOnly = decayMatricesOnly
    }

    /// Whether `name`'s parameter is decayed.
    func decays(_ name: String, _ p: Parameter) -> Bool {
        guard decayMatricesOnly else { return true }
        return p.value.rank > 1 && !name.hasSuffix("cls_token") && !name.hasSuffix("pos_embed")
    }

    public mutating func step(_ parameters: [(name: String, parameter: Parameter)]) {
        for (name, p) in parameters {
            guard let g = p.grad else { continue }
            let id = ObjectIdentifier(p)
            var state = moments[id] ?? (Tensor(zeros: g.shape), Tensor(zeros: g.shape), 0)
            state.t += 1
            let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = decays(name, p) ? weightDecay : 0
            let c1 = 1 - Float(Foundationless.exp(Double(state.t) * Foundationless.log(Double(b1))))
            let c2 = 1 - Float(Foundationless.exp(Double(state.t) * Foundationless.log(Double(b2))))
            let pp = p.value.mutablePointer(), gp = g.pointer
            let mp = state.m.mutablePointer(), vp = state.v.mutablePointer()
            Parallel.forEachChunk(g.count, grain: 32768) { _, r in
                for i in r {
                    pp[i] *= 1 - lr * wd
                    mp[i] = b1 * mp[i] + (1 - b1) * gp[i]
                    vp[i] = b2 * vp[i] + (1 - b2) * gp[i] * gp[i]
                    pp[i] -= lr * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + eps)
                }
            }
            moments[id] = state
        }
    }
}

/// `torch.nn.utils.clip_grad_norm_`: scales all gradients by `maxNorm / (norm + 1e-6)` when their
/// global L2 norm exceeds `maxNorm`. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [(name: String, parameter: Parameter)], maxNorm: Float) -> Double {
    var total = 0.0
    for (_, p) in parameters {
        guard let g = p.grad else { continue }
        g.withUnsafeBufferPointer { b in for x in b { total += Double(x) * Double(x) } }
    }
    let norm = total.squareRoot()
    let coefficient = Float(Double(maxNorm) / (norm + 1e-6))
    if coefficient < 1 {
        for (_, p) in parameters where p.grad != nil { p.grad = Elementwise.scale(p.grad!, coefficient) }
    }
    return norm
}
