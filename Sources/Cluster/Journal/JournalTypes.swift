import Experiments
import Foundation

/// The state of one experiment (cluster.md §6.1).
public enum ExperimentState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a slot.
    case pending
    /// The current attempt is journaled and sent; no sign of execution yet.
    case assigned
    /// The worker has reported the current attempt.
    case running
    /// A complete result is recorded. Terminal.
    case succeeded
    /// Non-retryable failure, or retry budget exhausted. Terminal until an operator retry.
    case failed
    /// Cancelled by an operator or by sweep cancellation. Terminal until an operator retry.
    case cancelled

    /// Whether no scheduler event can move the experiment (only an operator retry can).
    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// How one attempt ended (cluster.md §6.1).
public enum AttemptOutcome: String, Codable, Sendable, CaseIterable {
    case succeeded, failed, lost, preempted, refused, superseded, cancelled
}

/// Failure classes of cluster.md §6.4.
public enum FailureClass: String, Codable, Sendable, CaseIterable {
    case workerLost = "worker_lost", oom, stalled, preempted, refused, error, diverged
    case targetUnreachable = "target_unreachable"
    /// A recorded pretrain whose checkpoint the coordinator could not pull (its holder gone or
    /// failing): the result is withdrawn and the pretrain runs again.
    case artifactUnavailable = "artifact_unavailable"
}

/// An experiment as declared by a sweep: identity, specification and expected cost.
public struct JournalExperiment: Sendable, Equatable {
    /// The experiment ID: SHA-256 of the canonical resolved specification (§4.1), 64 hex characters.
    public var id: String
    /// A human-readable name, used for ordering results.
    public var name: String
    /// `"pretrain"` or `"prune"`.
    public var kind: String
    /// The experiment ID of the base (pretrain) experiment, for prune experiments.
    public var base: String?
    /// The canonical specification JSON.
    public var spec: Data
    /// Expected run time in seconds, for longest-first scheduling.
    public var cost: Double

    public init(id: String, name: String, kind: String, base: String? = nil, spec: Data, cost: Double) {
        self.id = id
        self.name = name
        self.kind = kind
        self.base = base
        self.spec = spec
        self.cost = cost
    }
}

/// The fields of an ``ExperimentRecord`` that transitions change.
public struct ExperimentProgress: Sendable, Equatable {
    public var state: ExperimentState
    public var attempt: Int
    public var worker: String?
    public var countedFailures: Int
    public var infraFailures: Int
}

/// The journaled state of one experiment.
public struct ExperimentRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: String
    public var base: String?
    public var spec: Data
    public var cost: Double
    public var state: ExperimentState
    /// The latest allocated attempt number; 0 when the experiment was never assigned.
    public var attempt: Int
    /// The worker holding the current attempt while the state is `assigned` or `running`.
    public var worker: String?
    /// Failures counted against ``Journal/countedBudget`` since the last operator retry.
    public var countedFailures: Int
    /// Infrastructure failures counted against ``Journal/infraBudget`` since the last operator retry.
    public var infraFailures: Int

    /// The record with `progress` applied.
    public func with(_ progress: ExperimentProgress) -> ExperimentRecord {
        var r = self
        r.state = progress.state; r.attempt = progress.attempt; r.worker = progress.worker
        r.countedFailures = progress.countedFailures; r.infraFailures = progress.infraFailures
        return r
    }

    public init(id: String, name: String, kind: String, base: String?, spec: Data, cost: Double,
                state: ExperimentState, attempt: Int, worker: String?, countedFailures: Int, infraFailures: Int) {
        self.id = id
        self.name = name
        self.kind = kind
        self.base = base
        self.spec = spec
        self.cost = cost
        self.state = state
        self.attempt = attempt
        self.worker = worker
        self.countedFailures = countedFailures
        self.infraFailures = infraFailures
    }
}

extension ExperimentRecord {
    /// Pending behind a base that failed, was cancelled, is itself blocked or is not declared: it
    /// cannot run until an operator retries the base.
    public func isBlocked(in records: [String: ExperimentRecord]) -> Bool {
        guard state == .pending, let base else { return false }
        guard let b = records[base] else { return true }
        return b.state == .failed || b.state == .cancelled || b.isBlocked(in: records)
    }
}

/// One journaled attempt (cluster.md §4.2). `outcome` is nil while the attempt is live.
public struct AttemptRecord: Sendable, Equatable {
    public var experiment: String
    public var attempt: Int
    public var worker: String
    public var outcome: AttemptOutcome?
    public var failureClass: FailureClass?
    public var message: String?
    public var assignedAt: Double
    public var endedAt: Double?

    public init(experiment: String, attempt: Int, worker: String, outcome: AttemptOutcome?,
                failureClass: FailureClass?, message: String?, assignedAt: Double, endedAt: Double?) {
        self.experiment = experiment
        self.attempt = attempt
        self.worker = worker
        self.outcome = outcome
        self.failureClass = failureClass
        self.message = message
        self.assignedAt = assignedAt
        self.endedAt = endedAt
    }
}

/// What ``Journal/recordResult(_:attempt:digest:body:now:)`` did with a successful result.
public enum ResultDisposition: String, Sendable, CaseIterable {
    /// The first complete result: it is now the experiment's result row. ACK.
    case recorded
    /// The experiment already has a result; this one is a resend or provenance. ACK(duplicate).
    case duplicate
    /// The experiment is cancelled or unknown; kept as provenance only. ACK.
    case stale
}

/// The recorded (first complete) result of one experiment.
public struct RecordedResult: Sendable, Equatable {
    public var experiment: String
    /// The attempt that produced the result.
    public var attempt: Int
    /// The result digest the worker sent (the idempotency check of resends).
    public var digest: String
    /// The JSON bytes of an `ExperimentResult`.
    public var body: Data

    public init(experiment: String, attempt: Int, digest: String, body: Data) {
        self.experiment = experiment
        self.attempt = attempt
        self.digest = digest
        self.body = body
    }

    /// The body decoded as an `ExperimentResult` (unknown fields are ignored).
    public func decoded() throws -> ExperimentResult {
        try JSONDecoder().decode(ExperimentResult.self, from: body)
    }
}
