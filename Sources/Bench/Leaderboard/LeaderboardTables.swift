import Experiments
import Foundation

/// A table as text cells, laid out once and drawn by the Markdown and HTML renderers.
public struct TextTable: Equatable, Sendable {
    public var headers: [String]
    public var rows: [[String]]
}

/// The tables of a board as text: what both human-readable renderers show.
public enum LeaderboardTables {
    /// The table of one speedup and track: rank, method, seeds, accuracy (± std), Δ, rank range
    /// (several seeds), paper rank and accuracy (published boards), params left, MACs, achieved
    /// speedup, measured speed-up at batch 1 and 64 (when results carry latency), step time and, on
    /// the regularizer track, reg time.
    public static func cells(_ board: Board, _ table: BoardTable) -> TextTable {
        let seeded = board.seeds.count > 1, paper = board.paper, reg = table.track == .regularizer
        let measured = table.rows.contains { $0.measuredSpeedupBatch1 != nil || $0.measuredSpeedupBatch64 != nil }
        var headers = ["Rank", "Method", "Seeds", "Accuracy", "Δ"]
        if seeded { headers.append("Rank range") }
        if paper != nil { headers += ["Paper rank", "Paper acc"] }
        headers += ["Params left", "MACs", "Speedup"]
        if measured { headers += ["Real b1", "Real b64"] }
        headers.append("Step")
        if reg { headers.append("Reg") }
        let rows = table.rows.map { r -> [String] in
            var cells = ["\(r.rank)", r.method, "\(r.seeds.count)", LeaderboardFormat.accuracy(r.accuracy, std: r.accuracyStd),
                         LeaderboardFormat.signed(r.delta)]
            if seeded { cells.append(LeaderboardFormat.rankRange(r.rankRange)) }
            if let paper {
                cells += [r.paperRank.map(String.init) ?? LeaderboardFormat.missing,
                          r.paperAccuracy.map { LeaderboardFormat.fixed($0, paper.decimals) } ?? LeaderboardFormat.missing]
            }
            cells += [LeaderboardFormat.parameters(r.parameters, percent: r.parametersLeftPercent), LeaderboardFormat.count(r.macs),
                      r.achievedSpeedup.map { LeaderboardFormat.fixed($0) + "×" } ?? LeaderboardFormat.missing]
            if measured {
                cells += [r.measuredSpeedupBatch1, r.measuredSpeedupBatch64].map { $0.map { LeaderboardFormat.fixed($0) + "×" } ?? LeaderboardFormat.missing }
            }
            cells.append(LeaderboardFormat.seconds(r.stepSeconds))
            if reg { cells.append(LeaderboardFormat.seconds(r.regSeconds)) }
            return cells
        }
        return TextTable(headers: headers, rows: rows)
    }

    /// The summary of one track: rank by mean Δ, then "acc (Δ) [rank]" per speedup ("—" when
    /// missing), mean Δ (marked "*" when it covers fewer speedups), mean rank, and the paper's
    /// mean Δ and rank on published boards.
    public static func summary(_ board: Board, _ summary: TrackSummary) -> TextTable {
        let paper = board.paper != nil
        var headers = ["Rank", "Method"] + board.speedups.map { LeaderboardFormat.speedup($0) + " acc (Δ) [rank]" }
        headers += ["Mean Δ", "Mean rank"]
        if paper { headers += ["Paper mean Δ", "Paper rank"] }
        let rows = summary.rows.map { s -> [String] in
            var cells = ["\(s.rank)", s.method]
            for speedup in board.speedups {
                if let r = board.table(speedup: speedup, track: summary.track)?.rows.first(where: { $0.method == s.method }) {
                    cells.append("\(LeaderboardFormat.fixed(r.accuracy)) (\(LeaderboardFormat.signed(r.delta))) [\(r.rank)]")
                } else {
                    cells.append(LeaderboardFormat.missing)
                }
            }
            cells += [LeaderboardFormat.signed(s.meanDelta) + (s.isIncomplete ? "*" : ""), LeaderboardFormat.fixed(s.meanRank)]
            if paper {
                cells += [s.paperMeanDelta.map { LeaderboardFormat.signed($0) } ?? LeaderboardFormat.missing,
                          s.paperRank.map(String.init) ?? LeaderboardFormat.missing]
            }
            return cells
        }
        return TextTable(headers: headers, rows: rows)
    }

    /// Title of a track, e.g. "Criterion track".
    public static func title(_ track: Track) -> String { track == .criterion ? "Criterion track" : "Regularizer track" }

    /// Footnote for summaries with incomplete rows.
    public static let incompleteNote = "* mean over fewer speedups: the row lacks a cell (—)."
}
