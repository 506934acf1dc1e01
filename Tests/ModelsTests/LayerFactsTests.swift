import Experiments
import XCTest
import Models
import NN
import Tensor

/// Facts each layer kind declares about itself (`Sources/NN/Layers`): seeded initialisation by
/// recipe and the weight MACs the throughput figure counts. Pinned to the values the type-switch
/// implementations they replaced gave (same seed, same draws, bit for bit).
final class LayerFactsTests: XCTestCase {
    /// FNV-1a over every state name and float bit pattern, in state-dict order.
    static func digest(_ model: Model) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ x: UInt64) { h = (h ^ x) &* 0x100_0000_01b3 }
        for (name, p) in model.namedState {
            for b in name.utf8 { mix(UInt64(b)) }
            for v in p.value.scalars { mix(UInt64(v.bitPattern)) }
        }
        return h
    }

    static func models() throws -> [(name: String, model: Model)] {
        [("resnet18", try ModelSpec(arch: "resnet18", variant: "cifar", width: 0.25, inputShape: [3, 32, 32], numClasses: 10).build()),
         ("resnet50", try ModelSpec(arch: "resnet50", variant: "cifar", width: 0.125, inputShape: [3, 32, 32], numClasses: 10).build()),
         ("vgg19_bn", try ModelSpec(arch: "vgg19_bn", variant: "cifar", width: 0.25, inputShape: [3, 32, 32], numClasses: 10).build()),
         ("vit", ViTBuilder(imageSize: 8, patchSize: 4, inputChannels: 1, embedDim: 12, depth: 2, heads: 2, mlpHidden: 8, classes: 3).build())]
    }

    /// (initialised state digest for seed 7, Σ weight MACs) per model, from the previous
    /// `ModelInit` and `ThroughputBenchmark.convLinearMACs`.
    static let pinned: [String: (digest: UInt64, weightMACs: Int)] = [
        "resnet18": (15_600_752_359_743_186_306, 35_046_656),
        "resnet50": (3_548_944_299_708_080_119, 20_474_368),
        "vgg19_bn": (5_227_605_391_013_055_843, 32_294_144),
        "vit": (17_267_210_252_738_440_919, 2_724),
    ]

    func testInitializationAndWeightMACsArePinned() throws {
        for (name, model) in try Self.models() {
            ModelInit.initialize(model, seed: 7)
            let shapes = try model.shapes(batch: 1)
            let macs = model.nodes.indices.reduce(0) { total, i in
                total + model.nodes[i].layer.weightMACs(inputShapes: model.nodes[i].inputs.map { shapes[$0] }, outputShape: shapes[i])
            }
            let expected = try XCTUnwrap(Self.pinned[name], name)
            XCTAssertEqual(Self.digest(model), expected.digest, name)
            XCTAssertEqual(macs, expected.weightMACs, name)
        }
    }

    /// A ViT follows timm's recipe (its attention prefers it): Linear biases are zero and weights
    /// lie within ±2·0.02; a CNN's classifier follows PyTorch's uniform default.
    func testRecipeFollowsThePreferringLayer() throws {
        let vit = ViTBuilder(imageSize: 8, patchSize: 4, inputChannels: 1, embedDim: 12, depth: 1, heads: 2, mlpHidden: 8, classes: 3).build()
        XCTAssertTrue(vit.nodes.contains { $0.layer.preferredInitialization == .timm })
        ModelInit.initialize(vit, seed: 1)
        let head = try XCTUnwrap(vit.node(named: "head")?.layer as? LinearLayer)
        XCTAssertTrue(head.weight.value.scalars.allSatisfy { abs($0) <= 0.04 })
        XCTAssertEqual(head.bias?.value.scalars, [0, 0, 0])
        let cnn = try ModelSpec(arch: "resnet18", variant: "cifar", width: 0.25, inputShape: [3, 8, 8], numClasses: 3).build()
        XCTAssertFalse(cnn.nodes.contains { $0.layer.preferredInitialization != nil })
        ModelInit.initialize(cnn, seed: 1)
        let fc = try XCTUnwrap(cnn.nodes.last { $0.layer is LinearLayer }?.layer as? LinearLayer)
        let bound = 1 / Float(fc.inFeatures).squareRoot()
        XCTAssertTrue(fc.bias!.value.scalars.allSatisfy { abs($0) <= bound } && fc.bias!.value.scalars.contains { $0 != 0 })
    }
}
