extension GroupMagnitude {
    /// `bnscale`: Torch-Pruning's `BNScaleImportance`. Only batch-norm items are scored:
    /// `s_k = (1/n_bn) Σ_bn |γ_k|` (mean reduction over the group's batch norms, p = 1), then divided
    /// by the group's mean. A group without batch norm has no score and is skipped.
    public static func bnScale(normalizer: ScoreNormalizer = .mean) -> GroupMagnitude {
        GroupMagnitude(key: .bnscale, p: 1, reduction: .mean, normalizer: normalizer, bias: false, kinds: [.batchNorm])
    }
}
