import Experiments
import XCTest
import Foundation
import Models
import NN
import Tensor

/// Self-describing checkpoints and model configurations.
final class CheckpointSpecTests: XCTestCase {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID()).safetensors").path
    }

    func testCheckpointReopensWithoutItsBuilderAndGivesIdenticalLogits() throws {
        for spec in [ModelSpec(arch: "resnet50", variant: "cifar", width: 0.125, inputShape: [3, 16, 16], numClasses: 7),
                     ModelSpec(arch: "vgg19_bn", variant: "cifar", width: 0.0625, inputShape: [1, 28, 28], numClasses: 10),
                     ModelSpec(arch: "resnet18", variant: "imagenet", width: 0.0625, inputShape: [3, 64, 64], numClasses: 5)] {
            let model = try spec.build()
            ModelInit.initialize(model, seed: 4)
            var g = SeededGenerator(seed: 2)
            let x = Tensor.randomNormal([2, spec.inputShape[1], spec.inputShape[2], spec.inputShape[0]], using: &g)
            var ctx = ForwardContext(training: true)
            _ = model.forward(x, context: &ctx)   // move the running statistics off their initial values
            let path = temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Checkpoint.save(model, spec: spec, to: path)
            let (reopened, readSpec, _) = try Checkpoint.load(path)
            XCTAssertEqual(readSpec, spec)
            XCTAssertEqual(reopened(x).scalars, model(x).scalars, spec.arch)
        }
    }

    func testPlainStateDictIsNotMistakenForACheckpoint() throws {
        let model = try ModelSpec(arch: "resnet18", variant: "cifar", width: 0.0625, inputShape: [1, 8, 8], numClasses: 2).build()
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.stateDict().write(to: path)
        XCTAssertThrowsError(try Checkpoint.load(path)) { e in
            XCTAssertTrue("\(e)".contains("not a prunebench checkpoint"), "\(e)")
        }
    }

    func testTruncatedCheckpointNamesTheFile() throws {
        let spec = ModelSpec(arch: "resnet18", variant: "cifar", width: 0.0625, inputShape: [1, 8, 8], numClasses: 2)
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(try spec.build(), spec: spec, to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.load(path)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("truncated"), "\(e)")
        }
    }

    func testModelSpecErrorsNameTheField() {
        func error(_ json: String) -> String {
            do { _ = try ModelSpec.parse(Data(json.utf8), source: "m.json"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(error(#"{"arch":"resnet18","variant":"cifar","width":1,"input_shape":[3,32,32],"num_classes":10,"depht":3}"#).contains("unknown key(s) depht"))
        XCTAssertTrue(error(#"{"arch":"resnet18","variant":"cifar","width":1,"input_shape":[3,32,32]}"#).contains("missing field 'num_classes'"))
        XCTAssertTrue(error(#"{"arch":"resnet18","variant":"tiny","width":1,"input_shape":[3,32,32],"num_classes":10}"#).contains("'variant'"))
        XCTAssertTrue(error(#"{"arch":"resnet18","variant":"cifar","width":-1,"input_shape":[3,32,32],"num_classes":10}"#).contains("'width'"))
        XCTAssertTrue(error(#"{"arch":"resnet18","variant":"cifar","width":"x","input_shape":[3,32,32],"num_classes":10}"#).contains("'width' has the wrong type"))
        XCTAssertTrue(error(#"{"arch":"alexnet","input_shape":[3,32,32],"num_classes":10}"#).contains("'arch'"))
        XCTAssertTrue(error("[1,2]").contains("not a JSON object"))
        // A whole golden case.json is accepted (its "model" object is used).
        XCTAssertEqual(error(#"{"model":{"arch":"resnet18","variant":"cifar","width":0.25,"input_shape":[1,28,28],"num_classes":10,"classifier":"linear"}}"#), "no error")
    }
}
