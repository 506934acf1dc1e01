import Experiments
import Bench
import Foundation
import XCTest

final class LocalSweepTests: XCTestCase {
    /// The smoke grid of the built-in fashion sweep, restricted to one board and two methods:
    /// one pretrain experiment and its pruning experiments.
    func smokeGrid(methods: Set<String> = ["l1", "random"]) throws -> Grid {
        try Grid(sweep: Sweep.embeddedFashion(), profile: "smoke",
                 filter: GridFilter(leaderboards: ["cifar100.resnet18.global_protected"], methods: methods))
    }

    func testPruneExperimentsStartOnlyAfterTheirBase() throws {
        let grid = try smokeGrid()
        XCTAssertEqual(grid.pretrain.count, 1)
        // Hand the scheduler the pruning experiments first: the base must still run first.
        var s = LocalSweepScheduler(experiments: grid.pruning + grid.pretrain) { _ in false }
        let first = try XCTUnwrap(s.next())
        XCTAssertEqual(first.spec.kind, .pretrain)
        XCTAssertNil(s.next(), "nothing else may start while the base is running")
        s.finish(first.id, succeeded: true)
        var started = [Experiment]()
        while let e = s.next() { started.append(e) }
        XCTAssertEqual(started.count, grid.pruning.count)
        XCTAssertTrue(started.allSatisfy { $0.spec.base == first.id })
        for e in started { s.finish(e.id, succeeded: true) }
        XCTAssertTrue(s.isFinished)
        XCTAssertEqual(s.counts.succeeded, grid.all.count)
    }

    func testResumeSkipsExperimentsWithResults() throws {
        let grid = try smokeGrid()
        let done = Set([grid.pretrain[0].id, grid.pruning[0].id])
        var s = LocalSweepScheduler(experiments: grid.all) { done.contains($0.id) }
        XCTAssertEqual(s.counts.alreadyDone, 2)
        var ran = [String]()
        s.runSerially { ran.append($0.id); return true }
        XCTAssertEqual(Set(ran), Set(grid.all.map(\.id)).subtracting(done))
        XCTAssertTrue(s.isFinished)
    }

    func testAFailureDoesNotStopTheOthers() throws {
        let grid = try smokeGrid()
        let failing = grid.pruning[0].id
        var s = LocalSweepScheduler(experiments: grid.all) { _ in false }
        var ran = [String]()
        s.runSerially { ran.append($0.id); return $0.id != failing }
        XCTAssertEqual(ran.count, grid.all.count)
        XCTAssertEqual(s.counts.failed, 1)
        XCTAssertEqual(s.counts.succeeded, grid.all.count - 1)
        XCTAssertEqual(s.outcomes[failing], .failed("failed"))
    }

    func testAFailedBaseBlocksOnlyItsDependents() throws {
        let grid = try smokeGrid()
        var s = LocalSweepScheduler(experiments: grid.all) { _ in false }
        s.runSerially { $0.spec.kind != .pretrain }
        XCTAssertTrue(s.isFinished)
        XCTAssertEqual(s.counts.failed, 1)
        XCTAssertEqual(s.counts.blocked, grid.pruning.count)
    }

    func testNeedsDetectorExperimentsAreSkippedNotFailed() throws {
        let grid = try Grid(sweep: Sweep.embeddedFashion(), profile: "smoke",
                            filter: GridFilter(leaderboards: ["coco.yolov8m.global_protected", "cifar100.resnet18.global_protected"],
                                               methods: ["l1"]))
        let needing = grid.all.filter { !$0.needs.isEmpty }
        XCTAssertFalse(needing.isEmpty)
        var s = LocalSweepScheduler(experiments: grid.all) { _ in false }
        var ran = [Experiment]()
        s.runSerially { ran.append($0); return true }
        XCTAssertTrue(ran.allSatisfy(\.needs.isEmpty))
        XCTAssertEqual(s.counts.skippedNeeds, needing.count)
        XCTAssertEqual(s.counts.failed + s.counts.blocked, 0)
        XCTAssertEqual(ran.count, grid.all.count - needing.count)
    }

    func testAnAbandonedExperimentIsPendingAgain() throws {
        let grid = try smokeGrid()
        var s = LocalSweepScheduler(experiments: grid.all) { _ in false }
        let first = try XCTUnwrap(s.next())
        s.abandon(first.id)
        XCTAssertEqual(s.counts.pending, grid.all.count)
        XCTAssertEqual(s.counts.running, 0)
        XCTAssertEqual(s.next()?.id, first.id)
    }

    func testThreadsPerWorkerNeverOversubscribes() {
        XCTAssertEqual(LocalSweep.threadsPerWorker(cores: 16, workers: 2), 8)
        XCTAssertEqual(LocalSweep.threadsPerWorker(cores: 16, workers: 3), 5)
        XCTAssertEqual(LocalSweep.threadsPerWorker(cores: 2, workers: 4), 1)
    }

    func testExistingResultRequiresAMatchingParsableFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("localsweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = String(repeating: "a", count: 64)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(id), withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(id).appendingPathComponent("result.json")
        XCTAssertNil(LocalSweep.existingResult(id, artifacts: dir.path))
        try Data("{\"id\": \"\(id)\", \"metr".utf8).write(to: path)  // partial write
        XCTAssertNil(LocalSweep.existingResult(id, artifacts: dir.path))
        XCTAssertEqual(try LocalSweep.writeResultsJSONL([id], artifacts: dir.path), 0)
    }
}
