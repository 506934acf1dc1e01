import Foundation
import GRDB

extension Journal {
    /// Records a successful result (RESULT, §6.2–6.3); the caller ACKs after this returns.
    ///
    /// - An experiment not yet succeeded (any state but `cancelled`) records the result from any
    ///   journaled attempt, including an older presumed-lost one: first complete result wins. The
    ///   experiment becomes `succeeded` and the attempt's outcome `succeeded` → `.recorded`.
    /// - An already succeeded experiment: a resend of the recorded (attempt, digest) changes
    ///   nothing; any other result is kept as provenance in `duplicate_results` (once per
    ///   attempt and digest) and its attempt, if still open, becomes `superseded` → `.duplicate`.
    /// - A cancelled or unknown experiment, or an attempt number never journaled, is provenance
    ///   only → `.stale`.
    /// - Fencing: with `worker`, a result for an attempt the journal gives to another worker is
    ///   provenance only (reason `foreign`, source = the sender) → `.stale`, whatever the
    ///   experiment's state. A result counts only from the worker that holds the attempt.
    public func recordResult(_ id: String, attempt: Int, digest: String, body: Data, worker: String? = nil,
                             now: Double) throws -> ResultDisposition {
        try queue.write { db in
            guard let e = try Self.progress(db, id), e.state != .cancelled,
                  let holder = try Self.attemptWorker(db, id, attempt) else {
                try Self.insertProvenance(db, id, attempt, digest, body, reason: "stale", source: worker, now: now)
                return .stale
            }
            if let worker, worker != holder {
                try Self.insertProvenance(db, id, attempt, digest, body, reason: "foreign", source: worker, now: now)
                return .stale
            }
            // A result withdrawn because its checkpoint could not be had does not come back.
            if try Self.attemptLostItsArtifact(db, id, attempt) {
                try Self.insertProvenance(db, id, attempt, digest, body, reason: "stale", source: worker, now: now)
                return .stale
            }
            if e.state == .succeeded {
                let recorded = try Row.fetchOne(db, cached: "SELECT attempt, digest FROM results WHERE experiment = ?",
                                                arguments: [id])
                if recorded?["attempt"] == attempt && recorded?["digest"] == digest { return .duplicate }
                try Self.insertProvenance(db, id, attempt, digest, body, reason: "duplicate", source: nil, now: now)
                try db.execute(cached: """
                    UPDATE attempts SET outcome = 'superseded', ended_at = ? WHERE experiment = ? AND attempt = ? AND outcome IS NULL
                    """, arguments: [now, id, attempt])
                return .duplicate
            }
            try db.execute(cached: "INSERT INTO results (experiment, attempt, digest, body, recorded_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, attempt, digest, body, now])
            try db.execute(cached: """
                UPDATE attempts SET outcome = 'succeeded', failure_class = NULL, message = NULL, ended_at = ?
                WHERE experiment = ? AND attempt = ?
                """, arguments: [now, id, attempt])
            try db.execute(cached: "UPDATE experiments SET state = 'succeeded', worker = NULL WHERE id = ?", arguments: [id])
            return .recorded
        }
    }

    /// Withdraws the recorded result of a succeeded pretrain whose checkpoint cannot be had (its
    /// holder is gone or every pull failed): the result moves to provenance (reason
    /// `artifact_lost`, source = the attempt's worker), its attempt becomes `lost` with class
    /// `artifact_unavailable` and `message`, and the experiment goes back to `pending`, or to
    /// `failed` once ``artifactBudget`` results have been lost this way (its dependents are then
    /// blocked). A resend of a withdrawn result is stale.
    ///
    /// - Returns: the experiment's state afterwards.
    /// - Throws: ``JournalError`` when the experiment is unknown or has no recorded result.
    @discardableResult
    public func withdrawResultWithLostArtifact(_ id: String, message: String, now: Double) throws -> ExperimentState {
        try queue.write { db in
            let e = try requireProgress(db, id)
            guard e.state == .succeeded,
                  let row = try Row.fetchOne(db, cached: "SELECT attempt, digest, body FROM results WHERE experiment = ?", arguments: [id])
            else { throw JournalError(.invalidTransition, file: path, "withdraw(\(id)): no recorded result") }
            let attempt: Int = row["attempt"]
            try Self.insertProvenance(db, id, attempt, row["digest"], row["body"], reason: "artifact_lost",
                                      source: try Self.attemptWorker(db, id, attempt), now: now)
            try db.execute(cached: "DELETE FROM results WHERE experiment = ?", arguments: [id])
            try db.execute(cached: """
                UPDATE attempts SET outcome = 'lost', failure_class = ?, message = ?, ended_at = ? WHERE experiment = ? AND attempt = ?
                """, arguments: [FailureClass.artifactUnavailable.rawValue, message, now, id, attempt])
            let losses = try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM attempts WHERE experiment = ? AND failure_class = ?",
                                          arguments: [id, FailureClass.artifactUnavailable.rawValue]) ?? 0
            let next: ExperimentState = losses >= Self.artifactBudget ? .failed : .pending
            try db.execute(cached: "UPDATE experiments SET state = ?, worker = NULL WHERE id = ?", arguments: [next.rawValue, id])
            return next
        }
    }

    static func attemptLostItsArtifact(_ db: Database, _ id: String, _ attempt: Int) throws -> Bool {
        try String.fetchOne(db, cached: "SELECT failure_class FROM attempts WHERE experiment = ? AND attempt = ?",
                            arguments: [id, attempt]) == FailureClass.artifactUnavailable.rawValue
    }

    /// The other attempts of a succeeded experiment that are still live (no outcome), which the
    /// caller must CANCEL; they are marked `superseded` (ended at the result's record time).
    ///
    /// - Returns: an empty list when the experiment has no recorded result.
    public func liveAttemptsSuperseded(by id: String) throws -> [(attempt: Int, worker: String)] {
        try queue.write { db in
            guard let result = try Row.fetchOne(db, cached: "SELECT attempt, recorded_at FROM results WHERE experiment = ?",
                                                arguments: [id]) else { return [] }
            let winner: Int = result["attempt"]
            let live = try Row.fetchAll(db, cached: """
                SELECT attempt, worker FROM attempts WHERE experiment = ? AND attempt != ? AND outcome IS NULL ORDER BY attempt
                """, arguments: [id, winner]).map { (attempt: $0["attempt"] as Int, worker: $0["worker"] as String) }
            try db.execute(cached: """
                UPDATE attempts SET outcome = 'superseded', ended_at = ? WHERE experiment = ? AND attempt != ? AND outcome IS NULL
                """, arguments: [result["recorded_at"] as Double, id, winner])
            return live
        }
    }

    /// Provenance results (duplicates, stale results, merge conflicts) of an experiment, oldest first.
    public func provenance(_ id: String) throws -> [(attempt: Int, digest: String, reason: String, source: String?)] {
        try queue.read { db in
            try Row.fetchAll(db, cached: """
                SELECT attempt, digest, reason, source FROM duplicate_results WHERE experiment = ? ORDER BY seq
                """, arguments: [id]).map { ($0["attempt"], $0["digest"], $0["reason"], $0["source"]) }
        }
    }

    /// The worker the journal gave attempt `attempt` of `id` to, or nil for an attempt never journaled.
    static func attemptWorker(_ db: Database, _ id: String, _ attempt: Int) throws -> String? {
        try String.fetchOne(db, cached: "SELECT worker FROM attempts WHERE experiment = ? AND attempt = ?",
                            arguments: [id, attempt])
    }

    /// The worker holding attempt `attempt` of `id` in the journal, or nil if it was never journaled.
    public func holder(of id: String, attempt: Int) throws -> String? {
        try queue.read { db in try Self.attemptWorker(db, id, attempt) }
    }

    /// Keeps a result that is not the experiment's row; a resend of the same provenance is ignored.
    static func insertProvenance(_ db: Database, _ id: String, _ attempt: Int, _ digest: String, _ body: Data?,
                                 reason: String, source: String?, now: Double) throws {
        try db.execute(cached: """
            INSERT INTO duplicate_results (experiment, attempt, digest, body, reason, source, recorded_at)
            SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM duplicate_results
                WHERE experiment = ? AND attempt = ? AND digest = ? AND reason = ? AND source IS ?)
            """, arguments: [id, attempt, digest, body, reason, source, now, id, attempt, digest, reason, source])
    }
}
