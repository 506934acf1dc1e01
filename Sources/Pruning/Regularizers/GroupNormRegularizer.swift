import Foundation
import NN
import Tensor

/// DepGraph's group regularization (Torch-Pruning's `GroupNormPruner.regularize`),
/// pruning-semantics.md §8.2; leaderboard row 15 (`group_sl`). λ default 10⁻⁴, base α = 16.
///
/// For each group g:
/// 1. `I_k = √(importance_k)` with the configured criterion (MagnitudeL2: p = 2, mean reduction,
///    its normalizer); the group is skipped if the criterion gives no score or any I_k is NaN.
/// 2. `γ_k = α^((max I − I_k) / (max I − min I))`, so γ ∈ [1, α]: the least important channel gets
///    α× the penalty and the most important 1×. If `max I − min I ≤ 10⁻¹² · max(|max I|, 10⁻³⁰)`
///    (equal scores, 1-channel groups), `γ_k = 1` (project definition; the reference gives NaN).
/// 3. `∇θ_i += λ · γ_{root(i)} · θ_i` on Conv/Linear out rows, Conv/Linear in columns and
///    BatchNorm γ (with `bias`, also the out biases and BatchNorm β). LayerNorm is not regularized.
///
/// γ_k is a min–max expression, so scale-only normalizers (mean, max, sum) do not change it.
public final class GroupNormRegularizer: SparsityRegularizer {
    public let name = "groupnorm"
    public let lambda: Float
    public let alpha: Float
    public let bias: Bool
    public let criterion: any ImportanceCriterion
    public let graph: DependencyGraph
    public let ignoredLayers: Set<String>
    public var timing = RegularizerTiming()
    private var groups: [(group: Group, slices: [RegularizedSlice])] = []

    public init(graph: DependencyGraph, lambda: Float = 1e-4, alpha: Float = 16,
                criterion: any ImportanceCriterion = GroupMagnitude.l2(), bias: Bool = false,
                ignoredLayers: Set<String> = []) {
        self.lambda = lambda; self.alpha = alpha; self.criterion = criterion; self.bias = bias
        self.graph = graph; self.ignoredLayers = ignoredLayers
        updateGroups()
    }

    public func updateGroups() {
        groups = graph.allGroups(ignoring: ignoredLayers).map {
            ($0, RegularizerSlices.slices(of: $0, in: graph, kinds: [.convLinear, .batchNorm], bias: bias))
        }
    }

    /// The adaptive strengths γ_k of one group, or nil when the group is skipped.
    func strengths(_ group: Group) -> [Float]? {
        guard let s = criterion.scores(of: group, in: graph), !s.isEmpty else { return nil }
        let imp = s.map { $0.squareRoot() }
        if imp.contains(where: \.isNaN) { return nil }
        let hi = imp.max()!, lo = imp.min()!
        if hi - lo <= 1e-12 * max(abs(hi), 1e-30) { return Array(repeating: 1, count: imp.count) }
        return imp.map { powf(alpha, (hi - $0) / (hi - lo)) }
    }

    public func addPenaltyGradients() {
        for (group, slices) in groups {
            guard let gamma = strengths(group) else { continue }
            let coefficient = gamma.map { lambda * $0 }
            for slice in slices { RegularizerSlices.addScaled(slice, RegularizerSlices.lookup(coefficient)) }
        }
    }
}
