import Experiments
import Bench
@testable import Cluster
import CZeroMQ
import Foundation
import XCTest

/// End-to-end: real coordinator and worker processes on loopback, smoke experiments.
final class ClusterIntegrationTests: XCTestCase {
    /// ≥ 30 experiments over 3 workers (one joining mid-sweep, one drained) while a fuzzer sends
    /// thousands of garbage frames: results identical to a local sweep, one row each.
    func testSweepAcrossThreeWorkersMatchesLocalSweep() throws {
        let expected = try SmokeCells.reference()
        XCTAssertGreaterThanOrEqual(expected.count, 30)
        let h = try ClusterHarness("three")
        let coordinator = try h.startCoordinator(SmokeCells.filters)
        let w1 = try h.startWorker("w1"), w2 = try h.startWorker("w2")
        XCTAssertTrue(h.wait(timeout: 60) { h.text("coordinator").contains("result recorded") }, h.text("coordinator"))

        // Garbage from an unregistered peer: random frames, bad tags, truncated valid messages.
        let fuzzed = try fuzz(h.endpoint, messages: 3000)
        XCTAssertEqual(fuzzed, 3000)

        // A worker started mid-sweep receives work within 2 s.
        let joined = Date()
        let w3 = try h.startWorker("w3")
        XCTAssertTrue(h.wait(timeout: 2) { h.text("w3").contains("] started") }, "w3 got no work within 2 s:\n\(h.text("w3"))")
        let firstWork = Date().timeIntervalSince(joined)

        // Drain w1: no new work after the command, and it exits once idle.
        let drain = try h.start("drain", ["drain", "w1", "--journal", h.journal])
        XCTAssertEqual(h.finish(drain, timeout: 20), 0, h.text("drain"))
        let drainedAt = h.text("coordinator").split(separator: "\n").count
        // `finish` mode: w1 completes the experiment it holds (its length is the experiment's), then leaves.
        XCTAssertNotNil(h.finish(w1, timeout: 300), "w1 did not exit after drain")
        XCTAssertTrue(h.text("w1").contains("drained: exiting"), h.text("w1"))
        let afterDrain = h.text("coordinator").split(separator: "\n").dropFirst(drainedAt)
        XCTAssertFalse(afterDrain.contains { $0.contains("assigned") && $0.contains("worker=w1") }, "w1 got work after drain")

        XCTAssertEqual(h.finish(coordinator, timeout: 600), 0, h.text("coordinator"))
        for w in [w2, w3] { XCTAssertNotNil(h.finish(w, timeout: 30)) }
        let got = try ClusterHarness.results(h.directory.appendingPathComponent("cluster-results.jsonl").path)
        try assertSameMetrics(got, expected)
        XCTAssertTrue(h.text("coordinator").contains("malformed message dropped"))
        // 3,000 garbage frames cost a few rate-limited lines and a summary, each one printable line.
        let lines = h.text("coordinator").split(separator: "\n")
        XCTAssertLessThan(lines.filter { $0.contains("malformed message dropped") }.count, 100)
        XCTAssertTrue(lines.contains { $0.contains("peer warnings suppressed") }, h.text("coordinator"))
        XCTAssertFalse(lines.contains { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }, "control bytes in the log")
        let journal = try Journal(path: h.journal)
        XCTAssertEqual(try journal.results().count, expected.count)
        print("cluster: \(got.count) experiments on 3 workers; w3 first work after \(String(format: "%.2f", firstWork)) s")
    }

    /// kill -9 of workers and of the coordinator at random points, restarts on the same journal:
    /// every experiment ends with exactly one result, identical to the local sweep's.
    ///
    /// `PRUNEBENCH_CRASH_POINTS=N` (default 4) keeps crashing until N crash points have been
    /// survived, over as many sweeps (each on a new journal) as that takes: the fault-injection run
    /// of docs/benchmarks.md uses 100.
    func testRandomCrashesLoseAndDuplicateNothing() throws {
        let expected = try SmokeCells.reference().filter { $0.value.spec.leaderboard == "cifar100.resnet18.global_protected" || $0.value.spec.kind == .pretrain }
        let target = Int(ProcessInfo.processInfo.environment["PRUNEBENCH_CRASH_POINTS"] ?? "") ?? 4
        var crashes = [String](), sweeps = 0, lost = 0
        while crashes.count < target {
            let round = try crashRound(crashes: target - crashes.count, expected: expected)
            crashes += round.crashes
            lost += round.lost
            sweeps += 1
        }
        let kinds = Dictionary(grouping: crashes) { $0 == "coordinator" ? "coordinator" : "worker" }.mapValues(\.count)
        print("crash test: \(crashes.count) crash points (\(kinds)) over \(sweeps) sweeps of \(expected.count) experiments: "
              + "0 lost, 0 duplicated; \(lost) attempts lost and re-queued")
    }

    /// One sweep with up to `crashes` random kills; checks it and returns what was killed.
    func crashRound(crashes limit: Int, expected: [String: ExperimentResult]) throws -> (crashes: [String], lost: Int) {
        let h = try ClusterHarness("crash")
        let timers = ["--heartbeat-ms", "250", "--liveness", "4", "--lease-seconds", "3"]
        var coordinator = try h.startCoordinator(SmokeCells.smallFilters, extra: timers)
        var workers = ["w1": try h.startWorker("w1"), "w2": try h.startWorker("w2")]
        var crashes = [String]()
        let coordinatorFirst = Bool.random()
        while crashes.count < limit {
            usleep(UInt32.random(in: 1_500_000...3_500_000))
            guard coordinator.isRunning else { break }
            // The first two kills of a round are one of each kind (in random order), the rest at random.
            let coordinatorNext = crashes.count < 2 ? (crashes.count == 0 ? coordinatorFirst : !coordinatorFirst) : Bool.random()
            if coordinatorNext {
                kill(coordinator.processIdentifier, SIGKILL); coordinator.waitUntilExit()
                crashes.append("coordinator")
                coordinator = try h.startCoordinator([], extra: timers + ["--resume"], name: "coordinator")
            } else {
                let id = ["w1", "w2"].randomElement()!
                kill(workers[id]!.processIdentifier, SIGKILL); workers[id]!.waitUntilExit()
                crashes.append(id)
                workers[id] = try h.startWorker(id)
            }
        }
        XCTAssertEqual(h.finish(coordinator, timeout: 600), 0, h.text("coordinator"))
        for w in workers.values { h.finish(w, timeout: 30) }
        let journal = try Journal(path: h.journal)
        let recorded = try journal.results()
        XCTAssertEqual(recorded.count, expected.count, "crashes: \(crashes)")
        XCTAssertEqual(Set(recorded.map(\.experiment)).count, recorded.count, "duplicate result rows")
        let got = Dictionary(uniqueKeysWithValues: try recorded.map { ($0.experiment, try $0.decoded()) })
        try assertSameMetrics(got, expected)
        // Workers that came back after a coordinator restart had their running attempts adopted, none cancelled.
        XCTAssertFalse(h.text("coordinator").contains("cancelled=1"), h.text("coordinator"))
        return (crashes, h.text("coordinator").components(separatedBy: "outcome=lost").count - 1)
    }

    /// With CURVE and an allowlist, a worker whose key is not listed never registers or gets work.
    func testWorkerWithoutAllowedKeyReceivesNothing() throws {
        let h = try ClusterHarness("curve")
        let keys = h.directory.appendingPathComponent("keys").path
        for name in ["coordinator", "good", "bad"] {
            let p = try h.start("keygen", ["keygen", name, "--dir", keys])
            XCTAssertEqual(h.finish(p, timeout: 20), 0, h.text("keygen"))
        }
        try FileManager.default.copyItem(atPath: "\(keys)/good.pub", toPath: "\(keys)/allow.txt")
        let filters = ["--profile", "smoke", "--leaderboard", "cifar100.resnet18.global_protected", "--speedup", "2", "--method", "l1"]
        let coordinator = try h.startCoordinator(filters, extra: ["--key", "\(keys)/coordinator.key", "--allow", "\(keys)/allow.txt"])
        // The operator's view meanwhile: `status --follow` (log lines off a terminal) until the sweep completes.
        let follow = try h.start("follow", ["status", "--journal", h.journal, "--follow", "--interval", "0.5"])
        let bad = try h.startWorker("bad", extra: ["--key", "\(keys)/bad.key", "--server-key", "\(keys)/coordinator.pub"])
        XCTAssertTrue(h.wait(timeout: 10) { h.text("coordinator").contains("authentication refused") }, h.text("coordinator"))
        let good = try h.startWorker("good", extra: ["--key", "\(keys)/good.key", "--server-key", "\(keys)/coordinator.pub"])
        XCTAssertEqual(h.finish(coordinator, timeout: 300), 0, h.text("coordinator"))
        h.finish(good, timeout: 30)
        kill(bad.processIdentifier, SIGTERM)
        h.finish(bad, timeout: 10)
        XCTAssertEqual(h.finish(follow, timeout: 30), 0, h.text("follow"))
        XCTAssertTrue(h.text("follow").contains("done=2") && h.text("follow").contains("total=2"), h.text("follow"))
        XCTAssertFalse(h.text("bad").contains("registered"), h.text("bad"))
        XCTAssertFalse(h.text("coordinator").contains("worker=bad"), h.text("coordinator"))
        let journal = try Journal(path: h.journal)
        XCTAssertEqual(try journal.results().count, 2)
        for id in try journal.experiments().map(\.id) {
            XCTAssertEqual(Set(try journal.attempts(id).map(\.worker)), ["good"])
        }
    }

    /// Sends `messages` malformed or unexpected messages from a throw-away DEALER.
    func fuzz(_ endpoint: String, messages: Int) throws -> Int {
        let context = try ZMQContext()
        defer { context.close() }
        let socket = try ZMQSocket(context, type: ZMQ_DEALER)
        defer { socket.close() }
        try socket.set(ZMQ_LINGER, Int32(2000))
        try socket.set(ZMQ_SNDHWM, Int32(100_000))
        try socket.connect(endpoint)
        let valid = Message.progress(.init(ref: AttemptRef(String(repeating: "a", count: 64), 1), sequence: 1, phase: "x", detail: "y")).frames()
        var sent = 0
        for i in 0..<messages {
            var frames: [[UInt8]]
            switch i % 4 {
            case 0: frames = (0..<Int.random(in: 1...5)).map { _ in (0..<Int.random(in: 0...40)).map { _ in UInt8.random(in: 0...255) } }
            case 1: frames = [Array("PBC/1".utf8), [UInt8.random(in: 0...20)], (0..<Int.random(in: 0...80)).map { _ in UInt8.random(in: 0...255) }]
            case 2: frames = [valid[0], valid[1], Array(valid[2].prefix(Int.random(in: 0..<valid[2].count)))]
            default: frames = valid  // well-formed, but from an unregistered peer
            }
            if try socket.send(frames, dontWait: false) { sent += 1 }
        }
        return sent
    }
}
