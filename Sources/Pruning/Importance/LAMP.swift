extension GroupMagnitude {
    /// `lamp`: Torch-Pruning's `LAMPImportance(p=2)`: the l2 group score S (mean reduction), then
    /// the LAMP normalizer `L_k = S_k / Σ_{j ranked at or after k in ascending order} S_j`.
    public static func lamp(p: Float = 2, bias: Bool = false) -> GroupMagnitude {
        GroupMagnitude(key: .lamp, p: p, reduction: .mean, normalizer: .lamp, bias: bias, kinds: [.convLinear, .batchNorm, .layerNorm])
    }
}
