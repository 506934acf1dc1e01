/// Expected duration of an experiment, for longest-processing-time-first scheduling and ETAs:
/// training images × epochs × MACs, times the row's criterion's ``Criterion/costFactor``. Arbitrary units (about
/// seconds on one core of this project's reference machine).
public enum ExperimentCost {
    /// The cost of running `spec` on a model of `macs` multiply-accumulates per image.
    public static func estimate(_ spec: ExperimentSpec, macs: Int) -> Double {
        let s = spec.settings
        let epochs = (s.pretrain?.epochs ?? 0) + (s.sparse?.epochs ?? 0) + (s.finetune?.epochs ?? 0)
        let factor = spec.method.flatMap(LeaderboardRow.named)?.criterion.costFactor ?? 1
        return Double(max(1, epochs)) * Double(max(1, s.data.trainSubset ?? 50_000)) * Double(max(1, macs)) * 3e-9 * factor
    }
}
