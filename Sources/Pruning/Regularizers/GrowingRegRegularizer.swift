import NN
import Tensor

/// Growing regularization (Wang et al., ICLR 2021; Torch-Pruning's `GrowingRegPruner`),
/// pruning-semantics.md §8.3; leaderboard row 16 (`growing_reg`). λ default 10⁻⁵, δ default 10⁻⁵
/// (the benchmark uses δ = 10⁻⁴).
///
/// - **State:** each group g holds a per-root-channel strength vector, initially `λ_{g,k} = λ`.
/// - **``epochEnded()`` (the reference's `update_reg()`, once per epoch):** with S the criterion's
///   group score (MagnitudeL2), `λ_{g,k} += δ · (max S − S_k) / (max S − min S + 10⁻⁸)`: the least
///   important channel's strength grows by δ per epoch, the most important one's not at all.
/// - **``regularize()``:** `∇θ_i += λ_{g,root(i)} · θ_i` on Conv/Linear out rows, Conv/Linear in
///   columns and BatchNorm γ (with `bias`, also out biases and β). The reference's BatchNorm
///   update has no effect (§11 item 4); the project applies it.
/// - **``updateGroups()``** re-enumerates the groups **and resets** every λ_{g,k} to λ.
public final class GrowingRegRegularizer: SparsityRegularizer {
    public let name = "growingreg"
    public let lambda: Float
    public let delta: Float
    public let bias: Bool
    public let criterion: any ImportanceCriterion
    public let graph: DependencyGraph
    public let ignoredLayers: Set<String>
    public var timing = RegularizerTiming()
    /// Groups the criterion scores (others are skipped, as in the reference), their slices and
    /// current per-root-channel strengths λ_{g,·}.
    public private(set) var strengths: [[Float]] = []
    private var groups: [(group: Group, slices: [RegularizedSlice])] = []
    /// Number of ``epochEnded()`` calls since the last ``updateGroups()``.
    public private(set) var updates = 0

    public init(graph: DependencyGraph, lambda: Float = 1e-5, delta: Float = 1e-5,
                criterion: any ImportanceCriterion = GroupMagnitude.l2(), bias: Bool = false,
                ignoredLayers: Set<String> = []) {
        self.lambda = lambda; self.delta = delta; self.criterion = criterion; self.bias = bias
        self.graph = graph; self.ignoredLayers = ignoredLayers
        updateGroups()
    }

    public func updateGroups() {
        groups = graph.allGroups(ignoring: ignoredLayers).compactMap { g in
            guard criterion.scores(of: g, in: graph) != nil else { return nil }
            return (g, RegularizerSlices.slices(of: g, in: graph, kinds: [.convLinear, .batchNorm], bias: bias))
        }
        strengths = groups.map { Array(repeating: lambda, count: graph.channels($0.group.root) ?? 0) }
        updates = 0
    }

    /// The reference's `update_reg()`: grows each group's strengths by δ times the min–max
    /// standardized unimportance of the channel.
    public func epochEnded() {
        for (g, entry) in groups.enumerated() {
            guard let s = criterion.scores(of: entry.group, in: graph), let hi = s.max(), let lo = s.min() else { continue }
            for k in strengths[g].indices where k < s.count {
                strengths[g][k] += delta * (hi - s[k]) / (hi - lo + 1e-8)
            }
        }
        updates += 1
    }

    public func addPenaltyGradients() {
        for (g, entry) in groups.enumerated() {
            let reg = strengths[g]
            for slice in entry.slices { RegularizerSlices.addScaled(slice, RegularizerSlices.lookup(reg)) }
        }
    }
}
