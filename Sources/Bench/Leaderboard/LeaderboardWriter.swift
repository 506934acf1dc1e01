import Foundation

/// Writes the four leaderboard outputs into a directory.
public enum LeaderboardWriter {
    /// The files written, relative to the output directory.
    public static let fileNames = ["leaderboards.md", "leaderboards.csv", "leaderboards.json", "index.html"]

    /// Writes leaderboards.md, leaderboards.csv, leaderboards.json and index.html into
    /// `directory` (created if needed); returns their paths.
    @discardableResult
    public static func write(_ report: LeaderboardReport, to directory: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LeaderboardError("\(directory): cannot create the output directory (\(error.localizedDescription))")
        }
        let contents = [MarkdownRenderer.render(report), CSVRenderer.render(report), try JSONRenderer.render(report),
                        HTMLRenderer.render(report)]
        return try zip(fileNames, contents).map { name, text in
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw LeaderboardError("\(path): cannot write (\(error.localizedDescription))")
            }
            return path
        }
    }

    /// One line per board: key, profile, rows, cells, stand-in, and Kendall τ-b of the mean-Δ
    /// ranking vs the paper per track when the board is published.
    public static func summaryLines(_ report: LeaderboardReport) -> [String] {
        report.boards.map { board in
            var line = "\(board.key) [\(board.profile)]: \(board.rowCount) rows, \(board.cellCount) cells"
            if let label = board.standInLabel { line += ", \(label)" }
            if board.paper != nil {
                let taus = board.summaries.map { "\($0.track.rawValue) \(LeaderboardFormat.tau($0.paperTau))" }
                line += ", τ vs paper (mean Δ): " + taus.joined(separator: ", ")
            }
            return line
        }
    }
}
