import NN
import Tensor

/// Wall time spent in ``SparsityRegularizer/regularize()``.
public struct RegularizerTiming: Sendable, Equatable {
    /// Number of timed calls.
    public var calls = 0
    /// Their total wall time in seconds.
    public var totalSeconds = 0.0
    /// Mean seconds per call (0 before the first call).
    public var meanSeconds: Double { calls == 0 ? 0 : totalSeconds / Double(calls) }
    public init() {}
}

/// A sparsity regularizer for sparse training (pruning-semantics.md §8, pruningbench.md §4.2),
/// in the shape of Torch-Pruning's `pruner.regularize(model)`:
///
/// - after the loss's backward pass and **before** the optimizer step (and before gradient
///   clipping), ``regularize()`` **adds** the penalty's gradient to the parameters' `.grad`; the
///   loss itself is not modified;
/// - only parameters that already have a gradient are updated;
/// - the groups come from the ``DependencyGraph`` and are re-enumerated by ``updateGroups()``
///   (Torch-Pruning's `update_regularizer()`): at construction, at the start of sparse training and
///   whenever the model changed (after pruning);
/// - ``epochEnded()`` runs once per sparse-training epoch (GrowingReg's `update_reg()`).
///
/// The optimizer's own weight decay should be 0 during sparse training (§10 of the benchmark).
public protocol SparsityRegularizer: AnyObject {
    /// The regularizer's key: `bnscale`, `bnscale_group_lasso`, `groupnorm`, `growingreg`,
    /// `grouplasso`.
    var name: String { get }
    /// The base strength λ.
    var lambda: Float { get }
    /// The graph whose model is regularized.
    var graph: DependencyGraph { get }
    /// Layer names (or containers) whose outputs are protected, as in ``PruningConfig``.
    var ignoredLayers: Set<String> { get }
    /// Time spent in ``regularize()`` so far.
    var timing: RegularizerTiming { get set }
    /// Re-enumerates the groups with current sizes (and resets per-group state).
    func updateGroups()
    /// Adds the penalty gradient to the parameters' gradients (untimed; see ``regularize()``).
    func addPenaltyGradients()
    /// Called once after every sparse-training epoch. The default does nothing.
    func epochEnded()
}

extension SparsityRegularizer {
    public func epochEnded() {}

    /// Adds the penalty gradient and records the call's wall time in ``timing``.
    public func regularize() {
        let t0 = ContinuousClock.now
        addPenaltyGradients()
        let dt = ContinuousClock.now - t0
        timing.calls += 1
        timing.totalSeconds += Double(dt.components.seconds) + Double(dt.components.attoseconds) * 1e-18
    }
}

/// The regularizers of the benchmark's five regularizer rows (pruningbench.md §4.2).
public enum SparsityRegularizers {
    /// The row keys that train with a regularizer.
    public static let rowKeys = ["slim", "group_slim", "group_sl", "growing_reg", "l2_lasso"]

    /// The benchmark's protected classifier (§7): every Linear with `classes` outputs and every Conv
    /// with `classes` output channels, by node name.
    public static func classifierLayers(of model: Model, classes: Int) -> Set<String> {
        Set(model.nodes.dropFirst().filter {
            ($0.layer as? LinearLayer)?.outFeatures == classes || ($0.layer as? Conv2d)?.geometry.outChannels == classes
        }.map(\.name))
    }

    /// The regularizer of leaderboard row `key` (`slim`, `group_slim`, `group_sl`, `growing_reg`,
    /// `l2_lasso`), or nil for a criterion-only row. `lambda` defaults to each regularizer's own
    /// default; `delta` is GrowingReg's δ (the benchmark uses 10⁻⁴); `criterion` is the importance
    /// GroupNorm and GrowingReg score groups with (default: MagnitudeL2, mean normalizer).
    public static func make(rowKey key: String, model: Model, ignoredLayers: Set<String> = [], lambda: Float? = nil,
                            delta: Float = 1e-4, criterion: (any ImportanceCriterion)? = nil) throws
        -> (any SparsityRegularizer)? {
        let graph = try DependencyGraph(model: model)
        switch key {
        case "slim": return BNScaleRegularizer(graph: graph, lambda: lambda ?? 1e-5, ignoredLayers: ignoredLayers)
        case "group_slim":
            return BNScaleRegularizer(graph: graph, lambda: lambda ?? 1e-5, groupLasso: true, ignoredLayers: ignoredLayers)
        case "group_sl":
            return GroupNormRegularizer(graph: graph, lambda: lambda ?? 1e-4, criterion: criterion ?? GroupMagnitude.l2(),
                                        ignoredLayers: ignoredLayers)
        case "growing_reg":
            return GrowingRegRegularizer(graph: graph, lambda: lambda ?? 1e-5, delta: delta,
                                         criterion: criterion ?? GroupMagnitude.l2(), ignoredLayers: ignoredLayers)
        case "l2_lasso": return GroupLassoRegularizer(graph: graph, lambda: lambda ?? 1e-4, ignoredLayers: ignoredLayers)
        default: return nil
        }
    }
}

/// One parameter slice set of a group item: rows (`axis` 0, including the entries of a vector
/// such as BatchNorm γ) or columns (`axis` 1) `indices` of `parameter`, each with its root channel.
struct RegularizedSlice {
    let parameter: Parameter
    let axis: Int
    let indices: [Int]
    let roots: [Int]
}

/// The parameter slices of groups and the operations the regularizers apply to them.
enum RegularizerSlices {
    /// Which slices a group regularizer touches.
    struct Kinds: OptionSet {
        let rawValue: Int
        /// Conv/Linear out rows (and depthwise-conv filters) and in columns.
        static let convLinear = Kinds(rawValue: 1)
        /// BatchNorm γ.
        static let batchNorm = Kinds(rawValue: 2)
        /// LayerNorm γ (only the group lasso regularizes it).
        static let layerNorm = Kinds(rawValue: 4)
    }

    /// The slices of `group`'s items, in group order: Conv/Linear out rows (a depthwise conv's
    /// filters count as out rows, as in scoring), Conv/Linear in columns, BatchNorm γ, LayerNorm γ
    /// (with ``Kinds/layerNorm``); with `bias`, also the out-side biases and BatchNorm/LayerNorm β.
    /// timm attention's qkv and proj are Linears in the reference, so they count as such: its in
    /// side is qkv's columns, its out side proj's rows (and bias), its inner (attention-dim) side
    /// proj's columns plus qkv's rows of that dim in the q, k and v blocks (and the qkv bias).
    /// Other kinds (token parameters) are not regularized.
    static func slices(of group: Group, in graph: DependencyGraph, kinds: Kinds, bias: Bool = false) -> [RegularizedSlice] {
        var out: [RegularizedSlice] = []
        for item in group.items where item.target.node >= 0 && !item.indices.isEmpty {
            let layer = graph.model.nodes[item.target.node].layer
            func add(_ p: Parameter?, _ axis: Int) {
                if let p { out.append(RegularizedSlice(parameter: p, axis: axis, indices: item.indices, roots: item.rootIndices)) }
            }
            switch (graph.roles[item.target.node], item.target.side) {
            case (.conv, .out), (.depthwiseConv, _):
                guard kinds.contains(.convLinear), let conv = layer as? Conv2d else { continue }
                add(conv.weight, 0)
                if bias { add(conv.bias, 0) }
            case (.conv, .in):
                guard kinds.contains(.convLinear), let conv = layer as? Conv2d else { continue }
                // A grouped conv: only the first len/G indices (and their roots) are used (§8.2).
                let n = item.indices.count / conv.geometry.groups
                out.append(RegularizedSlice(parameter: conv.weight, axis: 1, indices: conv.weightColumns(ofInputs: Array(item.indices.prefix(n))),
                                            roots: Array(item.rootIndices.prefix(n))))
            case (.linear, .out):
                guard kinds.contains(.convLinear), let l = layer as? LinearLayer else { continue }
                add(l.weight, 0)
                if bias { add(l.bias, 0) }
            case (.linear, .in):
                guard kinds.contains(.convLinear), let l = layer as? LinearLayer else { continue }
                add(l.weight, 1)
            case (.batchNorm, _):
                guard kinds.contains(.batchNorm), let bn = layer as? BatchNorm2d else { continue }
                add(bn.weight, 0)
                if bias { add(bn.bias, 0) }
            case (.layerNorm, _):
                guard kinds.contains(.layerNorm), let ln = layer as? LayerNormLayer else { continue }
                add(ln.weight, 0)
                if bias { add(ln.bias, 0) }
            case (.attention, .in):
                guard kinds.contains(.convLinear), let a = layer as? AttentionLayer else { continue }
                add(a.qkvWeight, 1)
            case (.attention, .out):
                guard kinds.contains(.convLinear), let a = layer as? AttentionLayer else { continue }
                add(a.projWeight, 0)
                if bias { add(a.projBias, 0) }
            case (.attention, .inner):
                guard kinds.contains(.convLinear), let a = layer as? AttentionLayer else { continue }
                add(a.projWeight, 1)
                let q = a.qkvWeight.value.shape[0] / 3
                let rows = (0..<3).flatMap { b in item.indices.map { b * q + $0 } }
                let roots = Array(repeating: item.rootIndices, count: 3).flatMap { $0 }
                out.append(RegularizedSlice(parameter: a.qkvWeight, axis: 0, indices: rows, roots: roots))
                if bias, let b = a.qkvBias { out.append(RegularizedSlice(parameter: b, axis: 0, indices: rows, roots: roots)) }
            default: continue
            }
        }
        return out
    }

    /// `[rows, cols, inner]` of a tensor: a vector is `[n, 1, 1]`, `[out, in, kh, kw]` is
    /// `[out, in, kh·kw]`.
    @inline(__always) static func geometry(_ shape: [Int]) -> (rows: Int, cols: Int, inner: Int) {
        switch shape.count {
        case 0: return (1, 1, 1)
        case 1: return (shape[0], 1, 1)
        default: return (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
        }
    }

    /// Runs `body` on the parameter's gradient storage (made unique first); does nothing when the
    /// parameter has no gradient.
    @inline(__always) static func withGradient(_ p: Parameter, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard var g = p.grad else { return }
        p.grad = nil   // drop the parameter's reference so the write below does not copy
        body(g.mutablePointer())
        p.grad = g
    }

    /// Per-root coefficients as a lookup: root r uses `c[r]`, or `c[r % c.count]` when the scores
    /// were folded over channel groups (the same position in every group).
    @inline(__always) static func lookup(_ c: [Float]) -> (Int) -> Float {
        { r in r < c.count ? c[r] : c[r % c.count] }
    }

    /// ∇θ[slice i] += c(root(i)) · θ[slice i] for every index of the slice set.
    static func addScaled(_ s: RegularizedSlice, _ coefficient: (Int) -> Float) {
        let (rows, cols, inner) = geometry(s.parameter.value.shape)
        let w = s.parameter.value.pointer
        withGradient(s.parameter) { g in
            if s.axis == 0 {
                let length = cols * inner
                for (i, r) in zip(s.indices, s.roots) {
                    let c = coefficient(r), base = i * length
                    for k in base..<(base + length) { g[k] += c * w[k] }
                }
            } else {
                let cs = zip(s.indices, s.roots).map { ($0, coefficient($1)) }
                for row in 0..<rows {
                    for (i, c) in cs {
                        let base = (row * cols + i) * inner
                        for k in base..<(base + inner) { g[k] += c * w[k] }
                    }
                }
            }
        }
    }
}
