import Cluster
import Experiments
import Foundation
import XCTest

/// `prunebench sweep --local N`: the cluster code on one machine (an in-process coordinator and N
/// worker daemons). Resume, extension, interruption, failures and skipped cells, end to end.
final class LocalSweepTests: XCTestCase {
    static func cell(_ methods: [String], board: String = "cifar100.resnet18.global_protected") -> [String] {
        ["--profile", "smoke", "--leaderboard", board, "--speedup", "2"] + methods.flatMap { ["--method", $0] }
    }

    func sweep(_ h: ClusterHarness, _ name: String, _ args: [String], workers: Int = 2) throws -> (status: Int32?, text: String) {
        let p = try h.start(name, ["sweep", "--local", "\(workers)", "--artifacts", h.directory.appendingPathComponent("art").path] + args)
        let status = h.finish(p, timeout: 900)
        return (status, h.text(name))
    }

    var results: String { "art/results.jsonl" }

    /// A re-run skips what has a result; a wider grid on the same directory runs only the new cells
    /// (reusing the base checkpoint), and results already there keep their bytes.
    func testResumeRunsOnlyWhatIsLeftAndAWiderGridExtendsIt() throws {
        let h = try ClusterHarness("local-resume")
        let first = try sweep(h, "first", Self.cell(["random", "l1"]))
        XCTAssertEqual(first.status, 0, first.text)
        XCTAssertTrue(first.text.contains("3 experiments; 0 already done, 3 ran, 0 failed, 0 blocked"), first.text)
        let before = try ClusterHarness.results(h.directory.appendingPathComponent(results).path)
        XCTAssertEqual(before.count, 3)
        let pretrain = try XCTUnwrap(before.values.first { $0.spec.kind == .pretrain })
        for r in before.values where r.spec.kind == .prune {
            XCTAssertEqual(r.metrics.baseID, pretrain.id, "pruned from the pretrain's checkpoint")
            XCTAssertEqual(r.metrics.baseCheckpointSHA256, pretrain.metrics.checkpointSHA256)
        }

        let again = try sweep(h, "again", Self.cell(["random", "l1"]))
        XCTAssertEqual(again.status, 0, again.text)
        XCTAssertTrue(again.text.contains("3 experiments; 3 already done, 0 ran"), again.text)

        let wider = try sweep(h, "wider", Self.cell(["random", "l1", "l2"]))
        XCTAssertEqual(wider.status, 0, wider.text)
        XCTAssertTrue(wider.text.contains("4 experiments; 3 already done, 1 ran, 0 failed"), wider.text)
        let after = try ClusterHarness.results(h.directory.appendingPathComponent(results).path)
        XCTAssertEqual(after.count, 4)
        for (id, r) in before { XCTAssertEqual(try after[id]?.metricsJSON(), try r.metricsJSON()) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.directory.appendingPathComponent("art/coordinator.log").path))
    }

    /// SIGINT stops the workers and their jobs (exit 130, no job left running); the next run finishes the grid.
    func testAnInterruptedSweepResumes() throws {
        let h = try ClusterHarness("local-interrupt")
        let p = try h.start("first", ["sweep", "--local", "2", "--artifacts", h.directory.appendingPathComponent("art").path]
                                + Self.cell(["random", "l1"]))
        XCTAssertTrue(h.wait(timeout: 120) { h.text("first").contains("slots=1/2") || h.text("first").contains("slots=2/2") }, h.text("first"))
        p.interrupt()
        XCTAssertEqual(h.finish(p, timeout: 60), 130, h.text("first"))
        let art = h.directory.appendingPathComponent("art").path
        XCTAssertTrue(h.wait(timeout: 10) { !Self.jobsRunning(in: art) }, "a job outlived the sweep")
        let second = try sweep(h, "second", Self.cell(["random", "l1"]))
        XCTAssertEqual(second.status, 0, second.text)
        XCTAssertTrue(second.text.contains("0 failed, 0 blocked by a failed base, 0 skipped-needs-detector, 0 left"), second.text)
        XCTAssertEqual(try ClusterHarness.results(h.directory.appendingPathComponent(results).path).count, 3)
    }

    /// A pretrain that cannot run fails (after its retries) and blocks only its own pruning
    /// experiments; another board completes; cells that need the detector are skipped, not failed.
    func testAFailedBaseBlocksOnlyItsDependents() throws {
        let h = try ClusterHarness("local-failure")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let original = try String(contentsOf: root.appendingPathComponent("cluster/sweeps/fashion.yaml"), encoding: .utf8)
        // 32x32 inputs for 28x28 images: the pretrain fails when it loads its data.
        let broken = original.replacingOccurrences(of: "resnet18_cifar:    {arch: resnet18, variant: cifar, input_shape: [1, 28, 28]",
                                                   with: "resnet18_cifar:    {arch: resnet18, variant: cifar, input_shape: [1, 32, 32]")
        XCTAssertNotEqual(broken, original)
        let sweepFile = h.directory.appendingPathComponent("broken.yaml")
        try broken.write(to: sweepFile, atomically: true, encoding: .utf8)
        let args = ["--sweep", sweepFile.path, "--profile", "smoke", "--leaderboard", "cifar100.resnet18.global_protected",
                    "--leaderboard", "cifar100.vgg19.local", "--leaderboard", "coco.yolov8m.global_protected",
                    "--speedup", "2", "--method", "l1", "--method", "random"]
        let grid = try Grid(sweep: Sweep.load(path: sweepFile.path), profile: "smoke",
                            filter: GridFilter(leaderboards: ["cifar100.resnet18.global_protected", "cifar100.vgg19.local",
                                                              "coco.yolov8m.global_protected"], methods: ["l1", "random"], speedups: [2]))
        let needs = grid.all.filter { !$0.needs.isEmpty }.count
        XCTAssertGreaterThan(needs, 0)
        let run = try sweep(h, "sweep", args)
        XCTAssertEqual(run.status, 1, run.text)
        XCTAssertTrue(run.text.contains("\(grid.all.count) experiments; 0 already done, 3 ran, 1 failed, 2 blocked by a failed base, "
                                        + "\(needs) skipped-needs-detector, 0 left"), run.text)
        XCTAssertTrue(run.text.contains("failed: ") && run.text.contains("pretrain/cifar100/resnet18") && run.text.contains("32x32"), run.text)
        let done = try ClusterHarness.results(h.directory.appendingPathComponent(results).path)
        XCTAssertEqual(Set(done.values.map(\.spec.model.arch)), ["vgg19_bn"])
    }

    /// Whether a `prunebench run` job of the sweep in `artifacts` is still alive.
    static func jobsRunning(in artifacts: String) -> Bool {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.contains { pid in
            guard Int(pid) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let cmd = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return cmd.contains(" run ") && cmd.contains(artifacts)
        }
    }

    func testThreadsPerJobNeverOversubscribes() {
        XCTAssertEqual(WorkerConfig.threadsPerJob(cores: 16, jobs: 2), 8)
        XCTAssertEqual(WorkerConfig.threadsPerJob(cores: 16, jobs: 3), 5)
        XCTAssertEqual(WorkerConfig.threadsPerJob(cores: 2, jobs: 4), 1)
    }
}
