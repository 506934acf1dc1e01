import Experiments
import Bench
import Foundation
import Models
import XCTest

/// `ExperimentRunner` end to end on a tiny smoke-like grid cell: width 1/16 CIFAR ResNet-18 on the
/// first 256 Fashion-MNIST images, one epoch per phase, a few pruning steps.
final class PipelineTests: XCTestCase {
    static let model = ModelSpec(arch: "resnet18", variant: "cifar", width: 0.0625, inputShape: [1, 28, 28], numClasses: 10)
    static let dataset = DatasetRef(name: .fashionMNIST, role: .cifar100, standIn: true)
    static let data = DataSettings(trainSubset: 256, testSubset: 128)
    static let phase = TrainPhase(epochs: 1, batchSize: 32, optimizer: .sgd, lr: 0.05, momentum: 0.9, weightDecay: 5e-4,
                                  schedule: .constant)

    static var pretrainSpec: ExperimentSpec {
        ExperimentSpec(kind: .pretrain, task: .classification, model: model, dataset: dataset, profile: "test",
                       settings: ExperimentSettings(pretrain: phase, data: data), seed: 0)
    }

    static func pruneSpec(_ method: String, base: String, speedup: Double = 2, steps: Int = 8) -> ExperimentSpec {
        var finetune = phase; finetune.lr = 0.01
        var sparse: TrainPhase?
        if ["slim", "group_slim", "group_sl", "growing_reg", "l2_lasso"].contains(method) {
            sparse = TrainPhase(epochs: 1, batchSize: 32, optimizer: .sgd, lr: 0.01, momentum: 0.9, weightDecay: 0,
                                schedule: .constant, lambda: 5e-4, delta: 1e-4)
        }
        return ExperimentSpec(kind: .prune, task: .classification, model: model, dataset: dataset, method: method,
                              scheme: .globalProtected, speedup: speedup, leaderboard: "cifar100.resnet18.global_protected",
                              base: base, profile: "test",
                              settings: ExperimentSettings(sparse: sparse, finetune: finetune,
                                                           pruning: PruningSettings(steps: steps, calibrationBatches: 1,
                                                                                    calibrationBatchSize: 16),
                                                           data: data),
                              seed: 0)
    }

    var directory: URL!

    override func setUpWithError() throws {
        do { _ = try DatasetCatalog.load(.fashionMNIST, directory: nil, trainLimit: 1, testLimit: 1) } catch {
            throw XCTSkip("Fashion-MNIST is not installed (\(error))")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testPretrainThenPruneAndDeterminism() throws {
        let pretrain = Self.pretrainSpec
        let base = try ExperimentRunner(artifacts: directory.path).run(pretrain)
        XCTAssertEqual(base.metrics.kind, .pretrain)
        XCTAssertTrue((0...100).contains(base.metrics.accuracy))
        XCTAssertGreaterThan(base.metrics.parameters, 0)
        XCTAssertGreaterThan(base.metrics.macs, 0)
        XCTAssertEqual(base.metrics.trainImages, 256)
        XCTAssertEqual(base.metrics.checkpointSHA256.count, 64)
        XCTAssertGreaterThan(try XCTUnwrap(base.timings.latencyBatch64Seconds), 0)
        XCTAssertNil(base.timings.measuredSpeedupBatch64, "a pretrain has no base")
        let basePath = directory.appendingPathComponent(pretrain.id).appendingPathComponent("model.safetensors").path
        XCTAssertEqual(try ContentDigest.file(atPath: basePath), base.metrics.checkpointSHA256)
        XCTAssertEqual(try Checkpoint.load(basePath).spec, Self.model)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(pretrain.id).appendingPathComponent("result.json").path))

        for method in ["l2", "taylor", "slim"] {
            let spec = Self.pruneSpec(method, base: pretrain.id)
            let first = try ExperimentRunner(artifacts: directory.path).run(spec)
            let m = first.metrics
            XCTAssertEqual(m.kind, .prune)
            XCTAssertEqual(m.baseID, pretrain.id)
            XCTAssertEqual(m.baseAccuracy, base.metrics.accuracy, method)
            XCTAssertEqual(m.baseCheckpointSHA256, base.metrics.checkpointSHA256)
            XCTAssertEqual(m.parametersBefore, base.metrics.parameters)
            XCTAssertEqual(m.macsBefore, base.metrics.macs)
            // Latency of the base (before pruning) and the pruned model, both batch sizes.
            let t = first.timings
            for value in [t.baseLatencyBatch1Seconds, t.baseLatencyBatch64Seconds, t.latencyBatch1Seconds, t.latencyBatch64Seconds] {
                XCTAssertGreaterThan(try XCTUnwrap(value, method), 0, method)
            }
            XCTAssertNotNil(t.measuredSpeedupBatch64)
            XCTAssertLessThan(m.parameters, base.metrics.parameters, method)
            XCTAssertLessThan(m.macs, base.metrics.macs, method)
            let speedup = try XCTUnwrap(m.achievedSpeedup)
            XCTAssertTrue(speedup >= 2 || m.stepsTaken == 8, "\(method): \(speedup)x after \(m.stepsTaken ?? -1) steps")
            XCTAssertEqual(m.targetReached, speedup >= 2)
            XCTAssertEqual(try XCTUnwrap(m.deltaAccuracy), m.accuracy - base.metrics.accuracy, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(m.parametersLeftPercent), 100 * Double(m.parameters) / Double(base.metrics.parameters), accuracy: 1e-9)
            XCTAssertEqual(m.softwareVersion, "prunebench 0.1.0")
            XCTAssertEqual(first.timings.pruneStepSeconds?.count, m.stepsTaken)
            XCTAssertNotNil(first.timings.pruneStepMeanSeconds)
            if method == "slim" {
                XCTAssertEqual(m.regularizer, "slim"); XCTAssertEqual(m.importance, "bnscale")
                XCTAssertNotNil(first.timings.regularizationSeconds)
            } else {
                XCTAssertNil(m.regularizer); XCTAssertNil(first.timings.regularizationSeconds)
            }
            // The same experiment again, with a fresh runner on the same artifacts: identical metrics.
            let second = try ExperimentRunner(artifacts: directory.path).run(spec)
            XCTAssertEqual(try second.metricsJSON(), try first.metricsJSON(), method)
            XCTAssertEqual(second.metrics.checkpointSHA256, first.metrics.checkpointSHA256)
            // result.json round-trips.
            let stored = try JSONDecoder().decode(ExperimentResult.self, from: Data(contentsOf: directory
                .appendingPathComponent(spec.id).appendingPathComponent("result.json")))
            XCTAssertEqual(stored.metrics, second.metrics)
        }
    }

    func testMissingBaseNamesIt() throws {
        let spec = Self.pruneSpec("l2", base: String(repeating: "ab", count: 32))
        XCTAssertThrowsError(try ExperimentRunner(artifacts: directory.path).run(spec)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(String(repeating: "ab", count: 32)), text)
            XCTAssertTrue(text.contains("run that pretrain experiment first"), text)
        }
    }

    func testDetectionNeedsTheDetector() throws {
        var spec = Self.pretrainSpec
        spec.task = .detection
        XCTAssertThrowsError(try ExperimentRunner(artifacts: directory.path).run(spec)) { error in
            XCTAssertTrue(String(describing: error).contains("needs the detector"), String(describing: error))
        }
    }

    func testScheduleMapping() throws {
        let step = TrainPhase(epochs: 9, batchSize: 8, optimizer: .sgd, lr: 0.1, weightDecay: 0, schedule: .step(3))
        let c = try ExperimentRunner.trainingConfig(step, seed: 2)
        XCTAssertEqual(c.schedule, .multistep); XCTAssertEqual(c.milestones, [3, 6]); XCTAssertEqual(c.seed, 2)
        var multi = step; multi.schedule = .multistep([6, 8])
        XCTAssertEqual(try ExperimentRunner.trainingConfig(multi, seed: 0).milestones, [6, 8])
        var yolo = step; yolo.schedule = .ultralytics
        XCTAssertThrowsError(try ExperimentRunner.trainingConfig(yolo, seed: 0))
        XCTAssertEqual(LeaderboardRow.named("bnscale_only")?.criterion, .bnscale)
        XCTAssertEqual(LeaderboardRow.named("l2_lasso")?.criterion, .l2)
        XCTAssertNil(LeaderboardRow.named("l3"))
    }
}
