import Experiments
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
    /// The benchmark's protected classifier (§7): every layer whose ``PrunableLayer/classifierWidth``
    /// is `classes` (a Linear with `classes` outputs, a Conv with `classes` output channels), by
    /// node name.
    public static func classifierLayers(of model: Model, classes: Int) -> Set<String> {
        Set(model.nodes.dropFirst().filter { PrunableLayers.adapter(for: $0.layer)?.classifierWidth == classes }.map(\.name))
    }

    /// The regularizer the registry names: the one place a ``Regularizer`` key becomes an instance.
    /// `lambda` defaults to each regularizer's own default; `delta` is GrowingReg's δ (the benchmark
    /// uses 10⁻⁴); `criterion` is the importance GroupNorm and GrowingReg score groups with
    /// (default: MagnitudeL2, mean normalizer).
    public static func make(_ regularizer: Regularizer, model: Model, ignoredLayers: Set<String> = [], lambda: Float? = nil,
                            delta: Float = 1e-4, criterion: (any ImportanceCriterion)? = nil) throws -> any SparsityRegularizer {
        let graph = try DependencyGraph(model: model)
        switch regularizer {
        case .slim: return BNScaleRegularizer(graph: graph, lambda: lambda ?? 1e-5, ignoredLayers: ignoredLayers)
        case .groupSlim:
            return BNScaleRegularizer(graph: graph, lambda: lambda ?? 1e-5, groupLasso: true, ignoredLayers: ignoredLayers)
        case .groupSL:
            return GroupNormRegularizer(graph: graph, lambda: lambda ?? 1e-4, criterion: criterion ?? GroupMagnitude.l2(),
                                        ignoredLayers: ignoredLayers)
        case .growingReg:
            return GrowingRegRegularizer(graph: graph, lambda: lambda ?? 1e-5, delta: delta,
                                         criterion: criterion ?? GroupMagnitude.l2(), ignoredLayers: ignoredLayers)
        case .l2Lasso: return GroupLassoRegularizer(graph: graph, lambda: lambda ?? 1e-4, ignoredLayers: ignoredLayers)
        }
    }
}

/// One parameter slice set of a group item (see ``ParameterSlice``).
typealias RegularizedSlice = ParameterSlice

/// The parameter slices of groups and the operations the regularizers apply to them.
enum RegularizerSlices {
    /// Which slice families a group regularizer touches: Conv/Linear out rows (and depthwise-conv
    /// filters) and in columns, BatchNorm γ, LayerNorm γ (only the group lasso regularizes it).
    typealias Kinds = SliceKinds

    /// The slices of `group`'s non-empty items, in group order, as their adapters declare them
    /// (``PrunableLayer/parameterSlices(_:indices:roots:)``), of the families in `kinds`; with
    /// `bias`, also the out-side biases and BatchNorm/LayerNorm β. The in side of a grouped conv
    /// keeps only its first len/G indices and their roots (§8.2). timm attention's qkv and proj
    /// count as Linears; token parameters own no slices and are not regularized.
    static func slices(of group: Group, in graph: DependencyGraph, kinds: Kinds, bias: Bool = false) -> [RegularizedSlice] {
        var out: [RegularizedSlice] = []
        for item in group.items where item.target.node >= 0 && !item.indices.isEmpty {
            for s in graph.slices(of: item) where kinds.contains(s.kind) && (bias || !s.isBias) {
                out.append(s.groups > 1 ? s.prefix(s.indices.count / s.groups) : s)
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
