import Tensor

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

    /// timm's attention as ONNX ops: qkv `MatMul`+`Add`, `Reshape` to `[N, L, 3, heads, headDim]`,
    /// `Transpose` to `[3, N, heads, L, headDim]`, `Gather` q, k, v, `q k^T * scale`, `Softmax`,
    /// `· v`, heads back together, then the projection.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let qkv = graph.linear(inputs[0].name, weight: qkvWeight.value, bias: qkvBias?.value, node: node + ".qkv")
        let split = graph.add("Reshape", [qkv, graph.int64s(node + ".qkv_shape", [0, 0, 3, numHeads, headDim])], name: node + ".qkv_split")
        let heads = graph.add("Transpose", [split], [.ints("perm", [2, 0, 3, 1, 4])], name: node + ".heads")
        let part = { (i: Int, name: String, g: inout ONNXGraph) -> String in
            g.add("Gather", [heads, g.int64s(node + "." + name + "_index", [i], shape: [])], [.int("axis", 0)], name: node + "." + name)
        }
        let q = part(0, "q", &graph), k = part(1, "k", &graph), v = part(2, "v", &graph)
        let kT = graph.add("Transpose", [k], [.ints("perm", [0, 1, 3, 2])], name: node + ".k_t")
        let logits = graph.add("MatMul", [q, kT], name: node + ".logits")
        let scaled = graph.add("Mul", [logits, graph.scalar(node + ".scale", scale)], name: node + ".scaled")
        let probabilities = graph.add("Softmax", [scaled], [.int("axis", -1)], name: node + ".softmax")
        let attended = graph.add("MatMul", [probabilities, v], name: node + ".attended")
        let merged = graph.add("Transpose", [attended], [.ints("perm", [0, 2, 1, 3])], name: node + ".merge")
        let flat = graph.add("Reshape", [merged, graph.int64s(node + ".merge_shape", [0, 0, numHeads * headDim])], name: node + ".concat")
        return graph.linear(flat, weight: projWeight.value, bias: projBias.value, node: node + ".proj")
    }
}
