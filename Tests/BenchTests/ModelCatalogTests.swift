import Bench
import Experiments
import Foundation
import Models
import NN
import Pruning
import Tensor
import XCTest

/// Every model the command line knows by name trains, saves, and reopens the way `inspect` opens
/// checkpoints, giving the same logits bit for bit.
final class ModelCatalogTests: XCTestCase {
    override func setUpWithError() throws {
        do { _ = try DatasetCatalog.load(.fashionMNIST, directory: nil, trainLimit: 1, testLimit: 1) } catch {
            throw XCTSkip("Fashion-MNIST is not installed (\(error))")
        }
    }

    func testEveryCatalogModelRoundTripsThroughItsCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ModelCatalog.names {
            var c = TrainingConfig()
            c.model = name; c.width = 0.0625; c.epochs = 1; c.batchSize = 16; c.trainLimit = 32; c.testLimit = 16
            let trainer = try Trainer(config: c)
            _ = try trainer.run()
            let spec = try XCTUnwrap(trainer.spec, name)
            let path = dir.appendingPathComponent("\(name).safetensors").path
            try Checkpoint.save(trainer.model, spec: spec, to: path)
            let (reloaded, reloadedSpec, history) = try PrunedCheckpoint.load(path)
            XCTAssertEqual(reloadedSpec, spec, name)
            XCTAssertTrue(history.isEmpty, name)
            let x = Tensor(shape: [2, 28, 28, 1], values: (0..<(2 * 784)).map { Float($0 % 97) / 97 })
            var a = ForwardContext(training: false), b = ForwardContext(training: false)
            XCTAssertEqual(trainer.model.forward(x, context: &a).scalars, reloaded.forward(x, context: &b).scalars, name)
        }
        XCTAssertThrowsError(try ModelCatalog.spec(name: "resnet34", variant: "cifar", width: 1, inputShape: [1, 28, 28], classes: 10)) {
            XCTAssertTrue("\($0)".contains("resnet34"), "\($0)")
        }
    }
}
