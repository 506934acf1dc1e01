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
            $0.value.spec.kind == .pretrain || ($0.value.spec.leaderboard == "cifar100.resnet18.global_protected" && ["random", "l1", "l2"].contains($0.value.spec.method))
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

    /// Whether `pid` exists and is not a zombie waiting to be reaped.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The state follows the parenthesised command name: "pid (comm) S ...".
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// The job process ID of the first `started` line of a worker log.
    static func jobPID(_ log: String) -> pid_t? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("] started") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("pid=") }) else { return nil }
        return pid_t(field.dropFirst(4))
    }

    /// The 12-character experiment prefix of the first `started` line of a worker log.
    static func firstAttempt(_ log: String) -> String? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("] started") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("attempt=") }) else { return nil }
        return String(field.dropFirst(8).prefix { $0 != "#" })
    }
}
