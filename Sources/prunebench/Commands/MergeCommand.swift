import ArgumentParser
import Cluster
import Foundation

/// `prunebench merge`: unites coordinator journals from separate runs into a new journal.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge coordinator journals from separate runs into a new journal (union by experiment ID).",
        discussion: """
        Experiments and results are united by experiment ID; the first input's result is kept. An \
        experiment whose results' metrics differ between inputs is reported as nondeterministic and the \
        other results are kept as provenance, never as the result. The output must not exist. Exits \
        non-zero when an input is not a journal; conflicts alone do not fail the merge.
        """
    )

    @Argument(help: "Journals to merge (at least two), in priority order.") var inputs: [String]
    @Option(help: "The merged journal to create; it must not exist.") var out: String
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard inputs.count >= 2 else { throw ValidationError("merge needs at least two journals") }
    }

    func run() throws {
        let report: MergeReport
        do { report = try JournalMerge.merge(inputs, into: out) } catch { throw CommandFailure(error) }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(Output(report, inputs: inputs, out: out)), as: UTF8.self))
            return
        }
        print("merged \(inputs.count) journals into \(out): \(report.experiments) experiments, \(report.results) results")
        for (input, count) in zip(inputs, report.fromEach) { print("  \(count) results from \(input)") }
        print("\(report.conflicts.count) nondeterministic experiments")
        for c in report.conflicts {
            print("  nondeterministic \(c.experiment.prefix(12)) \(c.name): \(c.fields.joined(separator: ", ")) differ "
                  + "(kept \(c.sources.first ?? "?"); also \(c.sources.dropFirst().joined(separator: ", ")))")
        }
    }

    /// The `--json` report.
    private struct Output: Encodable {
        struct Conflict: Encodable {
            var experiment, name, flag: String
            var sources, fields: [String]
        }
        var output: String
        var experiments, results: Int
        var inputs: [String: Int]
        var conflicts: [Conflict]

        init(_ r: MergeReport, inputs names: [String], out: String) {
            output = out
            experiments = r.experiments
            results = r.results
            inputs = Dictionary(zip(names, r.fromEach), uniquingKeysWith: +)
            conflicts = r.conflicts.map {
                Conflict(experiment: $0.experiment, name: $0.name, flag: "nondeterministic", sources: $0.sources, fields: $0.fields)
            }
        }
    }
}
