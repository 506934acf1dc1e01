import Experiments
import Bench
@testable import Cluster
import Foundation
import XCTest

/// A result counts only from the worker that holds the attempt: a registered peer that forges
/// results for another worker's attempts gets them acknowledged as stale and kept as provenance.
final class ClusterFencingTests: XCTestCase {
    /// A rogue peer registers with 0 slots and, while `w1` runs an attempt, sends a well-formed
    /// RESULT for it (the real result with its accuracy edited, correct digest). The coordinator
    /// acknowledges it as stale, journals it as `foreign` provenance, the sweep completes, and every
    /// recorded metric equals the local sweep's.
    func testForgedResultForAnotherWorkersAttemptIsNotRecorded() throws {
        try forgeAnotherWorkersResult(curve: false)
    }

    /// The same with CURVE, the rogue holding an allowlisted key of its own: one compromised worker
    /// machine cannot forge results for another's attempts.
    func testAllowlistedWorkerCannotSendResultsForAnotherWorkersAttempt() throws {
        try forgeAnotherWorkersResult(curve: true)
    }

    private func forgeAnotherWorkersResult(curve: Bool) throws {
        let expected = try SmokeCells.reference()
        let h = try ClusterHarness(curve ? "fencing-curve" : "fencing")
        let keys = h.directory.appendingPathComponent("keys").path
        var coordinatorArgs: [String] = [], workerArgs: [String] = [], rogueCurve: CurveSettings?
        if curve {
            for name in ["coordinator", "w1", "rogue"] {
                let p = try h.start("keygen", ["keygen", name, "--dir", keys])
                XCTAssertEqual(h.finish(p, timeout: 20), 0, h.text("keygen"))
            }
            let allow = try String(contentsOfFile: "\(keys)/w1.pub", encoding: .utf8) + "\n"
                + String(contentsOfFile: "\(keys)/rogue.pub", encoding: .utf8)
            try allow.write(toFile: "\(keys)/allow.txt", atomically: true, encoding: .utf8)
            coordinatorArgs = ["--key", "\(keys)/coordinator.key", "--allow", "\(keys)/allow.txt"]
            workerArgs = ["--key", "\(keys)/w1.key", "--server-key", "\(keys)/coordinator.pub"]
            rogueCurve = CurveSettings(keys: try CurveKeyPair.load("\(keys)/rogue.key"),
                                       serverPublicKey: try CurveKeyPair.loadPublicKey("\(keys)/coordinator.pub"))
        }
        let coordinator = try h.startCoordinator(SmokeCells.tinyFilters, extra: coordinatorArgs)
        let context = try ZMQContext()
        defer { context.close() }
        let rogue = try ScriptedPeer("rogue", context: context, endpoint: h.endpoint, slots: 0, curve: rogueCurve)

        let worker = try h.startWorker("w1", extra: workerArgs)
        // The first attempt the journal gives w1.
        var target: AttemptRecord?
        XCTAssertTrue(h.wait(timeout: 60) {
            guard let j = try? Journal(path: h.journal), let ids = try? j.experiments().map(\.id) else { return false }
            target = ids.lazy.compactMap { try? j.attempts($0).first { $0.worker == "w1" && $0.outcome == nil } }.first
            return target != nil
        }, h.text("coordinator"))
        let attempt = try XCTUnwrap(target)
        let real = try XCTUnwrap(expected[attempt.experiment], "reference lacks \(attempt.experiment)")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(real)) as? [String: Any])
        var metrics = try XCTUnwrap(object["metrics"] as? [String: Any])
        metrics["accuracy"] = 99.99
        object["metrics"] = metrics
        let body = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        let ref = AttemptRef(attempt.experiment, attempt.attempt)
        try rogue.send(ScriptedPeer.success(ref, body: body))
        let disposition = try rogue.await(timeout: 10) { if case .ack(let a) = $0, a.ref == ref { a.disposition } else { nil } }
        XCTAssertEqual(disposition, .stale)

        // Then well-formed but hostile messages of every command about w1's attempt: a HELLO
        // claiming it runs here, heartbeats and progress for it, a failure report for it, fetches
        // and unsolicited chunks, and the coordinator-to-worker commands.
        let sent = try hostile(rogue.socket, ref: ref, messages: 2000)
        XCTAssertEqual(sent, 2000)
        XCTAssertTrue(h.wait(timeout: 5) { h.text("coordinator").contains("cancelled=1") }, "the claimed attempt was not refused")

        XCTAssertEqual(h.finish(coordinator, timeout: 600), 0, h.text("coordinator"))
        h.finish(worker, timeout: 30)
        let journal = try Journal(path: h.journal)
        XCTAssertEqual(try journal.provenance(attempt.experiment).map(\.reason), ["foreign"])
        XCTAssertEqual(try journal.provenance(attempt.experiment).map(\.source), ["rogue"])
        for id in try journal.experiments().map(\.id) {
            XCTAssertEqual(Set(try journal.attempts(id).map(\.worker)), ["w1"], "only w1 ever held an attempt")
        }
        let got = try ClusterHarness.results(h.directory.appendingPathComponent("cluster-results.jsonl").path)
        XCTAssertEqual(got.count, 4)
        try assertSameMetrics(got, expected.filter { got[$0.key] != nil })
        XCTAssertFalse(h.text("coordinator").contains("99.99"), h.text("coordinator"))
        XCTAssertTrue(h.text("coordinator").contains("does not hold the attempt"), h.text("coordinator"))
    }

    /// Sends `messages` well-formed messages of every command about `ref` (which another worker
    /// holds) from `socket`, registered as `rogue`.
    private func hostile(_ socket: ZMQSocket, ref: AttemptRef, messages: Int) throws -> Int {
        let digest = String(repeating: "ab", count: 32)
        var sent = 0
        for i in 0..<messages {
            let message: Message
            switch i % 12 {
            case 0: message = .hello(.init(workerID: "rogue", incarnation: UInt64(i), build: "x", cores: 1, slots: 0, draining: false,
                                           running: [.init(ref: ref, phase: "prune")], unacknowledged: [.init(ref: ref, digest: digest)],
                                           cached: [digest]))
            case 1: message = .heartbeat(.init(sequence: UInt64(i), incarnation: 1, freeSlots: 0, running: [ref], draining: false))
            case 2: message = .progress(.init(ref: ref, sequence: UInt64(i), phase: "finetune", detail: "epoch 99 acc 99.99\nfake"))
            case 3: message = .result(.init(ref: ref, outcome: .failed, failureClass: .error,
                                            retryable: false, message: "forged failure\n", exitStatus: 1, body: [], digest: ContentDigest.hex([])))
            case 4: message = .fetch(.init(digest: digest, offset: i, length: 4096))
            case 5: message = .chunk(.init(digest: digest, offset: 0, totalSize: 10, bytes: Array(repeating: 7, count: 10)))
            case 6: message = .ack(.init(ref: ref, digest: digest, disposition: .recorded))
            case 7: message = .cancel(.init(ref: ref, reason: "x"))
            case 8: message = .assign(.init(ref: ref, experimentJSON: Array("{}".utf8), threads: 1, inputs: []))
            case 9: message = .welcome(.init(incarnation: 1, heartbeatMilliseconds: 1, liveness: 1, leaseMilliseconds: 1, adopted: [ref],
                                             cancelled: []))
            case 10: message = .hello(.init(workerID: "w1", incarnation: 9, build: "x", cores: 1, slots: 4, draining: false,
                                            running: [.init(ref: ref, phase: "prune")], unacknowledged: [], cached: []))
            default: message = .progress(.init(ref: AttemptRef(digest, i + 1), sequence: 1, phase: "\u{1B}[2J", detail: "\r"))
            }
            if try socket.send(message.frames(), dontWait: false) { sent += 1 }
            if i % 100 == 0 { while try socket.receive(dontWait: true) != nil {} }   // keep the inbound queue short
        }
        return sent
    }
}
