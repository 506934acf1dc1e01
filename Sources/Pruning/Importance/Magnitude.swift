import Experiments
/// Torch-Pruning's `GroupMagnitudeImportance(p, group_reduction, normalizer, bias)`.
///
/// Per item (§6.1): Conv/Linear out rows Σ|w|^p, Conv/Linear in columns Σ|w|^p, BatchNorm and LayerNorm
/// |γ_i|^p, timm attention's qkv/proj slices as Linear rows/columns
/// (no p-th root, so p = 2 is the squared norm); with `bias`, |b_i|^p as separate contributions.
/// Then reduced over the group onto root indices (default mean: the sum divided by the number of
/// contributions) and normalized per group (default: divided by the group's mean score).
public final class GroupMagnitude: ImportanceCriterion {
    public let key: Criterion
    public let p: Float
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer
    public let bias: Bool
    let kinds: ScoredKinds

    init(key: Criterion, p: Float, reduction: GroupReduction, normalizer: ScoreNormalizer, bias: Bool, kinds: ScoredKinds) {
        self.key = key; self.p = p; self.reduction = reduction; self.normalizer = normalizer
        self.bias = bias; self.kinds = kinds
    }

    public convenience init(p: Float, reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean, bias: Bool = false) {
        self.init(key: p == 1 ? .l1 : .l2, p: p, reduction: reduction, normalizer: normalizer, bias: bias,
                  kinds: [.convLinear, .batchNorm, .layerNorm])
    }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        let cs = Scoring.magnitudeContributions(group, graph, p: p, kinds: kinds, bias: bias)
        return Scoring.reduce(cs, reduction).map { Scoring.normalize($0, normalizer) }
    }
}
