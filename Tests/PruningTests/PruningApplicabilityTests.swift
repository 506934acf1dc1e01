import Experiments
import XCTest
import Models
import NN
@testable import Pruning

/// A configuration that does not fit the model gets one error naming the field.
final class PruningApplicabilityTests: XCTestCase {
    private let resnet = ModelSpec(arch: "resnet18", variant: "cifar", width: 0.0625, inputShape: [1, 8, 8], numClasses: 2)

    private func parse(_ object: [String: Any]) throws -> PruningConfig { try PruningConfig.parse(object, source: "case") }

    func testBNScaleOnAModelWithoutBatchNormIsRefused() throws {
        let model = ViTBuilder(imageSize: 8, patchSize: 4, inputChannels: 1, embedDim: 12, depth: 1, heads: 2, mlpHidden: 8, classes: 2).build()
        let config = try parse(["importance": "bnscale", "global_pruning": true, "pruning_ratio": 0.5])
        XCTAssertThrowsError(try config.checkApplicable(to: model)) { XCTAssertTrue("\($0)".contains("'bnscale'") && "\($0)".contains("no batch norm"), "\($0)") }
        XCTAssertNoThrow(try config.checkApplicable(to: try resnet.build()))
    }

    func testDataDrivenCriteriaNeedACalibrationObject() throws {
        let model = try resnet.build()
        let bare = try parse(["importance": "taylor", "global_pruning": true, "pruning_ratio": 0.5])
        XCTAssertThrowsError(try bare.checkApplicable(to: model)) { XCTAssertTrue("\($0)".contains("'calibration'"), "\($0)") }
        let with = try parse(["importance": "taylor", "global_pruning": true, "pruning_ratio": 0.5,
                              "calibration": ["dataset": "fashion-mnist", "batches": 3, "batch_size": 32, "seed": 4]])
        XCTAssertEqual(with.calibration, .init(dataset: "fashion-mnist", dataDirectory: nil, batches: 3, batchSize: 32, seed: 4))
        XCTAssertNoThrow(try with.checkApplicable(to: model))
    }

    func testCalibrationFieldsAreValidated() {
        for (bad, field) in [(["batches": 3], "calibration.dataset"), (["dataset": "fashion-mnist", "batches": 0], "calibration.batches"),
                             (["dataset": "fashion-mnist", "batch_size": 2.5], "calibration.batch_size"),
                             (["dataset": "fashion-mnist", "shuffle": true], "calibration.shuffle")] as [([String: Any], String)] {
            XCTAssertThrowsError(try parse(["importance": "taylor", "global_pruning": true, "pruning_ratio": 0.5, "calibration": bad])) {
                XCTAssertTrue("\($0)".contains(field), "\($0)")
            }
        }
    }

    func testUnknownIgnoredLayerIsRefused() throws {
        let config = try parse(["importance": "l2", "global_pruning": true, "pruning_ratio": 0.5, "ignored_layers": ["lineer"]])
        XCTAssertThrowsError(try config.checkApplicable(to: try resnet.build())) { XCTAssertTrue("\($0)".contains("'lineer'"), "\($0)") }
        let ok = try parse(["importance": "l2", "global_pruning": true, "pruning_ratio": 0.5, "ignored_layers": ["linear", "layer4"]])
        XCTAssertNoThrow(try ok.checkApplicable(to: try resnet.build()))
    }
}
