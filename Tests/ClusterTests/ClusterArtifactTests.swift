import Bench
@testable import Cluster
import Foundation
import XCTest

/// No sweep waits forever on a checkpoint it cannot get: a pretrain whose checkpoint cannot be
/// pulled runs again on another worker, and the sweep's results equal the local sweep's.
final class ClusterArtifactTests: XCTestCase {
    /// A faulty worker `flaky` is given the pretrain, reports its (real) result, then answers the
    /// coordinator's FETCH with "I do not have it" and goes away. The coordinator withdraws the
    /// result (kept as provenance `artifact_lost`), re-runs the pretrain on `w1`, and the sweep
    /// completes with every metric equal to the local sweep's.
    func testPretrainWhoseCheckpointCannotBePulledRunsAgainElsewhere() throws {
        let expected = try SmokeCells.reference()
        let h = try ClusterHarness("artifact")
        let coordinator = try h.startCoordinator(SmokeCells.tinyFilters, extra: ClusterFaultTests.timers)
        let context = try ZMQContext()
        defer { context.close() }
        var flaky: ScriptedPeer? = try ScriptedPeer("flaky", context: context, endpoint: h.endpoint, slots: 1)
        let assign = try XCTUnwrap(try flaky!.await(timeout: 30) { if case .assign(let a) = $0 { a } else { nil } },
                                   h.text("coordinator"))
        let real = try XCTUnwrap(expected[assign.ref.experiment], "the first assignment is the pretrain")
        XCTAssertEqual(real.spec.kind, .pretrain)
        try flaky!.send(ScriptedPeer.success(assign.ref, body: Array(try JSONEncoder().encode(real))))
        let fetch = try XCTUnwrap(try flaky!.await(timeout: 10) { if case .fetch(let f) = $0 { f } else { nil } },
                                  h.text("coordinator"))
        XCTAssertEqual(fetch.digest, real.metrics.checkpointSHA256)
        try flaky!.send(.chunk(ChunkServer.answer(fetch, path: nil)))
        flaky = nil

        let worker = try h.startWorker("w1")
        XCTAssertEqual(h.finish(coordinator, timeout: 600), 0, h.text("coordinator"))
        h.finish(worker, timeout: 30)
        let log = h.text("coordinator")
        XCTAssertTrue(log.contains("checkpoint cannot be had: the pretrain runs again"), log)

        let journal = try Journal(path: h.journal)
        let attempts = try journal.attempts(assign.ref.experiment)
        XCTAssertEqual(attempts.map(\.worker), ["flaky", "w1"])
        XCTAssertEqual(attempts.first?.failureClass, .artifactUnavailable)
        XCTAssertEqual(attempts.last?.outcome, .succeeded)
        XCTAssertEqual(try journal.provenance(assign.ref.experiment).map(\.reason), ["artifact_lost"])
        XCTAssertEqual(try journal.provenance(assign.ref.experiment).map(\.source), ["flaky"])
        let got = try ClusterHarness.results(h.directory.appendingPathComponent("cluster-results.jsonl").path)
        XCTAssertEqual(got.count, 4)
        try assertSameMetrics(got, expected.filter { got[$0.key] != nil })
    }
}
