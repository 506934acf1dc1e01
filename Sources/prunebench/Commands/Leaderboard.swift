import Experiments
import ArgumentParser
import Bench
import Cluster
import Foundation

/// `prunebench leaderboard`: ranks results into leaderboards and writes them as Markdown, CSV,
/// JSON and a self-contained HTML page (docs/leaderboards.md).
struct LeaderboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaderboard",
        abstract: "Build the leaderboards from experiment results, with the paper's ranks beside ours.",
        discussion: "Writes DIR/leaderboards.md, leaderboards.csv, leaderboards.json and index.html."
    )

    @Option(name: .long, help: ArgumentHelp("A results.jsonl file, a sweep artifact directory, or a coordinator journal (.db, live or merged).", valueName: "path"))
    var results: String

    @Option(name: .long, help: ArgumentHelp("Output directory.", valueName: "dir"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Only this board key (repeatable).", valueName: "key"))
    var board: [String] = []

    func run() throws {
        do {
            let loaded = results.hasSuffix(".db") ? try Self.journalResults(results) : try ResultLoader.load(path: results)
            let report = LeaderboardReport.build(from: loaded, boards: board.isEmpty ? nil : board)
            guard !report.boards.isEmpty else {
                throw CommandFailure("\(results): no pruning results" + (board.isEmpty ? "" : " for \(board.joined(separator: ", "))"))
            }
            try LeaderboardWriter.write(report, to: out)
            for line in LeaderboardWriter.summaryLines(report) { print(line) }
            print("\(report.boards.count) boards from \(loaded.count) results → \(out)")
        } catch let error as LeaderboardError {
            throw CommandFailure(error)
        } catch let error as JournalError {
            throw CommandFailure(error)
        }
    }

    /// The recorded results of a journal (one per succeeded experiment). Reading a live journal is
    /// safe: SQLite WAL readers never block the coordinator.
    static func journalResults(_ path: String) throws -> [ExperimentResult] {
        try Journal.openExisting(path).results().map { try $0.decoded() }
    }
}
