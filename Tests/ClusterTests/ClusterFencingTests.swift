import Bench
@testable import Cluster
import CZeroMQ
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
        let expected = try SmokeCells.reference()
        let h = try ClusterHarness("fencing")
        let coordinator = try h.startCoordinator(SmokeCells.tinyFilters)
        let context = try ZMQContext()
        defer { context.close() }
        let rogue = try ZMQSocket(context, type: ZMQ_DEALER)
        defer { rogue.close() }
        try rogue.set(ZMQ_LINGER, Int32(0))
        try rogue.set(ZMQ_ROUTING_ID, string: "rogue")
        try rogue.connect(h.endpoint)
        let hello = Message.hello(.init(workerID: "rogue", incarnation: 1, build: "test", cores: 1, slots: 0, draining: false,
                                        running: [], unacknowledged: [], cached: []))
        XCTAssertTrue(h.wait(timeout: 20) { (try? rogue.send(hello.frames(), dontWait: true)) == true
            && (try? self.receive(rogue, timeout: 0.5)).flatMap { $0.flatMap { if case .welcome = $0 { true } else { nil } } } == true })

        let worker = try h.startWorker("w1")
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
        let forged = Message.result(.init(ref: ref, outcome: AttemptOutcome.succeeded.rawValue, failureClass: nil, retryable: false,
                                          message: "", exitStatus: 0, body: body, digest: SHA256.hex(body)))
        XCTAssertTrue(try rogue.send(forged.frames(), dontWait: false))
        var disposition: String?
        XCTAssertTrue(h.wait(timeout: 10) {
            if case .ack(let a)? = try? self.receive(rogue, timeout: 0.2), a.ref == ref { disposition = a.disposition }
            return disposition != nil
        })
        XCTAssertEqual(disposition, ResultDisposition.stale.rawValue)

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

    /// The next protocol message on `socket` within `timeout` seconds, if any.
    private func receive(_ socket: ZMQSocket, timeout: TimeInterval) throws -> Message? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let m = try socket.receive(dontWait: true) { return try Message.decode(m.frames) }
            usleep(10_000)
        } while Date() < deadline
        return nil
    }
}
