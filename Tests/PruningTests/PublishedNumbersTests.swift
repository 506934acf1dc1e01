import XCTest
import NN
import Models
@testable import Pruning

/// Widths, MACs and parameters of the spec's published and derived tables (§10.2, §10.3). In
/// local mode widths do not depend on importance, so the cheap seeded random criterion is used on
/// zero weights.
final class PublishedNumbersTests: XCTestCase {
    func testResNet18LocalOneStepAndFiveSteps() throws {
        let model = ResNetBuilder(depth: .resnet18, variant: .imagenet, classes: 1000).build()
        XCTAssertEqual(try model.counts().macs, 1_822_177_768)
        var config = PruningConfig(importance: .random, globalPruning: false, pruningRatio: 0.5, iterativeSteps: 1,
                                   roundTo: 8, ignoredLayers: ["fc"])
        let pruner = try Pruner(model: model, config: config)
        try pruner.step()
        XCTAssertEqual(try model.counts().macs, 487_202_536)
        XCTAssertEqual(model.parameterCount, 3_055_880)

        let five = ResNetBuilder(depth: .resnet18, variant: .imagenet, classes: 1000).build()
        config.iterativeSteps = 5
        config.roundTo = nil
        let p5 = try Pruner(model: five, config: config)
        let table: [(Int, Int)] = [(1_474_518_396, 9_481_588), (1_178_780_522, 7_534_380), (905_775_022, 5_820_556),
                                   (677_503_778, 4_318_898), (487_202_536, 3_055_880)]
        for (k, (macs, params)) in table.enumerated() {
            try p5.step()
            XCTAssertEqual(try five.counts().macs, macs, "step \(k + 1)")
            XCTAssertEqual(five.parameterCount, params, "step \(k + 1)")
        }
    }

    /// Torch-Pruning's ResNet-50 latency ladder: local, ratio 1.0, 20 steps, round_to 2, fc not
    /// ignored (its classes shrink too); step 20 equals step 19 (no layer may be emptied).
    func testResNet50LatencyLadder() throws {
        let model = ResNetBuilder(depth: .resnet50, variant: .imagenet, classes: 1000).build()
        var config = PruningConfig(importance: .random, globalPruning: false, pruningRatio: 1.0, iterativeSteps: 20, roundTo: 2)
        config.seed = 1
        let pruner = try Pruner(model: model, config: config)
        let ladder: [(Int, Int, Int)] = [
            (3_683_399_148, 22_971_234, 950), (3_307_152_248, 20_627_520, 900), (2_966_196_332, 18_360_204, 850),
            (2_629_427_964, 16_271_546, 800), (2_346_849_390, 14_387_742, 750), (2_018_737_154, 12_464_808, 700),
            (1_742_379_050, 10_754_914, 650), (1_497_874_874, 9_136_138, 600), (1_260_995_302, 7_681_300, 550),
            (1_068_169_972, 6_405_140, 500), (850_469_606, 5_143_228, 448), (674_002_140, 4_068_996, 400),
            (525_949_704, 3_098_760, 350), (388_958_928, 2_277_742, 300), (285_886_842, 1_609_226, 250),
            (178_601_212, 1_011_202, 198), (102_021_518, 569_766, 150), (50_420_412, 247_660, 98),
            (13_318_842, 60_872, 50), (13_318_842, 60_872, 50)]
        let fc = try XCTUnwrap(model.node(named: "fc")?.layer as? LinearLayer)
        for (k, (macs, params, classes)) in ladder.enumerated() {
            try pruner.step()
            XCTAssertEqual(try model.counts().macs, macs, "step \(k + 1)")
            XCTAssertEqual(model.parameterCount, params, "step \(k + 1)")
            XCTAssertEqual(fc.outFeatures, classes, "step \(k + 1)")
        }
    }
}
