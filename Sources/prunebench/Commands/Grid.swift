import Experiments
import ArgumentParser
import Bench
import Foundation

/// `prunebench grid`: expands a sweep file into its experiments (docs/grid.md).
struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Expand a sweep into pretrain and pruning experiments; list them with counts per leaderboard."
    )

    @Flag(help: "Print the experiments and counts as JSON.") var json = false

    @OptionGroup var options: GridOptions

    func run() throws {
        let grid: Grid
        do {
            grid = try options.makeGrid()
        } catch {
            throw CommandFailure(error)
        }
        let counts = grid.countsByLeaderboard
        if json {
            struct Output: Encodable {
                var sweep: String, profile: String, seeds: Int
                var counts: [String: Int], pruning: Int, pretrain: Int, total: Int
                var experiments: [Experiment]
            }
            let out = Output(sweep: grid.sweep.name, profile: grid.profile, seeds: grid.seeds,
                             counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.leaderboard, $0.count) }),
                             pruning: grid.pruning.count, pretrain: grid.pretrain.count, total: grid.all.count,
                             experiments: grid.all)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(out), as: UTF8.self))
            return
        }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        print([pad("id", 12), pad("board", 38), pad("model", 22), pad("method", 12), pad("scheme", 18), pad("speedup", 7), "seed"]
            .joined(separator: " "))
        for e in grid.all {
            let s = e.spec
            let model = s.model.arch + (s.model.variant.map { "/\($0)" } ?? "")
            let board = s.leaderboard ?? "(pretrain \(s.dataset.role))"
            let needs = (e.needs.isEmpty ? "" : "  needs: \(e.needs.joined(separator: ", "))")
                + (s.dataset.standIn ? "  [\(s.dataset.name) stand-in for \(s.dataset.role)]" : "")
            print([pad(String(e.id.prefix(12)), 12), pad(board, 38), pad(model, 22), pad(s.method ?? "-", 12),
                   pad(s.scheme?.rawValue ?? "-", 18), pad(s.speedup.map { JSONValue.format($0) + "x" } ?? "-", 7), "\(s.seed)"]
                .joined(separator: " ") + needs)
        }
        print("")
        print("sweep \(grid.sweep.name), profile \(grid.profile), seeds \(grid.seeds)")
        let standIns = Set(grid.all.filter(\.spec.dataset.standIn).map { "\($0.spec.dataset.name) for \($0.spec.dataset.role)" })
        if !standIns.isEmpty { print("stand-ins: \(standIns.sorted().joined(separator: "; ")) (boards keep the paper's names)") }
        for (board, count) in counts { print("  \(pad(board, 38)) \(count)") }
        let blocked = grid.all.filter { !$0.needs.isEmpty }.count
        print("pruning \(grid.pruning.count) + pretrain \(grid.pretrain.count) = \(grid.all.count) experiments"
              + (blocked > 0 ? " (\(blocked) need a detector)" : ""))
    }
}
