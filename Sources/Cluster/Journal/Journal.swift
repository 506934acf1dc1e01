import Foundation
import GRDB

/// The coordinator's durable record of sweeps, experiments, attempts and results (cluster.md §6, §7.1).
///
/// The journal is an SQLite database (GRDB) in WAL mode with `synchronous = FULL`. Every mutating
/// method is one write transaction that is committed — durable against kill -9 and power loss —
/// before the method returns, so the caller sends the message that depends on it (ASSIGN, ACK,
/// CANCEL) only afterwards. The coordinator's event loop is the only writer; a `Journal` is used
/// from one thread and is deliberately not `Sendable`.
public final class Journal {
    /// Counted failures (retryable errors) allowed before an experiment fails (§6.4).
    public static let countedBudget = 3
    /// Infrastructure failures (`worker_lost`) allowed before an experiment fails (§6.4).
    public static let infraBudget = 5
    /// How many recorded results of one pretrain may lose their checkpoint before it fails.
    public static let artifactBudget = 2

    /// The journal file.
    public let path: String
    let queue: DatabaseQueue

    /// Opens the journal at `path`, creating it (and its schema) if the file is missing or empty.
    ///
    /// - Throws: ``JournalError`` naming the file when it is not a prunebench journal, is corrupt,
    ///   or has a schema version this build cannot read.
    public convenience init(path: String) throws {
        try self.init(path: path, create: true)
    }

    /// Opens an existing journal without creating or upgrading it (e.g. a merge input).
    ///
    /// - Throws: ``JournalError`` naming the file when it does not exist or is not a journal.
    public static func openExisting(_ path: String) throws -> Journal {
        try Journal(path: path, create: false)
    }

    init(path: String, create: Bool) throws {
        self.path = path
        queue = try JournalSchema.open(path, create: create)
    }

    // MARK: Sweeps

    /// Declares a sweep and its experiments (SWEEP_DECLARED / SWEEP_EXTENDED, EXPERIMENT_DECLARED).
    ///
    /// Idempotent: experiments already declared (by ID, from this or another sweep) are kept as
    /// they are, with their state and results, and only linked to the sweep.
    /// - Returns: how many experiments were newly declared.
    @discardableResult
    public func declare(sweepID: String, sweepName: String, experiments: [JournalExperiment]) throws -> Int {
        try queue.write { db in
            try db.execute(cached: "INSERT OR IGNORE INTO sweeps (id, name) VALUES (?, ?)",
                           arguments: [sweepID, sweepName])
            var declared = 0
            for e in experiments {
                try Self.insertPending(db, e)
                declared += db.changesCount
                try db.execute(cached: "INSERT OR IGNORE INTO sweep_experiments (sweep, experiment) VALUES (?, ?)",
                               arguments: [sweepID, e.id])
            }
            return declared
        }
    }

    /// Inserts `e` as a pending experiment unless its ID is already declared.
    static func insertPending(_ db: Database, _ e: JournalExperiment) throws {
        try db.execute(cached: """
            INSERT OR IGNORE INTO experiments (id, name, kind, base, spec, cost, state)
            VALUES (?, ?, ?, ?, ?, ?, 'pending')
            """, arguments: [e.id, e.name, e.kind, e.base, e.spec, e.cost])
    }

    /// Every declared sweep, in declaration order.
    public func sweeps() throws -> [(id: String, name: String)] {
        try queue.read { db in
            try Row.fetchAll(db, cached: "SELECT id, name FROM sweeps ORDER BY rowid").map { ($0["id"], $0["name"]) }
        }
    }

    /// The IDs of the experiments a sweep declared, sorted.
    public func experimentIDs(inSweep sweepID: String) throws -> [String] {
        try queue.read { db in
            try String.fetchAll(db, cached: "SELECT experiment FROM sweep_experiments WHERE sweep = ? ORDER BY experiment",
                                arguments: [sweepID])
        }
    }

    // MARK: Queries

    /// Every declared experiment, ordered by name, then ID.
    public func experiments() throws -> [ExperimentRecord] {
        try queue.read { db in
            try Row.fetchAll(db, cached: "SELECT * FROM experiments ORDER BY name, id").map(ExperimentRecord.init(row:))
        }
    }

    /// One experiment, or nil when the ID is not declared.
    public func experiment(_ id: String) throws -> ExperimentRecord? {
        try queue.read { db in try Self.experiment(db, id) }
    }

    /// The mutable part of one experiment's record (state, attempt, holder, budgets), without the
    /// specification: what the coordinator re-reads after each transition.
    public func progress(_ id: String) throws -> ExperimentProgress? {
        // One SELECT is atomic on its own: `inDatabase` spares the read-only toggling of `read`.
        try queue.inDatabase { db in try Self.progress(db, id) }
    }

    /// Every journaled attempt of an experiment, by attempt number.
    public func attempts(_ id: String) throws -> [AttemptRecord] {
        try queue.read { db in
            try Row.fetchAll(db, cached: "SELECT * FROM attempts WHERE experiment = ? ORDER BY attempt", arguments: [id])
                .map(AttemptRecord.init(row:))
        }
    }

    /// The number of experiments in each state; every state is present, possibly with 0.
    public func counts() throws -> [ExperimentState: Int] {
        try queue.read { db in
            var counts = Dictionary(uniqueKeysWithValues: ExperimentState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, cached: "SELECT state, COUNT(*) AS n FROM experiments GROUP BY state") {
                counts[try Self.state(row["state"])] = row["n"]
            }
            return counts
        }
    }

    /// The results table: one row per succeeded experiment (its first complete result), ordered by
    /// experiment name, then ID.
    public func results() throws -> [RecordedResult] {
        try queue.read { db in
            try Row.fetchAll(db, cached: """
                SELECT r.experiment, r.attempt, r.digest, r.body FROM results r
                JOIN experiments e ON e.id = r.experiment ORDER BY e.name, e.id
                """).map { RecordedResult(experiment: $0["experiment"], attempt: $0["attempt"],
                                          digest: $0["digest"], body: $0["body"]) }
        }
    }

    // MARK: Workers

    /// Marks a worker as draining (WORKER_DRAINING) or as a normal worker again.
    public func setDraining(_ worker: String, _ draining: Bool) throws {
        try queue.write { db in
            let sql = draining ? "INSERT OR IGNORE INTO draining_workers (worker) VALUES (?)"
                               : "DELETE FROM draining_workers WHERE worker = ?"
            try db.execute(cached: sql, arguments: [worker])
        }
    }

    /// The workers that must receive no new ASSIGN.
    public func drainingWorkers() throws -> Set<String> {
        try queue.read { db in Set(try String.fetchAll(db, cached: "SELECT worker FROM draining_workers")) }
    }

    /// The connection's `journal_mode` and `synchronous` pragmas (for tests of the durability setup).
    func durabilitySettings() throws -> (journalMode: String, synchronous: Int) {
        try queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    // MARK: Row helpers shared by the transitions

    static func experiment(_ db: Database, _ id: String) throws -> ExperimentRecord? {
        try Row.fetchOne(db, cached: "SELECT * FROM experiments WHERE id = ?", arguments: [id]).map(ExperimentRecord.init(row:))
    }

    /// The mutable fields of one experiment, or nil when the ID is not declared.
    static func progress(_ db: Database, _ id: String) throws -> ExperimentProgress? {
        try Row.fetchOne(db, cached: """
            SELECT state, attempt, worker, counted_failures, infra_failures FROM experiments WHERE id = ?
            """, arguments: [id]).map { row in
            ExperimentProgress(state: try state(row["state"]), attempt: row["attempt"], worker: row["worker"],
                               countedFailures: row["counted_failures"], infraFailures: row["infra_failures"])
        }
    }

    /// ``progress(_:_:)``, or a ``JournalError`` naming this journal when the ID is not declared.
    func requireProgress(_ db: Database, _ id: String) throws -> ExperimentProgress {
        guard let e = try Self.progress(db, id) else {
            throw JournalError(.unknownExperiment, file: path, "no experiment \(id) is declared")
        }
        return e
    }

    static func state(_ raw: String) throws -> ExperimentState {
        guard let state = ExperimentState(rawValue: raw) else {
            throw JournalError(.notAJournal, file: "journal", "unknown experiment state \(raw)")
        }
        return state
    }
}

extension ExperimentRecord {
    init(row: Row) throws {
        self.init(id: row["id"], name: row["name"], kind: row["kind"], base: row["base"], spec: row["spec"],
                  cost: row["cost"], state: try Journal.state(row["state"]), attempt: row["attempt"],
                  worker: row["worker"], countedFailures: row["counted_failures"], infraFailures: row["infra_failures"])
    }
}

extension AttemptRecord {
    init(row: Row) {
        self.init(experiment: row["experiment"], attempt: row["attempt"], worker: row["worker"],
                  outcome: (row["outcome"] as String?).flatMap(AttemptOutcome.init(rawValue:)),
                  failureClass: (row["failure_class"] as String?).flatMap(FailureClass.init(rawValue:)),
                  message: row["message"], assignedAt: row["assigned_at"], endedAt: row["ended_at"])
    }
}
