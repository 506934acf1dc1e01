import Tensor

// Layers of timm's VisionTransformer. Sequences are `[N, L, D]` (tokens, then channels last).
//
// timm's state dict lists `cls_token` and `pos_embed` first, before `patch_embed.proj`. State
// order is node order, so the two parameters live in source nodes (no inputs) placed before the
// patch embedding, ``ClassTokenLayer`` and ``PositionEmbeddingLayer``, whose outputs are the
// parameters themselves; the functional ``PrependTokenLayer`` and ``BroadcastAddLayer`` combine
// them with the patch tokens later in the graph.

/// `torch.nn.LayerNorm(D, eps)` over the last axis: state `weight` `[D]` and `bias` `[D]`.
/// Counted as a module: `numel(input) * 2` MACs.
public final class LayerNormLayer: Layer {
    public static let kind = "layernorm"
    /// The normalised (last) axis's size.
    public private(set) var features: Int
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    private var saved: (input: Tensor, mean: Tensor, rstd: Tensor)?

    /// A layer norm with weight 1 and bias 0.
    public init(features: Int, eps: Float = 1e-5) {
        self.features = features
        self.eps = eps
        weight = Parameter(Tensor(repeating: 1, shape: [features]))
        bias = Parameter(Tensor(zeros: [features]))
    }

    public var state: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs[0].last == features else { throw ShapeError("normalises \(features) features, got shape \(inputs[0])") }
        return inputs[0]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let r = LayerNorm.forward(inputs[0], weight: weight.value, bias: bias.value, eps: eps)
        if context.training { saved = (inputs[0], r.mean, r.rstd) }
        return r.output
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let s = saved else { fatalError("layer norm backward without a training forward") }
        let g = LayerNorm.backward(gradOutput, input: s.input, weight: weight.value, mean: s.mean, rstd: s.rstd)
        weight.accumulate(g.weight)
        bias.accumulate(g.bias)
        return [g.input]
    }

    public func clearSaved() { saved = nil }

    /// `numel(input) * 2` (Torch-Pruning counts `torch.nn.LayerNorm` like an affine batch norm).
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { inputShapes[0].reduce(1, *) * 2 }

    /// Weight 1, bias 0 (either recipe).
    public func initialize(_ recipe: InitializationRecipe, using generator: inout SeededGenerator) {
        weight.value = Tensor(repeating: 1, shape: weight.value.shape)
        bias.value = Tensor(zeros: bias.value.shape)
    }

    /// Keeps only the features `indices` (increasing): weight and bias entries.
    public func keep(features indices: [Int]) {
        weight.value = weight.value.gathering(axis: 0, indices)
        bias.value = bias.value.gathering(axis: 0, indices)
        features = indices.count
        weight.grad = nil; bias.grad = nil; saved = nil
    }
}

/// `nn.GELU()` (exact erf form) as a module, such as timm's `mlp.act`: `numel(output)` MACs.
public final class GELULayer: Layer {
    public static let kind = "gelu"
    private var savedInput: Tensor?
    public init() {}

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        if context.training { savedInput = inputs[0] }
        return GELU.forward(inputs[0])
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let x = savedInput else { fatalError("GELU backward without a training forward") }
        return [GELU.backward(gradOutput, input: x)]
    }

    public func clearSaved() { savedInput = nil }

    /// `numel(output)`.
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { outputShape.reduce(1, *) }
}

/// timm's multi-head self-attention (`timm.models.vision_transformer.Attention`) as one node,
/// `blocks.i.attn`, as Torch-Pruning's counter sees it (one module; `qkv` and `proj` are not
/// counted separately).
///
/// State, in timm's order: `qkv.weight` `[3q, dIn]`, `qkv.bias` `[3q]` (optional), `proj.weight`
/// `[dOut, q]`, `proj.bias` `[dOut]`, with `q = heads * headDim`. Unpruned, `dIn = q = dOut =`
/// the embedding width. Input `[N, L, dIn]`, output `[N, L, dOut]`:
///
///     qkv = x Wqkv^T + bqkv                            [N, L, 3q], laid out [3, heads, headDim]
///     o   = softmax(q k^T * scale) v  per head         [N, L, q], heads concatenated
///     y   = o Wproj^T + bproj
///
/// `scale` is fixed when the layer is made (timm sets `self.scale = head_dim ** -0.5` in
/// `__init__`); pruning head dimensions keeps it unless told otherwise. No dropout, no q/k norm.
public final class AttentionLayer: Layer {
    public static let kind = "attention"
    public let numHeads: Int
    /// Per-head width; refreshed by ``keep(attention:)`` (qkv.out / (3 * numHeads)).
    public private(set) var headDim: Int
    /// Logit scale of the softmax.
    public let scale: Float
    public let qkvWeight: Parameter
    public let qkvBias: Parameter?
    public let projWeight: Parameter
    public let projBias: Parameter
    private var saved: (input: Tensor, qkv: Tensor, probabilities: Tensor, attended: Tensor)?

    /// An attention layer with zeroed state.
    /// - Parameters:
    ///   - inFeatures: `dIn`, the input width (qkv's in_features).
    ///   - numHeads, headDim: `q = numHeads * headDim`.
    ///   - outFeatures: `dOut`, proj's out_features (default `inFeatures`).
    ///   - qkvBias: whether `qkv` has a bias (timm's `qkv_bias`, true for the ViTs here).
    ///   - scale: the logit scale; nil means `headDim^-0.5`.
    public init(inFeatures: Int, numHeads: Int, headDim: Int, outFeatures: Int? = nil, qkvBias hasQKVBias: Bool = true,
                scale: Float? = nil) {
        precondition(numHeads > 0 && headDim > 0, "attention needs positive heads and head dim, got \(numHeads)x\(headDim)")
        self.numHeads = numHeads
        self.headDim = headDim
        self.scale = scale ?? Attention.defaultScale(headDim)
        let q = numHeads * headDim
        qkvWeight = Parameter(Tensor(zeros: [3 * q, inFeatures]))
        qkvBias = hasQKVBias ? Parameter(Tensor(zeros: [3 * q])) : nil
        projWeight = Parameter(Tensor(zeros: [outFeatures ?? inFeatures, q]))
        projBias = Parameter(Tensor(zeros: [outFeatures ?? inFeatures]))
    }

    /// `dIn`, qkv's in_features.
    public var inFeatures: Int { qkvWeight.value.shape[1] }
    /// `dOut`, proj's out_features.
    public var outFeatures: Int { projWeight.value.shape[0] }
    /// `q = numHeads * headDim` (qkv's out_features / 3, proj's in_features).
    public var attentionDim: Int { numHeads * headDim }

    public var state: [(name: String, parameter: Parameter)] {
        [("qkv.weight", qkvWeight)] + (qkvBias.map { [("qkv.bias", $0)] } ?? [])
            + [("proj.weight", projWeight), ("proj.bias", projBias)]
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 3, s[2] == inFeatures else { throw ShapeError("expects [N, L, \(inFeatures)], got shape \(s)") }
        guard qkvWeight.value.shape[0] == 3 * attentionDim, projWeight.value.shape[1] == attentionDim else {
            throw ShapeError("qkv \(qkvWeight.value.shape) / proj \(projWeight.value.shape) do not fit \(numHeads) heads of \(headDim)")
        }
        return [s[0], s[1], outFeatures]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0]
        let qkv = Linear.forward(x, weight: qkvWeight.value, bias: qkvBias?.value)
        let (attended, probabilities) = Attention.forward(qkv: qkv, heads: numHeads, scale: scale)
        if context.training { saved = (x, qkv, probabilities, attended) }
        return Linear.forward(attended, weight: projWeight.value, bias: projBias.value)
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let s = saved else { fatalError("attention backward without a training forward") }
        let gp = Linear.backwardParameters(gradOutput, input: s.attended, hasBias: true)
        projWeight.accumulate(gp.weight)
        projBias.accumulate(gp.bias!)
        let gAttended = Linear.backwardInput(gradOutput, weight: projWeight.value)
        let gqkv = Attention.backward(gAttended, qkv: s.qkv, probabilities: s.probabilities, heads: numHeads, scale: scale)
        let gq = Linear.backwardParameters(gqkv, input: s.input, hasBias: qkvBias != nil)
        qkvWeight.accumulate(gq.weight)
        if let gb = gq.bias { qkvBias?.accumulate(gb) }
        guard needsInputGradient[0] else { return [nil] }
        return [Linear.backwardInput(gqkv, weight: qkvWeight.value)]
    }

    public func clearSaved() { saved = nil }

    /// For a batch of 1 with `L` tokens, `h` heads and `q = qkv.out / 3`:
    /// `L*q + 3*L*dIn*q + [3*L*q with a qkv bias] + h*(2*L*L*(q/h) + L*L) + L*proj.in*proj.out + L*proj.out`.
    /// This is Torch-Pruning 1.6.1's count for timm's `Attention` except for the projection, which
    /// it estimates as `L*q*(q+1)`; the project counts the projection's actual shape. The two agree
    /// while proj maps q to q (every unpruned model).
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int {
        let l = inputShapes[0][1], dIn = inFeatures, q = qkvWeight.value.shape[0] / 3, h = numHeads
        let projIn = projWeight.value.shape[1], projOut = projWeight.value.shape[0]
        return l * q + 3 * l * dIn * q + (qkvBias != nil ? 3 * l * q : 0) + h * (2 * l * l * (q / h) + l * l)
            + l * projIn * projOut + l * projOut
    }

    /// timm's: qkv and proj weights truncated normal with std 0.02, zero biases (either recipe).
    public func initialize(_ recipe: InitializationRecipe, using g: inout SeededGenerator) {
        qkvWeight.value = .truncatedNormal(qkvWeight.value.shape, std: 0.02, using: &g)
        if let bias = qkvBias { bias.value = Tensor(zeros: bias.value.shape) }
        projWeight.value = .truncatedNormal(projWeight.value.shape, std: 0.02, using: &g)
        projBias.value = Tensor(zeros: projBias.value.shape)
    }

    /// A model with timm attention follows timm's initialisation.
    public var preferredInitialization: InitializationRecipe? { .timm }

    /// Keeps only the input features `indices` (increasing): qkv weight columns.
    public func keep(inputs indices: [Int]) {
        qkvWeight.value = qkvWeight.value.gathering(axis: 1, indices)
        qkvWeight.grad = nil; saved = nil
    }

    /// Keeps only the output features `indices` (increasing): proj weight rows and bias.
    public func keep(outputs indices: [Int]) {
        projWeight.value = projWeight.value.gathering(axis: 0, indices)
        projBias.value = projBias.value.gathering(axis: 0, indices)
        projWeight.grad = nil; projBias.grad = nil; saved = nil
    }

    /// Keeps only the attention dimensions `indices` (increasing, in `0..<numHeads*headDim`,
    /// index `h*headDim + j`): the same relative dimensions `j` in every head, so the head count
    /// stays. Removes qkv rows in each of the q, k and v blocks, qkv bias entries and proj
    /// columns, and refreshes `headDim`. The logit scale is kept (timm fixes it at construction).
    public func keep(attention indices: [Int]) {
        precondition(Self.isHeadSymmetric(indices, heads: numHeads, headDim: headDim),
                     "attention dims to keep must be the same relative dims in each of \(numHeads) heads")
        let rows = qkvRows(ofAttentionDims: indices)
        qkvWeight.value = qkvWeight.value.gathering(axis: 0, rows)
        if let b = qkvBias { b.value = b.value.gathering(axis: 0, rows); b.grad = nil }
        projWeight.value = projWeight.value.gathering(axis: 1, indices)
        headDim = indices.count / numHeads
        qkvWeight.grad = nil; projWeight.grad = nil; saved = nil
    }

    /// The qkv weight rows (and qkv bias entries) of attention dims `indices`: each index in the
    /// q, k and v blocks, in that block order (`b * q + i`, `q` = ``attentionDim``).
    public func qkvRows(ofAttentionDims indices: [Int]) -> [Int] {
        let q = attentionDim
        return (0..<3).flatMap { b in indices.map { b * q + $0 } }
    }

    /// Whether `indices` (increasing) are the same non-empty set of relative dims in every head.
    public static func isHeadSymmetric(_ indices: [Int], heads: Int, headDim: Int) -> Bool {
        guard !indices.isEmpty, indices.count % heads == 0 else { return false }
        let per = indices.count / heads
        let first = indices.prefix(per)
        guard first.allSatisfy({ $0 >= 0 && $0 < headDim }) else { return false }
        for h in 0..<heads {
            for (k, j) in first.enumerated() where indices[h * per + k] != h * headDim + j { return false }
        }
        return true
    }
}

/// The end of timm's `PatchEmbed`: `x.flatten(2).transpose(1, 2)`, turning the patch
/// convolution's `[N, h, w, D]` into the token sequence `[N, h*w, D]` (row-major over patches,
/// as timm). Channels-last makes it a reshape. Functional: 0 MACs.
public final class PatchTokensLayer: Layer {
    public static let kind = "patch_tokens"
    private var savedShape: [Int]?
    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 4 else { throw ShapeError("expects a feature map [N, H, W, C], got shape \(s)") }
        return [s[0], s[1] * s[2], s[3]]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let s = inputs[0].shape
        if context.training { savedShape = s }
        return inputs[0].reshaped([s[0], s[1] * s[2], s[3]])
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let s = savedShape else { fatalError("patch tokens backward without a training forward") }
        return [gradOutput.reshaped(s)]
    }

    public func clearSaved() { savedShape = nil }
}

/// timm's `cls_token` parameter `[1, 1, D]`, as a source node `_cls_token` (no inputs) whose
/// output is the parameter itself; ``PrependTokenLayer`` puts it in front of the patch tokens.
/// Placed before the patch embedding so that `cls_token` comes first in the state dict, as in
/// timm. Functional: 0 MACs.
public final class ClassTokenLayer: Layer {
    public static let kind = "cls_token"
    public let token: Parameter

    /// A zero class token of width `features`.
    public init(features: Int) { token = Parameter(Tensor(zeros: [1, 1, features])) }

    public var state: [(name: String, parameter: Parameter)] { [("cls_token", token)] }
    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.isEmpty else { throw ShapeError("a parameter node takes no inputs, got \(inputs.count)") }
        return token.value.shape
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor { token.value }

    /// Normal with std 0.02 (either recipe).
    public func initialize(_ recipe: InitializationRecipe, using g: inout SeededGenerator) {
        token.value = .randomNormal(token.value.shape, std: 0.02, using: &g)
    }

    /// Keeps only the features `indices` (increasing) of the last axis.
    public func keep(features indices: [Int]) {
        token.value = token.value.gathering(axis: 2, indices)
        token.grad = nil
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        token.accumulate(gradOutput)
        return []
    }

    public func clearSaved() {}
}

/// timm's `pos_embed` parameter `[1, L+1, D]` (one row per patch plus the class token), as a source
/// node `_pos_embed` (no inputs) whose output is the parameter; a ``BroadcastAddLayer`` adds it to
/// the token sequence. Placed before the patch embedding so that `pos_embed` comes second in the
/// state dict, as in timm. Functional: 0 MACs.
public final class PositionEmbeddingLayer: Layer {
    public static let kind = "pos_embed"
    public let embedding: Parameter

    /// Zero position embeddings for `tokens` tokens (class token included) of width `features`.
    public init(tokens: Int, features: Int) { embedding = Parameter(Tensor(zeros: [1, tokens, features])) }

    public var state: [(name: String, parameter: Parameter)] { [("pos_embed", embedding)] }
    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.isEmpty else { throw ShapeError("a parameter node takes no inputs, got \(inputs.count)") }
        return embedding.value.shape
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor { embedding.value }

    /// Normal with std 0.02 (either recipe).
    public func initialize(_ recipe: InitializationRecipe, using g: inout SeededGenerator) {
        embedding.value = .randomNormal(embedding.value.shape, std: 0.02, using: &g)
    }

    /// Keeps only the features `indices` (increasing) of the last axis.
    public func keep(features indices: [Int]) {
        embedding.value = embedding.value.gathering(axis: 2, indices)
        embedding.grad = nil
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        embedding.accumulate(gradOutput)
        return []
    }

    public func clearSaved() {}
}

/// `torch.cat((token.expand(N, -1, -1), x), dim=1)`: inputs `x` `[N, L, D]` and a token
/// `[1, 1, D]`; output `[N, L+1, D]` with the token first. The token's gradient is the sum over
/// the batch of the first row's. Functional: 0 MACs.
public final class PrependTokenLayer: Layer {
    public static let kind = "prepend_token"
    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.count == 2, inputs[0].count == 3, inputs[1] == [1, 1, inputs[0][2]] else {
            throw ShapeError("expects [N, L, D] and [1, 1, D], got \(inputs)")
        }
        return [inputs[0][0], inputs[0][1] + 1, inputs[0][2]]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0], token = inputs[1]
        let (n, l, d) = (x.shape[0], x.shape[1], x.shape[2])
        var y = Tensor(uninitializedShape: [n, l + 1, d])
        let yp = y.mutablePointer(), xp = x.pointer, tp = token.pointer
        for b in 0..<n {
            (yp + b * (l + 1) * d).update(from: tp, count: d)
            (yp + b * (l + 1) * d + d).update(from: xp + b * l * d, count: l * d)
        }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        let (n, l1, d) = (gradOutput.shape[0], gradOutput.shape[1], gradOutput.shape[2])
        let gp = gradOutput.pointer
        var gToken = Tensor(zeros: [1, 1, d])
        let tp = gToken.mutablePointer()
        for b in 0..<n { for j in 0..<d { tp[j] += gp[b * l1 * d + j] } }
        guard needsInputGradient[0] else { return [nil, gToken] }
        var gx = Tensor(uninitializedShape: [n, l1 - 1, d])
        let xp = gx.mutablePointer()
        for b in 0..<n { (xp + b * (l1 - 1) * d).update(from: gp + b * l1 * d + d, count: (l1 - 1) * d) }
        return [gx, gToken]
    }

    public func clearSaved() {}
}

/// `x + e` with `x` `[N, ...]` and `e` `[1, ...]` broadcast over the batch (timm's
/// `x = x + pos_embed`). The second input's gradient is the sum over the batch. Functional: 0 MACs.
public final class BroadcastAddLayer: Layer {
    public static let kind = "broadcast_add"
    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.count == 2, inputs[0].count == inputs[1].count, inputs[1].first == 1,
              Array(inputs[0].dropFirst()) == Array(inputs[1].dropFirst()) else {
            throw ShapeError("expects [N, ...] and [1, ...] with the same trailing shape, got \(inputs)")
        }
        return inputs[0]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0], e = inputs[1]
        let n = x.shape[0], m = e.count
        var y = x.emptyLike()
        let yp = y.mutablePointer(), xp = x.pointer, ep = e.pointer
        for b in 0..<n {
            let src = xp + b * m, dst = yp + b * m
            for i in 0..<m { dst[i] = src[i] + ep[i] }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        let n = gradOutput.shape[0], m = gradOutput.count / max(n, 1)
        var ge = Tensor(zeros: [1] + Array(gradOutput.shape.dropFirst()))
        let ep = ge.mutablePointer(), gp = gradOutput.pointer
        for b in 0..<n {
            let src = gp + b * m
            for i in 0..<m { ep[i] += src[i] }
        }
        return [needsInputGradient[0] ? gradOutput : nil, ge]
    }

    public func clearSaved() {}
}

/// timm's `global_pool='token'`: `x[:, 0]`, the class token, `[N, L, D]` to `[N, D]`.
/// Functional: 0 MACs.
public final class SelectTokenLayer: Layer {
    public static let kind = "select_token"
    private var savedShape: [Int]?
    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 3, s[1] >= 1 else { throw ShapeError("expects [N, L, D] with L >= 1, got shape \(s)") }
        return [s[0], s[2]]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0]
        let (n, l, d) = (x.shape[0], x.shape[1], x.shape[2])
        if context.training { savedShape = x.shape }
        var y = Tensor(uninitializedShape: [n, d])
        let yp = y.mutablePointer(), xp = x.pointer
        for b in 0..<n { (yp + b * d).update(from: xp + b * l * d, count: d) }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let s = savedShape else { fatalError("select token backward without a training forward") }
        let (n, l, d) = (s[0], s[1], s[2])
        var gx = Tensor(zeros: s)
        let xp = gx.mutablePointer(), gp = gradOutput.pointer
        for b in 0..<n { (xp + b * l * d).update(from: gp + b * d, count: d) }
        return [gx]
    }

    public func clearSaved() { savedShape = nil }
}
