import NN
import Tensor

/// Group lasso over all coupled weights: the project's regularizer for the benchmark's
/// MagnitudeL2+GroupLASSO row (17, `l2_lasso`), pruning-semantics.md §8.4 and pruningbench.md §4.2
/// (14b). It has no reference implementation; this is **our definition**.
///
/// For each group g and root channel k:
/// - `s_{g,k}` = the unnormalized, mean-reduced MagnitudeL2 score of channel k (over the group's
///   Conv/Linear out rows, in columns, BatchNorm and LayerNorm γ, attention qkv/proj slices as
///   Linears: `(1/n) Σ_members Σ θ²`, n the number of contributions) `+ 10⁻⁹`;
/// - for every such slice θ_{m,i}: `∇θ_{m,i} += λ · θ_{m,i} / √s_{g,root(i)}`.
///
/// This is the gradient of `λ · √n · Σ_k ‖θ_{g,k}‖₂`, the group lasso whose groups are all the
/// weights of one channel across every coupled layer (§8.1's BatchNorm construction extended to
/// every coupled weight). λ default 10⁻⁴ (the benchmark sets λ per setting, §10).
public final class GroupLassoRegularizer: SparsityRegularizer {
    public let name = "grouplasso"
    public let lambda: Float
    public let graph: DependencyGraph
    public let ignoredLayers: Set<String>
    public var timing = RegularizerTiming()
    private var groups: [(group: Group, slices: [RegularizedSlice])] = []
    private let score = GroupMagnitude.l2(reduction: .mean, normalizer: .none)

    public init(graph: DependencyGraph, lambda: Float = 1e-4, ignoredLayers: Set<String> = []) {
        self.lambda = lambda; self.graph = graph; self.ignoredLayers = ignoredLayers
        updateGroups()
    }

    public func updateGroups() {
        groups = graph.allGroups(ignoring: ignoredLayers).map {
            ($0, RegularizerSlices.slices(of: $0, in: graph, kinds: [.convLinear, .batchNorm, .layerNorm]))
        }
    }

    /// √s_{g,k} of one group: the channel's group norm over all coupled weights, divided by √n.
    func groupNorms(_ group: Group) -> [Float]? {
        score.scores(of: group, in: graph)?.map { ($0 + 1e-9).squareRoot() }
    }

    public func addPenaltyGradients() {
        for (group, slices) in groups {
            guard let norms = groupNorms(group) else { continue }
            let coefficient = norms.map { lambda / $0 }
            for slice in slices { RegularizerSlices.addScaled(slice, RegularizerSlices.lookup(coefficient)) }
        }
    }
}
