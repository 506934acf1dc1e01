import Bench
@testable import Cluster
import Foundation
import XCTest

/// Fixtures shared by the journal and merge tests.
enum JournalFixture {
    /// A fresh temporary directory, removed by the caller's teardown.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Experiment `n`: a 64-hex-digit ID and name `exp-n`.
    static func experiment(_ n: Int, kind: String = "pretrain") -> JournalExperiment {
        let id = String(repeating: "0", count: 56) + String(format: "%08x", n)
        return JournalExperiment(id: id, name: "exp-\(n)", kind: kind, spec: Data(#"{"n":\#(n)}"#.utf8), cost: Double(n))
    }

    /// The golden prune spec of BenchTests (a decodable `ExperimentSpec`).
    static let specJSON = #"{"base":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","dataset":{"name":"fashion-mnist","role":"cifar100","stand_in":true},"kind":"prune","leaderboard":"cifar100.resnet18.global_protected","method":"l1","model":{"arch":"resnet18","input_shape":[1,28,28],"num_classes":10,"variant":"cifar","width":0.25},"profile":"smoke","scheme":"global_protected","seed":0,"settings":{"data":{"test_subset":256,"train_subset":1024},"finetune":{"batch_size":32,"epochs":1,"lr":0.01,"momentum":0.9,"optimizer":"sgd","schedule":"constant","weight_decay":0.0005},"pruning":{"calibration_batch_size":32,"calibration_batches":1,"steps":50}},"speedup":2,"task":"classification"}"#

    /// An `ExperimentResult` body; `extra` is spliced into `metrics` (e.g. an unknown field).
    static func body(_ e: JournalExperiment, accuracy: Double = 90.5, macs: Int = 1_000_000, wall: Double = 12,
                     extra: String = "") -> Data {
        Data("""
            {"id": "\(e.id)", "name": "\(e.name)", "spec": \(specJSON), "timings": {"wall_seconds": \(wall)},
             "metrics": {"kind": "prune", "software_version": "prunebench 0.1.0", "seed": 0, "threads": 1,
              "train_fingerprint": "a", "test_fingerprint": "b", "train_images": 1024, "test_images": 256,
              "accuracy": \(accuracy), "last_epoch_accuracy": 90, "epoch_accuracies": [88.5, \(accuracy)],
              "parameters": 1000, "macs": \(macs), "checkpoint_sha256": "c"\(extra)}}
            """.utf8)
    }
}

final class JournalTests: XCTestCase {
    var directory: URL!
    var path: String { directory.appendingPathComponent("j.db").path }
    let e1 = JournalFixture.experiment(1), e2 = JournalFixture.experiment(2), e3 = JournalFixture.experiment(3)

    override func setUpWithError() throws { directory = try JournalFixture.directory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A journal declaring e1, e2, e3 in sweep `s1`.
    func journal() throws -> Journal {
        let j = try Journal(path: path)
        try j.declare(sweepID: "s1", sweepName: "first", experiments: [e1, e2, e3])
        return j
    }

    func testDeclareIsIdempotent() throws {
        let j = try Journal(path: path)
        XCTAssertEqual(try j.declare(sweepID: "s1", sweepName: "first", experiments: [e1, e2]), 2)
        XCTAssertEqual(try j.declare(sweepID: "s1", sweepName: "first", experiments: [e1, e2]), 0)
        XCTAssertEqual(try j.declare(sweepID: "s2", sweepName: "second", experiments: [e2, e3]), 1)
        XCTAssertEqual(try j.sweeps().map(\.id), ["s1", "s2"])
        XCTAssertEqual(try j.experimentIDs(inSweep: "s2"), [e2.id, e3.id])
        XCTAssertEqual(try j.counts()[.pending], 3)
        XCTAssertEqual(try j.counts()[.succeeded], 0)
        let record = try XCTUnwrap(j.experiment(e2.id))
        XCTAssertEqual(record, ExperimentRecord(id: e2.id, name: "exp-2", kind: "pretrain", base: nil, spec: e2.spec, cost: 2,
                                                state: .pending, attempt: 0, worker: nil, countedFailures: 0, infraFailures: 0))
        XCTAssertNil(try j.experiment("nope"))
    }

    func testAssignAllocatesIncreasingAttemptsOnlyFromPending() throws {
        let j = try journal()
        XCTAssertEqual(try j.assign(e1.id, to: "w1", now: 1), 1)
        XCTAssertThrowsError(try j.assign(e1.id, to: "w2", now: 2)) { XCTAssertEqual(($0 as? JournalError)?.kind, .invalidTransition) }
        XCTAssertThrowsError(try j.assign("nope", to: "w2", now: 2)) { XCTAssertEqual(($0 as? JournalError)?.kind, .unknownExperiment) }
        XCTAssertEqual(try j.endAttempt(e1.id, attempt: 1, outcome: .lost, failureClass: .workerLost, message: nil, retryable: true, now: 3), .pending)
        XCTAssertEqual(try j.assign(e1.id, to: "w2", now: 4), 2)
        XCTAssertEqual(try j.endAttempt(e1.id, attempt: 2, outcome: .refused, failureClass: .refused, message: "no data", retryable: true, now: 5), .pending)
        XCTAssertEqual(try j.assign(e1.id, to: "w3", now: 6), 3)
        let record = try XCTUnwrap(j.experiment(e1.id))
        XCTAssertEqual(record.state, .assigned)
        XCTAssertEqual(record.attempt, 3)
        XCTAssertEqual(record.worker, "w3")
        XCTAssertEqual(try j.attempts(e1.id), [
            AttemptRecord(experiment: e1.id, attempt: 1, worker: "w1", outcome: .lost, failureClass: .workerLost, message: nil, assignedAt: 1, endedAt: 3),
            AttemptRecord(experiment: e1.id, attempt: 2, worker: "w2", outcome: .refused, failureClass: .refused, message: "no data", assignedAt: 4, endedAt: 5),
            AttemptRecord(experiment: e1.id, attempt: 3, worker: "w3", outcome: nil, failureClass: nil, message: nil, assignedAt: 6, endedAt: nil),
        ])
    }

    func testMarkRunningIsFenced() throws {
        let j = try journal()
        XCTAssertFalse(try j.markRunning(e1.id, attempt: 1), "pending")
        try j.assign(e1.id, to: "w1", now: 1)
        XCTAssertFalse(try j.markRunning(e1.id, attempt: 2), "not the current attempt")
        XCTAssertFalse(try j.markRunning("nope", attempt: 1))
        XCTAssertTrue(try j.markRunning(e1.id, attempt: 1))
        XCTAssertFalse(try j.markRunning(e1.id, attempt: 1), "already running")
        XCTAssertEqual(try j.experiment(e1.id)?.state, .running)
    }

    func testLostUsesTheInfrastructureBudget() throws {
        let j = try journal()
        for n in 1...Journal.infraBudget {
            XCTAssertEqual(try j.assign(e1.id, to: "w", now: Double(n)), n)
            try j.markRunning(e1.id, attempt: n)
            let state = try j.endAttempt(e1.id, attempt: n, outcome: .lost, failureClass: .workerLost, message: nil, retryable: true, now: Double(n))
            XCTAssertEqual(state, n < Journal.infraBudget ? .pending : .failed, "loss \(n)")
            XCTAssertEqual(try j.experiment(e1.id)?.infraFailures, n)
        }
        XCTAssertEqual(try j.experiment(e1.id)?.countedFailures, 0)
        XCTAssertNil(try j.experiment(e1.id)?.worker)
    }

    func testRetryableFailuresUseTheCountedBudget() throws {
        let j = try journal()
        for n in 1...Journal.countedBudget {
            try j.assign(e1.id, to: "w", now: 0)
            let state = try j.endAttempt(e1.id, attempt: n, outcome: .failed, failureClass: .oom, message: "OOM", retryable: true, now: 1)
            XCTAssertEqual(state, n < Journal.countedBudget ? .pending : .failed, "failure \(n)")
        }
        XCTAssertEqual(try j.experiment(e1.id)?.countedFailures, Journal.countedBudget)
        // A daemon reporting failed(worker_lost) charges the infrastructure budget instead.
        try j.assign(e2.id, to: "w", now: 0)
        XCTAssertEqual(try j.endAttempt(e2.id, attempt: 1, outcome: .failed, failureClass: .workerLost, message: nil, retryable: true, now: 1), .pending)
        XCTAssertEqual(try j.experiment(e2.id)?.infraFailures, 1)
        XCTAssertEqual(try j.experiment(e2.id)?.countedFailures, 0)
    }

    func testNonRetryableFailureFailsAtOnce() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w", now: 0)
        try j.markRunning(e1.id, attempt: 1)
        XCTAssertEqual(try j.endAttempt(e1.id, attempt: 1, outcome: .failed, failureClass: .diverged, message: "NaN", retryable: false, now: 1), .failed)
        XCTAssertEqual(try j.attempts(e1.id).first?.failureClass, .diverged)
        XCTAssertThrowsError(try j.assign(e1.id, to: "w", now: 2))
        XCTAssertThrowsError(try j.endAttempt(e1.id, attempt: 1, outcome: .succeeded, failureClass: nil, message: nil, retryable: false, now: 2))
        XCTAssertThrowsError(try j.endAttempt("nope", attempt: 1, outcome: .lost, failureClass: nil, message: nil, retryable: true, now: 2))
    }

    func testPreemptedAndRefusedAreNotCounted() throws {
        let j = try journal()
        let ends: [(AttemptOutcome, FailureClass?)] = [(.preempted, .preempted), (.refused, .refused), (.failed, .refused),
                                                       (.failed, .preempted), (.preempted, nil), (.refused, nil), (.preempted, nil)]
        for (n, end) in zip(1..., ends) {
            try j.assign(e1.id, to: "w", now: 0)
            XCTAssertEqual(try j.endAttempt(e1.id, attempt: n, outcome: end.0, failureClass: end.1, message: nil, retryable: true, now: 1), .pending)
        }
        let record = try XCTUnwrap(j.experiment(e1.id))
        XCTAssertEqual([record.countedFailures, record.infraFailures, record.attempt], [0, 0, ends.count])
    }

    func testEndOfANonCurrentAttemptIsProvenanceOnly() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w1", now: 0)
        try j.endAttempt(e1.id, attempt: 1, outcome: .lost, failureClass: .workerLost, message: nil, retryable: true, now: 1)
        try j.assign(e1.id, to: "w2", now: 2)
        try j.markRunning(e1.id, attempt: 2)
        // The presumed-lost attempt 1 later reports a fatal error: state and budgets stay.
        XCTAssertEqual(try j.endAttempt(e1.id, attempt: 1, outcome: .failed, failureClass: .error, message: "late", retryable: false, now: 3), .running)
        let record = try XCTUnwrap(j.experiment(e1.id))
        XCTAssertEqual([record.countedFailures, record.infraFailures], [0, 1])
        XCTAssertEqual(try j.attempts(e1.id).first?.outcome, .lost, "the first outcome stays")
        // An attempt of a failed experiment is provenance too.
        try j.assign(e2.id, to: "w1", now: 0)
        try j.endAttempt(e2.id, attempt: 1, outcome: .failed, failureClass: .error, message: nil, retryable: false, now: 1)
        XCTAssertEqual(try j.endAttempt(e2.id, attempt: 1, outcome: .lost, failureClass: nil, message: nil, retryable: true, now: 2), .failed)
    }

    func testFirstCompleteResultWins() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w1", now: 0)
        try j.endAttempt(e1.id, attempt: 1, outcome: .lost, failureClass: .workerLost, message: "lease expired", retryable: true, now: 60)
        try j.assign(e1.id, to: "w2", now: 61)
        try j.markRunning(e1.id, attempt: 2)
        let body = JournalFixture.body(e1)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d1", body: body, now: 70), .recorded)
        XCTAssertEqual(try j.experiment(e1.id)?.state, .succeeded)
        XCTAssertNil(try j.experiment(e1.id)?.worker)
        let live = try j.liveAttemptsSuperseded(by: e1.id)
        XCTAssertEqual(live.map(\.attempt), [2])
        XCTAssertEqual(live.map(\.worker), ["w2"])
        XCTAssertTrue(try j.liveAttemptsSuperseded(by: e1.id).isEmpty, "marked superseded")
        XCTAssertEqual(try j.attempts(e1.id).map(\.outcome), [.succeeded, .superseded])
        // Attempt 2 completes too: provenance only.
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 2, digest: "d2", body: body, now: 80), .duplicate)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 2, digest: "d2", body: body, now: 81), .duplicate)
        XCTAssertEqual(try j.provenance(e1.id).map(\.attempt), [2])
        XCTAssertEqual(try j.results(), [RecordedResult(experiment: e1.id, attempt: 1, digest: "d1", body: body)])
        XCTAssertEqual(try j.results().first?.decoded().metrics.accuracy, 90.5)
        // A success ends the experiment for every other event.
        XCTAssertFalse(try j.adopt(e1.id, attempt: 2, worker: "w2", now: 90))
        XCTAssertEqual(try j.endAttempt(e1.id, attempt: 2, outcome: .failed, failureClass: .error, message: nil, retryable: false, now: 90), .succeeded)
        XCTAssertNil(try j.cancel(e1.id, now: 91))
        XCTAssertFalse(try j.retry(e1.id))
        XCTAssertTrue(try j.liveAttemptsSuperseded(by: e2.id).isEmpty)
    }

    func testDuplicateResendRecordsOnce() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w1", now: 0)
        let body = JournalFixture.body(e1)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d1", body: body, now: 1), .recorded)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d1", body: body, now: 2), .duplicate)
        XCTAssertEqual(try j.results().count, 1)
        XCTAssertTrue(try j.provenance(e1.id).isEmpty)
        XCTAssertEqual(try j.counts()[.succeeded], 1)
        XCTAssertEqual(try j.attempts(e1.id).map(\.outcome), [.succeeded])
    }

    /// Fencing: a result from a worker other than the attempt's holder is provenance only.
    func testResultFromAnotherWorkerIsProvenanceOnly() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w1", now: 0)
        XCTAssertEqual(try j.holder(of: e1.id, attempt: 1), "w1")
        XCTAssertNil(try j.holder(of: e1.id, attempt: 2))
        let body = JournalFixture.body(e1)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "forged", body: body, worker: "rogue", now: 5), .stale)
        XCTAssertTrue(try j.results().isEmpty)
        XCTAssertEqual(try j.provenance(e1.id).map(\.reason), ["foreign"])
        XCTAssertEqual(try j.provenance(e1.id).map(\.source), ["rogue"])
        XCTAssertNotEqual(try j.experiment(e1.id)?.state, .succeeded)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d1", body: body, worker: "w1", now: 6), .recorded)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "forged2", body: body, worker: "rogue", now: 7), .stale,
                       "fenced after success too")
        XCTAssertEqual(try j.experiment(e1.id)?.state, .succeeded)
    }

    func testResultWhoseCheckpointIsLostIsWithdrawnWithinABudget() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w1", now: 0)
        let body = JournalFixture.body(e1)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d1", body: body, worker: "w1", now: 1), .recorded)
        XCTAssertEqual(try j.withdrawResultWithLostArtifact(e1.id, message: "no holder", now: 2), .pending)
        XCTAssertTrue(try j.results().isEmpty)
        XCTAssertEqual(try j.provenance(e1.id).map(\.reason), ["artifact_lost"])
        XCTAssertEqual(try j.provenance(e1.id).map(\.source), ["w1"])
        let lost = try XCTUnwrap(j.attempts(e1.id).first)
        XCTAssertEqual(lost.outcome, .lost)
        XCTAssertEqual(lost.failureClass, .artifactUnavailable)
        XCTAssertEqual(lost.message, "no holder")
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d1", body: body, worker: "w1", now: 3), .stale,
                       "a resend of the withdrawn result does not come back")
        XCTAssertEqual(try j.experiment(e1.id)?.state, .pending)
        XCTAssertThrowsError(try j.withdrawResultWithLostArtifact(e1.id, message: "x", now: 3), "nothing recorded to withdraw")

        XCTAssertEqual(try j.assign(e1.id, to: "w2", now: 4), 2)
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 2, digest: "d1", body: body, worker: "w2", now: 5), .recorded)
        XCTAssertEqual(try j.withdrawResultWithLostArtifact(e1.id, message: "pulls failed", now: 6), .failed,
                       "the budget of \(Journal.artifactBudget) lost checkpoints is spent")
        XCTAssertEqual(try j.experiment(e1.id)?.state, .failed)
        XCTAssertEqual(try j.attempts(e1.id).last?.message, "pulls failed")
    }

    func testCancelAndStaleResults() throws {
        let j = try journal()
        try j.assign(e1.id, to: "w1", now: 0)
        try j.markRunning(e1.id, attempt: 1)
        let holder = try XCTUnwrap(j.cancel(e1.id, now: 5))
        XCTAssertEqual([holder.attempt], [1])
        XCTAssertEqual(holder.worker, "w1")
        XCTAssertEqual(try j.experiment(e1.id)?.state, .cancelled)
        XCTAssertEqual(try j.attempts(e1.id).first?.outcome, .cancelled)
        XCTAssertNil(try j.cancel(e1.id, now: 6), "already cancelled")
        XCTAssertEqual(try j.recordResult(e1.id, attempt: 1, digest: "d", body: JournalFixture.body(e1), now: 7), .stale)
        XCTAssertEqual(try j.recordResult("nope", attempt: 1, digest: "d", body: Data("{}".utf8), now: 7), .stale)
        XCTAssertEqual(try j.recordResult(e2.id, attempt: 1, digest: "d", body: JournalFixture.body(e2), now: 7), .stale,
                       "attempt never journaled")
        XCTAssertTrue(try j.results().isEmpty)
        XCTAssertEqual(try j.provenance(e1.id).map(\.reason), ["stale"])
        XCTAssertNil(try j.cancel(e2.id, now: 8), "pending: nothing live")
        XCTAssertEqual(try j.counts()[.cancelled], 2)
        XCTAssertThrowsError(try j.cancel("nope", now: 9))
    }

    func testAdoptRules() throws {
        let j = try journal()
        XCTAssertFalse(try j.adopt(e1.id, attempt: 1, worker: "w1", now: 0), "never assigned")
        XCTAssertFalse(try j.adopt("nope", attempt: 1, worker: "w1", now: 0))
        try j.assign(e1.id, to: "w1", now: 0)
        XCTAssertFalse(try j.adopt(e1.id, attempt: 2, worker: "w1", now: 1), "unknown attempt")
        XCTAssertFalse(try j.adopt(e1.id, attempt: 1, worker: "rogue", now: 1), "another worker's attempt")
        XCTAssertTrue(try j.adopt(e1.id, attempt: 1, worker: "w1", now: 1), "assigned")
        XCTAssertEqual(try j.experiment(e1.id)?.state, .running)
        XCTAssertTrue(try j.adopt(e1.id, attempt: 1, worker: "w1", now: 2), "running")
        // Marked lost, then the worker reconnects before any reassignment: adopted, loss undone.
        try j.endAttempt(e1.id, attempt: 1, outcome: .lost, failureClass: .workerLost, message: nil, retryable: true, now: 3)
        XCTAssertTrue(try j.adopt(e1.id, attempt: 1, worker: "w1", now: 4))
        var record = try XCTUnwrap(j.experiment(e1.id))
        XCTAssertEqual(record.state, .running)
        XCTAssertEqual(record.worker, "w1")
        XCTAssertEqual(record.infraFailures, 0)
        XCTAssertNil(try j.attempts(e1.id).first?.outcome)
        // Lost and reassigned: the old attempt is cancelled, not adopted.
        try j.endAttempt(e1.id, attempt: 1, outcome: .lost, failureClass: .workerLost, message: nil, retryable: true, now: 5)
        try j.assign(e1.id, to: "w2", now: 6)
        XCTAssertFalse(try j.adopt(e1.id, attempt: 1, worker: "w1", now: 7))
        // Pending for another reason (refused) is not adoptable.
        try j.endAttempt(e1.id, attempt: 2, outcome: .refused, failureClass: .refused, message: nil, retryable: true, now: 8)
        XCTAssertFalse(try j.adopt(e1.id, attempt: 2, worker: "w2", now: 9))
        record = try XCTUnwrap(j.experiment(e1.id))
        XCTAssertEqual(record.state, .pending)
    }

    func testRetryRestartsBudgetsAndContinuesNumbering() throws {
        let j = try journal()
        for n in 1...Journal.countedBudget {
            try j.assign(e1.id, to: "w", now: 0)
            try j.endAttempt(e1.id, attempt: n, outcome: .failed, failureClass: .stalled, message: nil, retryable: true, now: 1)
        }
        XCTAssertEqual(try j.experiment(e1.id)?.state, .failed)
        XCTAssertFalse(try j.retry(e2.id), "pending")
        XCTAssertTrue(try j.retry(e1.id))
        let record = try XCTUnwrap(j.experiment(e1.id))
        XCTAssertEqual(record.state, .pending)
        XCTAssertEqual([record.countedFailures, record.infraFailures], [0, 0])
        XCTAssertEqual(try j.assign(e1.id, to: "w", now: 2), Journal.countedBudget + 1)
        try j.cancel(e2.id, now: 3)
        XCTAssertTrue(try j.retry(e2.id))
        XCTAssertEqual(try j.assign(e2.id, to: "w", now: 4), 1)
    }

    func testDraining() throws {
        let j = try journal()
        try j.setDraining("gpu07", true)
        try j.setDraining("gpu07", true)
        try j.setDraining("gpu08", true)
        try j.setDraining("gpu08", false)
        XCTAssertEqual(try j.drainingWorkers(), ["gpu07"])
    }

    func testStateSurvivesReopening() throws {
        var j: Journal? = try journal()
        try j?.assign(e1.id, to: "w1", now: 1)
        try j?.markRunning(e1.id, attempt: 1)
        _ = try j?.recordResult(e1.id, attempt: 1, digest: "d1", body: JournalFixture.body(e1), now: 2)
        try j?.assign(e2.id, to: "w2", now: 3)
        try j?.endAttempt(e2.id, attempt: 1, outcome: .failed, failureClass: .oom, message: "OOM", retryable: true, now: 4)
        try j?.assign(e2.id, to: "w1", now: 5)
        try j?.assign(e3.id, to: "w2", now: 6)
        try j?.cancel(e3.id, now: 7)
        try j?.setDraining("w2", true)
        func state(_ j: Journal) throws -> String {
            "\(try j.experiments()) \(try [e1, e2, e3].map { try j.attempts($0.id) }) \(try j.results()) "
                + "\(try j.counts().sorted { $0.key.rawValue < $1.key.rawValue }) \(try j.sweeps()) \(try j.drainingWorkers())"
        }
        let before = try state(XCTUnwrap(j))
        j = nil
        let reopened = try Journal(path: path)
        let settings = try reopened.durabilitySettings()
        XCTAssertEqual(settings.journalMode, "wal")
        XCTAssertEqual(settings.synchronous, 2, "FULL")
        XCTAssertEqual(try state(reopened), before)
        XCTAssertEqual(try reopened.experiment(e2.id)?.attempt, 2)
        XCTAssertTrue(try reopened.retry(e3.id))
        XCTAssertEqual(try reopened.assign(e3.id, to: "w", now: 8), 2, "numbering continues after reopening")
    }

    func testOpeningSomethingElseNamesTheFile() throws {
        let garbage = directory.appendingPathComponent("garbage.db").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 0x41, count: 4096))
        XCTAssertThrowsError(try Journal(path: garbage)) { error in
            XCTAssertEqual((error as? JournalError)?.kind, .notAJournal)
            XCTAssertTrue("\(error)".hasPrefix("\(garbage): not a prunebench journal"), "\(error)")
        }
        XCTAssertThrowsError(try Journal(path: directory.path)) { XCTAssertTrue("\($0)".contains(self.directory.path)) }
        XCTAssertThrowsError(try Journal.openExisting(path)) { XCTAssertTrue("\($0)".contains("does not exist"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "openExisting creates nothing")
        _ = try Journal(path: path)
        XCTAssertNoThrow(try Journal.openExisting(path))
    }
}
