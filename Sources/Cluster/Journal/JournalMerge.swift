import Experiments
import Foundation
import GRDB

/// The outcome of ``JournalMerge/merge(_:into:)``.
public struct MergeReport: Sendable, Equatable {
    /// Experiments declared in the merged journal (union by ID).
    public var experiments: Int
    /// Result rows in the merged journal (one per succeeded experiment).
    public var results: Int
    /// For each input, in order, how many of the merged result rows it contributed.
    public var fromEach: [Int]
    /// Experiments whose results disagree between inputs, flagged as nondeterministic.
    public var conflicts: [MergeConflict]

    public init(experiments: Int, results: Int, fromEach: [Int], conflicts: [MergeConflict]) {
        self.experiments = experiments
        self.results = results
        self.fromEach = fromEach
        self.conflicts = conflicts
    }
}

/// One experiment with results whose `metrics` differ beyond tolerance between inputs: it is
/// **nondeterministic** (cluster.md §12). The first input's result is kept as the row.
public struct MergeConflict: Sendable, Equatable {
    public var experiment: String
    public var name: String
    /// The input files with a result, the kept one first.
    public var sources: [String]
    /// The metric keys that differ from the kept result, sorted.
    public var fields: [String]

    public init(experiment: String, name: String, sources: [String], fields: [String]) {
        self.experiment = experiment
        self.name = name
        self.sources = sources
        self.fields = fields
    }
}

/// Merges journals from separate runs into a new journal (cluster.md §12).
public enum JournalMerge {
    /// Writes the union of `inputs` into the new journal `output`.
    ///
    /// Sweeps, experiments and results are united by ID. An experiment succeeded in any input is
    /// succeeded, with the first input's result as its row; every other experiment is `pending`
    /// with fresh budgets and no attempts. A later input's result whose `metrics` differ beyond
    /// tolerance (numbers: `|a - b| <= 1e-9 * max(1, |a|)`; integers, strings, booleans exactly)
    /// is kept as provenance (`duplicate_results`, reason `nondeterministic`, source = its file)
    /// and listed as a conflict; identical metrics add nothing. Unknown JSON fields are ignored.
    /// Inputs are only read.
    ///
    /// - Throws: ``JournalError`` when `output` exists (it is never overwritten), an input is
    ///   missing or not a journal, or a result body is not an `ExperimentResult`. On error no output
    ///   is left behind.
    public static func merge(_ inputs: [String], into output: String) throws -> MergeReport {
        guard !inputs.isEmpty else { throw JournalError(.badPath, file: "merge", "no input journals") }
        guard !FileManager.default.fileExists(atPath: output) else {
            throw JournalError(.badPath, file: "merge", "output \(output) exists; it is never overwritten")
        }
        let sources = try inputs.map(Journal.openExisting)
        do {
            return try write(sources, into: Journal(path: output))
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: output + suffix) }
            throw error
        }
    }

    /// What one input holds, read in one transaction.
    private struct Snapshot {
        var sweeps: [Row], links: [Row], experiments: [Row], results: [Row]
    }

    private static func snapshot(_ journal: Journal) throws -> Snapshot {
        try journal.queue.read { db in
            Snapshot(sweeps: try Row.fetchAll(db, sql: "SELECT id, name FROM sweeps ORDER BY rowid"),
                     links: try Row.fetchAll(db, sql: "SELECT sweep, experiment FROM sweep_experiments"),
                     experiments: try Row.fetchAll(db, sql: "SELECT * FROM experiments ORDER BY rowid"),
                     results: try Row.fetchAll(db, sql: """
                         SELECT r.*, e.name FROM results r JOIN experiments e ON e.id = r.experiment ORDER BY e.name, e.id
                         """))
        }
    }

    private static func write(_ sources: [Journal], into out: Journal) throws -> MergeReport {
        var kept: [String: (source: Int, metrics: [String: JSONValue])] = [:]
        var conflicts: [String: MergeConflict] = [:]
        var fromEach = Array(repeating: 0, count: sources.count)
        let snapshots = try sources.map(snapshot)
        try out.queue.write { db in
            for (i, s) in snapshots.enumerated() {
                let file = sources[i].path
                for row in s.sweeps {
                    try db.execute(sql: "INSERT OR IGNORE INTO sweeps (id, name) VALUES (?, ?)", arguments: [row["id"], row["name"]])
                }
                for row in s.experiments {
                    try Journal.insertPending(db, JournalExperiment(id: row["id"], name: row["name"], kind: row["kind"],
                                                                    base: row["base"], spec: row["spec"], cost: row["cost"]))
                }
                for row in s.links {
                    try db.execute(sql: "INSERT OR IGNORE INTO sweep_experiments (sweep, experiment) VALUES (?, ?)",
                                   arguments: [row["sweep"], row["experiment"]])
                }
                for row in s.results {
                    let id: String = row["experiment"], body: Data = row["body"]
                    guard let metrics = try? MetricsComparison.metrics(of: body) else {
                        throw JournalError(.badResult, file: file,
                                           "result of experiment \(id) does not decode as an ExperimentResult")
                    }
                    guard let first = kept[id] else {
                        try db.execute(sql: "INSERT INTO results (experiment, attempt, digest, body, recorded_at) VALUES (?, ?, ?, ?, ?)",
                                       arguments: [id, row["attempt"], row["digest"], body, row["recorded_at"]])
                        try db.execute(sql: "UPDATE experiments SET state = 'succeeded' WHERE id = ?", arguments: [id])
                        kept[id] = (i, metrics)
                        fromEach[i] += 1
                        continue
                    }
                    let fields = MetricsComparison.differingKeys(first.metrics, metrics)
                    guard !fields.isEmpty else { continue }
                    try Journal.insertProvenance(db, id, row["attempt"], row["digest"], body, reason: "nondeterministic",
                                                 source: file, now: row["recorded_at"])
                    var conflict = conflicts[id] ?? MergeConflict(experiment: id, name: row["name"],
                                                                  sources: [sources[first.source].path], fields: [])
                    conflict.sources.append(file)
                    conflict.fields = Array(Set(conflict.fields).union(fields)).sorted()
                    conflicts[id] = conflict
                }
            }
        }
        let (experiments, results) = try out.queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM experiments") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") ?? 0)
        }
        let ordered = conflicts.values.sorted { ($0.name, $0.experiment) < ($1.name, $1.experiment) }
        return MergeReport(experiments: experiments, results: results, fromEach: fromEach, conflicts: ordered)
    }
}
