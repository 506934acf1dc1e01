import NN
import Tensor

/// Network Slimming's BatchNorm-scale sparsity (Torch-Pruning's `BNScalePruner.regularize`),
/// pruning-semantics.md §8.1; leaderboard rows 13 (`slim`) and 14 (`group_slim`). λ default 10⁻⁵.
///
/// - **Plain (L1), `groupLasso == false`:** for every affine BatchNorm not in an ignored module,
///   `∇γ += λ · sign(γ)` (sign(0) = 0): the gradient of `λ · Σ|γ|`.
/// - **Group lasso, `groupLasso == true`:** for each group g and root channel k,
///   `s_k = (mean over the group's BatchNorm items of γ_k²) + 10⁻⁹`, and for every BatchNorm item
///   `∇γ_i += (λ / √s_{root(i)}) · γ_i`: the gradient of `λ · √n · ‖γ_{g,k}‖₂` with n the number
///   of BatchNorm items. Groups without BatchNorm are skipped (the reference crashes, §11 item 9).
public final class BNScaleRegularizer: SparsityRegularizer {
    public let name: String
    public let lambda: Float
    public let groupLasso: Bool
    public let graph: DependencyGraph
    public let ignoredLayers: Set<String>
    public var timing = RegularizerTiming()

    /// The BatchNorm γ parameters regularized (plain) or the groups' BatchNorm slices (group lasso).
    private var scales: [Parameter] = []
    private var groups: [(group: Group, slices: [RegularizedSlice])] = []
    /// s_k: p = 2, mean reduction, no normalizer, BatchNorm only.
    private let score = GroupMagnitude(key: .l2, p: 2, reduction: .mean, normalizer: .none, bias: false, kinds: .batchNorm)

    public init(graph: DependencyGraph, lambda: Float = 1e-5, groupLasso: Bool = false, ignoredLayers: Set<String> = []) {
        self.name = groupLasso ? "bnscale_group_lasso" : "bnscale"
        self.lambda = lambda
        self.groupLasso = groupLasso
        self.graph = graph
        self.ignoredLayers = ignoredLayers
        updateGroups()
    }

    public func updateGroups() {
        scales = zip(graph.model.nodes, graph.adapters).dropFirst().compactMap { node, adapter in
            DependencyGraph.isIgnored(node.name, ignoredLayers) ? nil
                : adapter.allSlices(.out).first { $0.kind == .batchNorm && !$0.isBias }?.parameter
        }
        groups = groupLasso ? graph.allGroups(ignoring: ignoredLayers).compactMap { g in
            let s = RegularizerSlices.slices(of: g, in: graph, kinds: .batchNorm)
            return s.isEmpty ? nil : (g, s)
        } : []
    }

    public func addPenaltyGradients() {
        if !groupLasso {
            let l = lambda
            for scale in scales {
                let w = scale.value.pointer, n = scale.value.count
                RegularizerSlices.withGradient(scale) { g in
                    for i in 0..<n { g[i] += w[i] > 0 ? l : (w[i] < 0 ? -l : 0) }
                }
            }
            return
        }
        for (group, slices) in groups {
            guard let s = score.scores(of: group, in: graph) else { continue }
            let coefficient = s.map { lambda / ($0 + 1e-9).squareRoot() }
            for slice in slices { RegularizerSlices.addScaled(slice, RegularizerSlices.lookup(coefficient)) }
        }
    }
}
