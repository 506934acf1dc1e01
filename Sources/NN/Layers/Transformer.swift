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

    /// ONNX `LayerNormalization` over the last axis.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let args = [inputs[0].name, graph.state(node, "weight", weight.value), graph.state(node, "bias", bias.value)]
        return graph.add("LayerNormalization", args, [.int("axis", -1), .float("epsilon", eps)], name: node)
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

    /// The exact form, `0.5 x (1 + erf(x / sqrt 2))`, as `Div`, `Erf`, `Add`, `Mul`, `Mul`
    /// (the ops `torch.onnx.export` writes for `nn.GELU()` below opset 20).
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let x = inputs[0].name
        let scaled = graph.add("Div", [x, graph.scalar(node + ".sqrt2", Float(2).squareRoot())], name: node + ".div")
        let erf = graph.add("Erf", [scaled], name: node + ".erf")
        let plusOne = graph.add("Add", [erf, graph.scalar(node + ".one", 1)], name: node + ".add")
        let times = graph.add("Mul", [x, plusOne], name: node + ".mul")
        return graph.add("Mul", [times, graph.scalar(node + ".half", 0.5)], name: node)
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

    /// `[N, D, h, w]` to `[N, h*w, D]`: `Reshape` to `[N, D, h*w]`, then `Transpose`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let flat = graph.add("Reshape", [inputs[0].name, graph.int64s(node + ".shape", [0, 0, -1])], name: node + ".flatten")
        return graph.add("Transpose", [flat], [.ints("perm", [0, 2, 1])], name: node)
    }
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

    /// The token `[1, 1, D]` as an initializer.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.state(node, "cls_token", token.value)
    }
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

    /// The embedding `[1, L, D]` as an initializer.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.state(node, "pos_embed", embedding.value)
    }
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

    /// The token `Expand`ed to the batch (`[N, 1, 1]` from `Shape(x)`) and `Concat`ed before the tokens.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let x = inputs[0].name, token = inputs[1].name
        let shape = graph.add("Shape", [x], name: node + ".shape")
        let batch = graph.add("Slice", [shape, graph.int64s(node + ".zero", [0]), graph.int64s(node + ".one", [1])], name: node + ".batch")
        let target = graph.add("Concat", [batch, graph.int64s(node + ".ones", [1, 1])], [.int("axis", 0)], name: node + ".target")
        let tokens = graph.add("Expand", [token, target], name: node + ".expand")
        return graph.add("Concat", [tokens, x], [.int("axis", 1)], name: node)
    }
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

    /// ONNX `Add`, which broadcasts the `[1, ...]` operand over the batch.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Add", inputs.map(\.name), name: node)
    }
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

    /// ONNX `Gather` of token 0 on axis 1: `[N, L, D]` to `[N, D]`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Gather", [inputs[0].name, graph.int64s(node + ".index", [0], shape: [])], [.int("axis", 1)], name: node)
    }
}
