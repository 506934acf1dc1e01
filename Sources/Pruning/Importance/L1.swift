extension GroupMagnitude {
    /// `l1`: ``GroupMagnitude`` with p = 1. Score of root channel k:
    /// `(1/n) Σ_items Σ_{i: root(i)=k} Σ|w_i|`, n = number of contributing items, then divided by the
    /// group's mean score.
    public static func l1(reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean, bias: Bool = false) -> GroupMagnitude {
        GroupMagnitude(p: 1, reduction: reduction, normalizer: normalizer, bias: bias)
    }
}
