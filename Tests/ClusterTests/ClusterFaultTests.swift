import Experiments
import Bench
import Cluster
import Foundation
import XCTest

/// Single, deterministic faults at a known point: a worker killed while its experiment runs, and
/// the coordinator killed while an experiment runs (cluster.md §15.3, §16).
final class ClusterFaultTests: XCTestCase {
    /// Short heartbeats and leases so that reclaiming a dead worker's attempt takes seconds.
    static let timers = ["--heartbeat-ms", "250", "--liveness", "4", "--lease-seconds", "3"]

    /// The reference results of ``SmokeCells/tinyFilters``'s experiments.
    func expected() throws -> [String: ExperimentResult] {
        try SmokeCells.reference().filter {
            $0.value.spec.kind == .pretrain || ($0.value.spec.leaderboard == "cifar100.resnet18.global_protected" && SmokeCells.tinyMethods.contains($0.value.spec.method ?? ""))
        }
    }

    /// kill -9 of a worker while its experiment runs: the job dies with it, the attempt is lost and
    /// re-assigned to another worker, the sweep completes with one result per experiment, identical
    /// to the local sweep's.
    func testWorkerKilledMidExperimentIsReassigned() throws {
        let expected = try expected()
        XCTAssertEqual(expected.count, 4)
        let h = try ClusterHarness("workerkill")
        let coordinator = try h.startCoordinator(SmokeCells.tinyFilters, extra: Self.timers)
        let w1 = try h.startWorker("w1")
        // w1 is alone, so it gets the pretrain, which every other experiment waits for.
        XCTAssertTrue(h.wait(timeout: 60) { h.text("w1").contains("] started") }, h.text("w1"))
        let job = try XCTUnwrap(Self.jobPID(h.text("w1")), h.text("w1"))
        let attempt = try XCTUnwrap(Self.firstAttempt(h.text("w1")))
        kill(w1.processIdentifier, SIGKILL)
        w1.waitUntilExit()
        // The job process must not outlive its daemon (parent-death signal).
        XCTAssertTrue(h.wait(timeout: 5) { !Self.isAlive(job) }, "job \(job) outlived its worker")
        XCTAssertFalse(h.text("w1").contains("finished"), "the experiment had finished before the kill:\n\(h.text("w1"))")

        let w2 = try h.startWorker("w2")
        XCTAssertEqual(h.finish(coordinator, timeout: 300), 0, h.text("coordinator"))
        h.finish(w2, timeout: 30)

        let journal = try Journal(path: h.journal)
        let recorded = try journal.results()
        XCTAssertEqual(recorded.count, expected.count)
        XCTAssertEqual(Set(recorded.map(\.experiment)).count, recorded.count, "duplicate result rows")
        let killed = try XCTUnwrap(try journal.experiments().first { $0.id.hasPrefix(attempt) })
        let attempts = try journal.attempts(killed.id)
        XCTAssertEqual(attempts.map(\.worker), ["w1", "w2"], "\(attempts)")
        XCTAssertEqual(attempts.map(\.outcome), [.lost, .succeeded], "\(attempts)")
        let got = Dictionary(uniqueKeysWithValues: try recorded.map { ($0.experiment, try $0.decoded()) })
        try assertSameMetrics(got, expected)
    }

    /// kill -9 of the coordinator while an experiment runs, then a restart on the same journal: the
    /// worker re-registers, its running attempt is adopted (not cancelled, not re-run) and its result
    /// recorded; every experiment ran exactly once.
    ///
    /// The job is stopped (SIGSTOP) across the restart, standing for an experiment longer than the
    /// restart, then continued: smoke experiments take about as long as the restart itself.
    func testCoordinatorKilledMidExperimentAdoptsTheRunningAttempt() throws {
        let expected = try expected()
        let h = try ClusterHarness("adopt")
        var coordinator = try h.startCoordinator(SmokeCells.tinyFilters, extra: Self.timers)
        let w1 = try h.startWorker("w1")
        XCTAssertTrue(h.wait(timeout: 60) { h.text("w1").contains("] started") }, h.text("w1"))
        let job = try XCTUnwrap(Self.jobPID(h.text("w1")), h.text("w1"))
        kill(job, SIGSTOP)
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()

        let restarted = Date()
        coordinator = try h.startCoordinator([], extra: Self.timers + ["--resume"])
        XCTAssertTrue(h.wait(timeout: 10) { h.text("coordinator").contains("adopted=1") }, h.text("coordinator"))
        let adoptedAfter = Date().timeIntervalSince(restarted)
        kill(job, SIGCONT)
        XCTAssertEqual(h.finish(coordinator, timeout: 300), 0, h.text("coordinator"))
        h.finish(w1, timeout: 30)

        XCTAssertFalse(h.text("coordinator").contains("outcome=lost"), h.text("coordinator"))
        XCTAssertFalse(h.text("w1").contains("cancelling"), h.text("w1"))
        XCTAssertTrue(h.text("w1").contains("coordinator restarted"), h.text("w1"))
        let journal = try Journal(path: h.journal)
        let recorded = try journal.results()
        XCTAssertEqual(recorded.count, expected.count)
        for e in try journal.experiments() {
            let attempts = try journal.attempts(e.id)
            XCTAssertEqual(attempts.count, 1, "\(e.name) ran \(attempts.count) times: \(attempts)")
            XCTAssertEqual(attempts.first?.outcome, .succeeded)
        }
        let got = Dictionary(uniqueKeysWithValues: try recorded.map { ($0.experiment, try $0.decoded()) })
        try assertSameMetrics(got, expected)
        print("adoption: running attempt adopted \(String(format: "%.2f", adoptedAfter)) s after the coordinator restarted")
    }

    /// kill -9 of a job process (standing for a crash or the OOM killer): the daemon reports it at once
    /// as failed with the signal, the rest of the sweep goes on and completes; after an operator
    /// `cancel --retry` on the restarted coordinator the experiment runs again and its result equals
    /// the local sweep's.
    func testKilledJobIsReportedFailedAndRetriedByTheOperator() throws {
        let expected = try expected()
        let h = try ClusterHarness("jobkill")
        let coordinator = try h.startCoordinator(SmokeCells.tinyFilters)
        let w1 = try h.startWorker("w1")
        // The second job is a pruning experiment (the first is the pretrain they all need).
        XCTAssertTrue(h.wait(timeout: 120) { Self.started(h.text("w1")).count >= 2 }, h.text("w1"))
        let line = Self.started(h.text("w1"))[1]
        let job = try XCTUnwrap(Self.field("pid", of: line).flatMap { pid_t($0) }, String(line))
        let prefix = try XCTUnwrap(Self.field("attempt", of: line)?.prefix { $0 != "#" }).description
        kill(job, SIGKILL)
        let killed = Date()
        XCTAssertTrue(h.wait(timeout: 10) { h.text("coordinator").contains("outcome=failed") }, h.text("coordinator"))
        let reported = Date().timeIntervalSince(killed)
        XCTAssertEqual(h.finish(coordinator, timeout: 300), 0, h.text("coordinator"))
        h.finish(w1, timeout: 30)

        var journal = try Journal(path: h.journal)
        XCTAssertEqual(try journal.results().count, expected.count - 1)
        let failed = try XCTUnwrap(try journal.experiments().first { $0.id.hasPrefix(prefix) })
        XCTAssertEqual(failed.state, .failed)
        let attempt = try XCTUnwrap(try journal.attempts(failed.id).last)
        XCTAssertEqual(attempt.failureClass, .error)
        XCTAssertTrue(attempt.message?.contains("killed by signal 9") == true, attempt.message ?? "no message")

        // The operator retries it on a restarted coordinator (serving until stopped).
        let serving = try h.start("coordinator", ["coordinator", "--journal", h.journal, "--bind", h.endpoint, "--resume"])
        let w2 = try h.startWorker("w2")
        let retry = try h.start("retry", ["cancel", "--retry", prefix, "--journal", h.journal])
        XCTAssertEqual(h.finish(retry, timeout: 30), 0, h.text("retry"))
        XCTAssertTrue(h.wait(timeout: 120) { (try? Journal(path: h.journal).results().count) == expected.count }, h.text("coordinator"))
        kill(serving.processIdentifier, SIGTERM)
        kill(w2.processIdentifier, SIGTERM)
        XCTAssertEqual(h.finish(serving, timeout: 30), 0, h.text("coordinator"))
        h.finish(w2, timeout: 30)

        journal = try Journal(path: h.journal)
        XCTAssertEqual(try journal.attempts(failed.id).map(\.outcome), [.failed, .succeeded])
        let got = Dictionary(uniqueKeysWithValues: try journal.results().map { ($0.experiment, try $0.decoded()) })
        try assertSameMetrics(got, expected)
        print("job kill: reported failed \(String(format: "%.2f", reported)) s after kill -9 of the job")
    }

    /// A job that allocates past the worker's `--job-memory` cap is recorded as `oom` (with the
    /// cap in its message); the other experiments of the sweep complete with the local sweep's results.
    func testJobPastItsMemoryCapIsRecordedOOM() throws {
        let expected = try expected()
        let h = try ClusterHarness("oom")
        let coordinator = try h.startCoordinator(SmokeCells.tinyFilters)
        // The test hook of `prunebench run` (inherited by the worker's jobs): the l2 row allocates 1.5 GB.
        setenv("PRUNEBENCH_TEST_ALLOCATE_BYTES", "1500000000", 1)
        setenv("PRUNEBENCH_TEST_ALLOCATE_MATCH", "/l2", 1)
        let w1 = try h.startWorker("w1", extra: ["--job-memory", "1"])
        unsetenv("PRUNEBENCH_TEST_ALLOCATE_BYTES")
        unsetenv("PRUNEBENCH_TEST_ALLOCATE_MATCH")
        XCTAssertEqual(h.finish(coordinator, timeout: 300), 0, h.text("coordinator"))
        h.finish(w1, timeout: 30)

        let journal = try Journal(path: h.journal)
        let l2 = try XCTUnwrap(try journal.experiments().first { $0.name.hasSuffix("/l2") })
        XCTAssertEqual(l2.state, .failed)
        let attempt = try XCTUnwrap(try journal.attempts(l2.id).last)
        XCTAssertEqual(attempt.failureClass, .oom, attempt.message ?? "no message")
        XCTAssertTrue(attempt.message?.contains("job memory limit 1.00 GB") == true, attempt.message ?? "no message")
        let got = Dictionary(uniqueKeysWithValues: try journal.results().map { ($0.experiment, try $0.decoded()) })
        XCTAssertEqual(got.count, expected.count - 1)
        try assertSameMetrics(got, expected.filter { $0.key != l2.id })
        XCTAssertTrue(h.text("coordinator").contains("failure_class=oom") || h.text("coordinator").contains("out of memory"),
                      h.text("coordinator"))
    }

    /// The `started` lines of a worker log, in order.
    static func started(_ log: String) -> [Substring] { log.split(separator: "\n").filter { $0.contains("] started") } }

    /// The value of `key=value` in a log line.
    static func field(_ key: String, of line: Substring) -> Substring? {
        line.split(separator: " ").first { $0.hasPrefix(key + "=") }?.dropFirst(key.count + 1)
    }

    /// Whether `pid` exists and is not a zombie waiting to be reaped.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The state follows the parenthesised command name: "pid (comm) S ...".
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// The job process ID of the first `started` line of a worker log.
    static func jobPID(_ log: String) -> pid_t? { started(log).first.flatMap { field("pid", of: $0) }.flatMap { pid_t($0) } }

    /// The 12-character experiment prefix of the first `started` line of a worker log.
    static func firstAttempt(_ log: String) -> String? {
        started(log).first.flatMap { field("attempt", of: $0) }.map { String($0.prefix { $0 != "#" }) }
    }
}
