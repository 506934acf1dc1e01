/// The benchmark's methods, registered once: the importance criteria (PruningBench §4.1), the
/// sparsity regularizers (§4.2) and the leaderboard rows that pair them (§5). The pruning engine
/// constructs a criterion or regularizer from these keys with one exhaustive switch each; the
/// grid, the runner, the cost model and the leaderboards read everything else from here.

/// An importance criterion, keyed as in Torch-Pruning's case files.
public enum Criterion: String, Codable, Sendable, CaseIterable {
    case random, l1, l2, fpgm, lamp, bnscale, taylor, hessian, obdc, cp, thinet, hrank

    /// Whether the criterion scores from data: it draws calibration batches before each pruning step.
    public var needsCalibration: Bool {
        switch self {
        case .random, .l1, .l2, .fpgm, .lamp, .bnscale: false
        case .taylor, .hessian, .obdc, .cp, .thinet, .hrank: true
        }
    }

    /// Expected run time relative to a magnitude criterion's (for scheduling and ETAs): the
    /// per-image feature-map ranks of HRank and the reconstruction or second-order passes of the
    /// others cost more than the training they are attached to.
    public var costFactor: Double {
        switch self {
        case .hrank: 4
        case .thinet, .cp, .hessian, .obdc: 2
        case .random, .l1, .l2, .fpgm, .lamp, .bnscale, .taylor: 1
        }
    }
}

/// A sparsity regularizer applied in a sparse-training stage before pruning, keyed by the row
/// that introduced it.
public enum Regularizer: String, Codable, Sendable, CaseIterable {
    /// Network Slimming: L1 on batch-norm scales.
    case slim
    /// Group lasso on the batch-norm scales of a dependency group.
    case groupSlim = "group_slim"
    /// DepGraph's group-norm sparse learning.
    case groupSL = "group_sl"
    /// GrowingReg: an L2 penalty growing on the least important groups.
    case growingReg = "growing_reg"
    /// Group lasso on whole dependency groups.
    case l2Lasso = "l2_lasso"
}

/// The two independently ranked tracks of a leaderboard (§11.2).
public enum Track: String, Codable, Equatable, Sendable, CaseIterable {
    case criterion, regularizer

    /// The track of row key `method` (rows outside the registry, which no sweep can name, count as criterion rows).
    public init(method: String) { self = LeaderboardRow.named(method)?.track ?? .criterion }
}

/// One row of a leaderboard: a criterion, and for the regularizer track the regularizer trained in first.
public struct LeaderboardRow: Sendable, Hashable {
    /// The row key, e.g. `l1` or `group_slim`: the `method` of a pruning experiment.
    public let key: String
    public let criterion: Criterion
    public let regularizer: Regularizer?

    public var track: Track { regularizer == nil ? .criterion : .regularizer }

    /// Every row, in the benchmark's table order: the 12 criterion rows, then the 5 regularizer rows.
    public static let all: [LeaderboardRow] = [
        criterion(.random), criterion(.l1), criterion(.l2), criterion(.fpgm), criterion(.lamp),
        LeaderboardRow(key: "bnscale_only", criterion: .bnscale, regularizer: nil),
        criterion(.taylor), criterion(.hessian), criterion(.obdc), criterion(.cp), criterion(.thinet), criterion(.hrank),
        regularized(.slim, by: .bnscale), regularized(.groupSlim, by: .bnscale), regularized(.groupSL, by: .l2),
        regularized(.growingReg, by: .l2), regularized(.l2Lasso, by: .l2),
    ]

    private static func criterion(_ c: Criterion) -> LeaderboardRow { LeaderboardRow(key: c.rawValue, criterion: c, regularizer: nil) }
    private static func regularized(_ r: Regularizer, by c: Criterion) -> LeaderboardRow {
        LeaderboardRow(key: r.rawValue, criterion: c, regularizer: r)
    }

    /// Row keys in table order.
    public static let keys = all.map(\.key)

    private static let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The row with key `key`, or nil.
    public static func named(_ key: String) -> LeaderboardRow? { byKey[key] }
}
