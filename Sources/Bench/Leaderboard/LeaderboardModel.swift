import Experiments
import Foundation

/// Every leaderboard built from a set of results (docs/leaderboards.md). Built by
/// `LeaderboardReport.build(from:boards:)`; rendered by the Markdown, CSV, JSON and HTML renderers.
public struct LeaderboardReport: Codable, Equatable, Sendable {
    /// One board per (leaderboard key, profile), sorted by key then profile.
    public var boards: [Board]

    public init(boards: [Board]) { self.boards = boards }
}

/// One leaderboard: a (dataset, model, scheme) combination with a table per speedup and track.
public struct Board: Codable, Equatable, Sendable {
    public var key: String
    public var profile: String
    public var dataset: DatasetRef
    /// Mean accuracy of the board's base models (one per seed); nil when no result names one.
    public var baseAccuracy: Double?
    /// Seeds present anywhere on the board.
    public var seeds: [Int]
    /// Target speedups present, ascending.
    public var speedups: [Double]
    /// Tables ordered by speedup, then track (criterion first).
    public var tables: [BoardTable]
    /// One summary per track present.
    public var summaries: [TrackSummary]
    /// The published board with the same key (pruningbench.md §12), if any.
    public var paper: PaperBoardInfo?

    /// "Fashion-MNIST stand-in for CIFAR-100" when the data is a stand-in, else nil.
    public var standInLabel: String? {
        dataset.standIn ? "\(dataset.name.displayName) stand-in for \(dataset.role.dataset.displayName)" : nil
    }

    /// Number of distinct row keys on the board.
    public var rowCount: Int { Set(tables.flatMap { $0.rows.map(\.method) }).count }

    /// Number of filled (board, speedup, row) cells.
    public var cellCount: Int { tables.reduce(0) { $0 + $1.rows.count } }

    /// The table for `speedup` and `track`, if present.
    public func table(speedup: Double, track: Track) -> BoardTable? {
        tables.first { $0.speedup == speedup && $0.track == track }
    }
}

/// The rows of one track at one speedup, ranked.
public struct BoardTable: Codable, Equatable, Sendable {
    public var speedup: Double
    public var track: Track
    /// Rows sorted by rank, then by the §5 row order.
    public var rows: [TableRow]
    /// Mean Kendall τ-b between the per-seed rankings; nil with fewer than two seeds.
    public var seedTau: Double?
    /// Kendall τ-b between our ranks and the paper's over the rows both have; nil without a paper table.
    public var paperTau: Double?
    /// Number of rows compared for `paperTau`.
    public var paperRowsCompared: Int?
}

/// One (row key, speedup) cell, aggregated over seeds.
public struct TableRow: Codable, Equatable, Sendable {
    public var method: String
    /// Seeds that produced a result for this cell.
    public var seeds: [Int]
    /// Pruned accuracy: mean over seeds.
    public var accuracy: Double
    /// Sample standard deviation of the accuracy over seeds; nil for one seed.
    public var accuracyStd: Double?
    /// Mean Δ accuracy in points (pruned − base).
    public var delta: Double
    /// Rank within the table (ties at 2 decimals share a rank).
    public var rank: Int
    /// Lowest and highest rank over the per-seed rankings; nil for one seed.
    public var rankRange: RankRange?
    public var parameters: Double
    public var parametersLeftPercent: Double?
    public var macs: Double
    public var achievedSpeedup: Double?
    /// Measured speed-up (base latency / pruned latency) at batch 1 and 64, mean over seeds; nil for
    /// results without latency.
    public var measuredSpeedupBatch1: Double?
    public var measuredSpeedupBatch64: Double?
    /// Mean wall time of one pruning step, seconds.
    public var stepSeconds: Double?
    /// Total sparse-training time, seconds (regularizer track only).
    public var regSeconds: Double?
    /// The paper's accuracy and rank (recomputed from its printed accuracies) for this cell.
    public var paperAccuracy: Double?
    public var paperRank: Int?
}

/// Lowest (best) and highest rank a row took over the per-seed rankings.
public struct RankRange: Codable, Equatable, Sendable {
    public var min: Int
    public var max: Int

    public init(min: Int, max: Int) { self.min = min; self.max = max }
}

/// A track's board-level view: mean Δ over the speedups (ranked) and mean rank.
public struct TrackSummary: Codable, Equatable, Sendable {
    public var track: Track
    /// Rows sorted by `rank`, then by the §5 row order.
    public var rows: [SummaryRow]
    /// Kendall τ-b between our mean-Δ ranks and the paper's; nil without a paper board.
    public var paperTau: Double?
    public var paperRowsCompared: Int?
}

/// One row of a track summary.
public struct SummaryRow: Codable, Equatable, Sendable {
    public var method: String
    /// Mean Δ over the speedups the row has.
    public var meanDelta: Double
    /// Rank by mean Δ within the track (ties at 2 decimals share a rank).
    public var rank: Int
    /// Mean of the per-speedup ranks.
    public var meanRank: Double
    /// Speedups of the board that this row lacks; when non-empty the means cover fewer speedups.
    public var missingSpeedups: [Double]
    public var paperMeanDelta: Double?
    public var paperRank: Int?

    /// True when the row lacks some speedup of its board.
    public var isIncomplete: Bool { !missingSpeedups.isEmpty }
}

/// The published board matching a board's key.
public struct PaperBoardInfo: Codable, Equatable, Sendable {
    /// Section of pruningbench.md, e.g. "12.2".
    public var section: String
    public var baseAccuracy: Double
    /// Decimal places the paper prints accuracies with.
    public var decimals: Int
    public var speedups: [Double]
}
