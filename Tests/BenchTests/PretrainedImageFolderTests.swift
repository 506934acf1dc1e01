import Data
import Experiments
import Bench
import Foundation
import Imaging
import Models
import NN
import XCTest

/// The real-data path end to end: an ImageNet-layout folder of JPEGs written from Fashion-MNIST,
/// a base imported from a `.pth` (by content digest), pruned, finetuned and put on a leaderboard;
/// and the grid turning `--weights` into bases that import instead of training.
final class PretrainedImageFolderTests: XCTestCase {
    static let model = ModelSpec(arch: "resnet18", variant: "imagenet", width: 0.125, inputShape: [3, 224, 224], numClasses: 10)

    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("realdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testImageFolderBaseFromPthIsPrunedFinetunedAndRanked() throws {
        let fashion: (train: Dataset, test: Dataset)
        do { fashion = try DatasetCatalog.load(.fashionMNIST, directory: nil, trainLimit: 60, testLimit: 30) } catch {
            throw XCTSkip("Fashion-MNIST is not installed (\(error))")
        }
        let dir = try temporaryDirectory()
        try ImageFolderWriter.write(fashion.train, to: dir + "/imagenet/train")
        try ImageFolderWriter.write(fashion.test, to: dir + "/imagenet/val")
        let pretrained = try Self.model.build()
        ModelInit.initialize(pretrained, seed: 11)
        try PretrainedWeights.writeTorch(pretrained.stateDict(), to: dir + "/resnet18.pth")

        let dataset = DatasetRef(name: .imagenet, role: .imagenet, standIn: false)
        let data = DataSettings(trainSubset: 40, testSubset: 20)
        let base = ExperimentSpec(kind: .pretrain, task: .classification, model: Self.model, dataset: dataset, profile: "test",
                                  settings: ExperimentSettings(data: data), seed: 0,
                                  weights: WeightsRef(sha256: try ContentDigest.file(atPath: dir + "/resnet18.pth")))
        let runner = ExperimentRunner(artifacts: dir + "/artifacts", dataDirectory: dir + "/imagenet")
        XCTAssertThrowsError(try runner.run(base)) { XCTAssert("\($0)".contains("no weights file was given"), "\($0)") }
        runner.weightsPath = dir + "/resnet18.pth"
        let baseResult = try runner.run(base)
        XCTAssertEqual(baseResult.metrics.testImages, 20)
        XCTAssertEqual(baseResult.metrics.trainImages, 40)
        XCTAssert(baseResult.metrics.testFingerprint.hasPrefix("files-"))
        let (imported, _, _) = try Checkpoint.load(runner.checkpointPath(base.id))
        XCTAssertEqual(imported.stateDict().floats["conv1.weight"]?.scalars, pretrained.stateDict().floats["conv1.weight"]?.scalars)

        let phase = TrainPhase(epochs: 1, batchSize: 8, optimizer: .sgd, lr: 0.01, momentum: 0.9, weightDecay: 1e-4, schedule: .constant)
        let prune = ExperimentSpec(kind: .prune, task: .classification, model: Self.model, dataset: dataset, method: "l1",
                                   scheme: .globalProtected, speedup: 2, leaderboard: "imagenet.resnet18.global_protected",
                                   base: base.id, profile: "test",
                                   settings: ExperimentSettings(finetune: phase, pruning: PruningSettings(steps: 4, calibrationBatches: 1,
                                                                                                          calibrationBatchSize: 8), data: data),
                                   seed: 0)
        let pruned = try runner.run(prune)
        XCTAssertEqual(pruned.metrics.baseAccuracy, baseResult.metrics.accuracy)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(pruned.metrics.achievedSpeedup), 2)
        let report = LeaderboardReport.build(from: [baseResult, pruned])
        XCTAssertEqual(report.boards.count, 1)
        XCTAssertEqual(report.boards.first?.cellCount, 1)
        XCTAssertEqual(report.boards.first?.baseAccuracy, baseResult.metrics.accuracy)

        // A changed weights file is refused by its digest.
        try Data("changed".utf8).write(to: URL(fileURLWithPath: dir + "/resnet18.pth"))
        XCTAssertThrowsError(try runner.run(base)) { XCTAssert("\($0)".contains("is not the"), "\($0)") }
    }

    func testWeightsMakeImportingBasesOnlyWhereTheModelKeepsItsWidth() throws {
        let dir = try temporaryDirectory()
        try Data("weights".utf8).write(to: URL(fileURLWithPath: dir + "/w.pth"))
        var sweep = try Sweep.embeddedFashion()
        let plain = try Grid(sweep: sweep, profile: "paper")
        try sweep.setWeights(["resnet18_imagenet=\(dir)/w.pth"])
        let paper = try Grid(sweep: sweep, profile: "paper")
        let imported = paper.pretrain.filter { $0.spec.weights != nil }
        XCTAssertEqual(imported.count, 1)
        XCTAssertEqual(imported[0].spec.weights?.sha256, ContentDigest.hex("weights"))
        XCTAssertNil(imported[0].spec.settings.pretrain)
        XCTAssertEqual(imported[0].weightsPath, dir + "/w.pth")
        XCTAssertEqual(imported[0].spec.model.arch, "resnet18")
        // Every other base keeps its identity.
        let others = Set(paper.pretrain.filter { $0.spec.weights == nil }.map(\.id))
        XCTAssertEqual(others, Set(plain.pretrain.map(\.id)).subtracting(plain.pretrain.filter { $0.spec.model.arch == "resnet18" && $0.spec.model.variant == "imagenet" }.map(\.id)))
        // The smoke profile scales the model: the weights do not fit and are not used.
        XCTAssert(try Grid(sweep: sweep, profile: "smoke").pretrain.allSatisfy { $0.spec.weights == nil })
        XCTAssertThrowsError(try sweep.setWeights(["nope=x"])) { XCTAssert("\($0)".contains("'nope' is not a model")) }
        try sweep.setWeights(["resnet18_imagenet=\(dir)/missing.pth"])
        XCTAssertThrowsError(try Grid(sweep: sweep, profile: "paper")) { XCTAssert("\($0)".contains("models.resnet18_imagenet.weights"), "\($0)") }
    }
}
