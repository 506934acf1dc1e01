import Foundation

/// Renders a `LeaderboardReport` as Markdown: one section per board with a summary table and
/// a table per speedup for each track, paper ranks and Kendall τ where published.
public enum MarkdownRenderer {
    public static func render(_ report: LeaderboardReport) -> String {
        var out = ["# Leaderboards", "",
                   "Ranks follow pruningbench.md §11.2: by pruned accuracy within one speedup, criterion and regularizer "
                   + "tracks ranked separately, ties at 2 decimals share a rank. Summaries rank by mean Δ over the speedups.", ""]
        for board in report.boards { out += section(board) }
        return out.joined(separator: "\n")
    }

    static func section(_ board: Board) -> [String] {
        var out = ["## \(board.key)", ""]
        if let label = board.standInLabel { out += ["**\(label)** (the board keeps the paper's name)", ""] }
        out += [LeaderboardFormat.header(board), ""]
        for summary in board.summaries {
            out += ["### \(LeaderboardTables.title(summary.track)): summary", ""]
            out += table(LeaderboardTables.summary(board, summary))
            let tau = LeaderboardFormat.tauLine(paperTau: summary.paperTau, compared: summary.paperRowsCompared, seedTau: nil)
            if !tau.isEmpty { out += ["", tau] }
            if summary.rows.contains(where: \.isIncomplete) { out += ["", LeaderboardTables.incompleteNote] }
            out.append("")
        }
        for table in board.tables {
            out += ["### \(LeaderboardFormat.speedup(table.speedup)) · \(LeaderboardTables.title(table.track))", ""]
            out += self.table(LeaderboardTables.cells(board, table))
            let tau = LeaderboardFormat.tauLine(paperTau: table.paperTau, compared: table.paperRowsCompared, seedTau: table.seedTau)
            if !tau.isEmpty { out += ["", tau] }
            out.append("")
        }
        return out
    }

    /// A GitHub-flavoured Markdown table.
    static func table(_ t: TextTable) -> [String] {
        func line(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        return [line(t.headers), "|" + t.headers.map { _ in "---|" }.joined()] + t.rows.map(line)
    }
}
