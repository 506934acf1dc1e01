extension GroupMagnitude {
    /// `l2`: ``GroupMagnitude`` with p = 2 (squared norm, no root). Score of root channel k:
    /// `(1/n) Σ_items Σ_{i: root(i)=k} Σ w_i²`, n = number of contributing items, then divided by the
    /// group's mean score.
    public static func l2(reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean, bias: Bool = false) -> GroupMagnitude {
        GroupMagnitude(p: 2, reduction: reduction, normalizer: normalizer, bias: bias)
    }
}
