import XCTest
import NN
import Models
import Tensor
@testable import Pruning

/// Properties of the engine on small random models (CIFAR ResNet-18 and VGG-19-BN, width 1/8).
final class PruningPropertyTests: XCTestCase {
    static func tinyModels() -> [(String, () -> Model)] {
        [("resnet18", { ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.125, inputChannels: 3, resolution: 8, classes: 5).build() }),
         ("vgg19_bn", { VGGBuilder(variant: .cifar, width: 0.125, inputChannels: 3, resolution: 16, classes: 5).build() }),
         ("resnet18 imagenet", { ResNetBuilder(depth: .resnet18, variant: .imagenet, width: 0.125, inputChannels: 3, resolution: 32, classes: 5).build() }),
         ("vgg19_bn imagenet", { VGGBuilder(variant: .imagenet, width: 0.0625, inputChannels: 3, resolution: 32, classes: 5).build() }),
         ("resnet50", { ResNetBuilder(depth: .resnet50, variant: .cifar, width: 0.0625, inputChannels: 3, resolution: 8, classes: 5).build() }),
         ("resnet50 imagenet", { ResNetBuilder(depth: .resnet50, variant: .imagenet, width: 0.0625, inputChannels: 3, resolution: 32, classes: 5).build() })]
    }

    /// The classifier each tiny model ignores.
    static func classifier(_ name: String) -> String {
        switch name {
        case "resnet18", "resnet50": return "linear"
        case "resnet18 imagenet", "resnet50 imagenet": return "fc"
        case "vgg19_bn imagenet": return "classifier.6"
        default: return "classifier"
        }
    }

    /// Fills every tensor with seeded random values (running variances positive).
    static func randomize(_ model: Model, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        for (name, p) in model.namedState {
            let n = p.value.count
            let values: [Float] = name.hasSuffix("running_var") ? (0..<n).map { _ in 0.5 + g.nextUniform() }
                : name.hasSuffix(".weight") && p.value.rank == 1 ? (0..<n).map { _ in 0.1 + g.nextUniform() }
                : (0..<n).map { _ in g.nextNormal() * 0.3 }
            p.value = Tensor(shape: p.value.shape, values: values)
        }
    }

    static func input(_ model: Model, seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        let s = model.inputShape
        return Tensor(shape: [2, s[1], s[2], s[0]], values: (0..<(2 * s.reduce(1, *))).map { _ in g.nextNormal() })
    }

    static func assertClose(_ a: Tensor, _ b: Tensor, _ message: String, tolerance: Float = 1e-4) {
        XCTAssertEqual(a.shape, b.shape, message)
        let scale = max(b.scalars.map(abs).max() ?? 1, 1e-6)
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst / scale, tolerance, message)
    }

    /// Zeroing a group's out weights and batch-norm γ/β makes its channels dead; pruning exactly
    /// those channels must then leave the eval-mode logits unchanged.
    func testPruningZeroedChannelsKeepsLogits() throws {
        for (name, make) in Self.tinyModels() {
            let model = make()
            Self.randomize(model, seed: 7)
            let graph = try DependencyGraph(model: model)
            let x = Self.input(model, seed: 8)
            // Zero the chosen channels of every group, then prune them all: one forward each side.
            var groups: [Group] = []
            for g in graph.allGroups(ignoring: [Self.classifier(name)]) {
                let c = graph.channels(g.root)!
                let chosen = Array(Set([0, c / 2, c - 1].filter { $0 < c })).sorted()
                let group = graph.group(root: g.root, indices: chosen)
                for item in group.items where item.target.node >= 0 {
                    let layer = model.nodes[item.target.node].layer
                    if let conv = layer as? Conv2d, item.target.side == .out {
                        conv.weight.value = Self.zeroing(conv.weight.value, rows: item.indices)
                        if let b = conv.bias { b.value = Self.zeroing(b.value, rows: item.indices) }
                    } else if let linear = layer as? LinearLayer, item.target.side == .out {
                        linear.weight.value = Self.zeroing(linear.weight.value, rows: item.indices)
                        if let b = linear.bias { b.value = Self.zeroing(b.value, rows: item.indices) }
                    } else if let bn = layer as? BatchNorm2d {
                        bn.weight.value = Self.zeroing(bn.weight.value, rows: item.indices)
                        bn.bias.value = Self.zeroing(bn.bias.value, rows: item.indices)
                    }
                }
                groups.append(group)
            }
            let before = model(x), macs = try model.counts().macs
            for group in groups {
                XCTAssertTrue(graph.isValid(group))
                _ = graph.apply(group)
            }
            XCTAssertNoThrow(try model.shapes())
            XCTAssertLessThan(try model.counts().macs, macs)
            Self.assertClose(model(x), before, "\(name): pruned dead channels")
        }
    }

    static func zeroing(_ t: Tensor, rows: [Int]) -> Tensor {
        var t = t
        let inner = t.count / t.shape[0]
        t.withUnsafeMutableBufferPointer { p in for r in rows { for j in 0..<inner { p[r * inner + j] = 0 } } }
        return t
    }

    func testEveryCriterionGivesFiniteScoresOfTheRightLength() throws {
        for (name, make) in Self.tinyModels() {
            let model = make()
            Self.randomize(model, seed: 3)
            let graph = try DependencyGraph(model: model)
            let criteria: [any ImportanceCriterion] = [GroupMagnitude.l1(), GroupMagnitude.l2(), GroupMagnitude.bnScale(),
                                                       GroupMagnitude.lamp(), FPGMImportance(), RandomImportance(seed: 1),
                                                       GroupMagnitude.l2(reduction: .max, normalizer: .gaussian, bias: true)]
            for criterion in criteria {
                for g in graph.allGroups(ignoring: []) {
                    let hasBN = g.items.contains { $0.target.node >= 0 && graph.roles[$0.target.node] == .batchNorm }
                    guard let s = criterion.scores(of: g, in: graph) else {
                        // Only BNScale may decline, and only for a group without batch norm.
                        XCTAssertTrue(criterion.name == "bnscale" && !hasBN, "\(name) \(criterion.name) \(graph.name(g.rootNode))")
                        continue
                    }
                    XCTAssertEqual(s.count, graph.channels(g.root), "\(name) \(criterion.name) \(graph.name(g.rootNode))")
                    XCTAssertTrue(s.allSatisfy(\.isFinite), "\(name) \(criterion.name) \(graph.name(g.rootNode))")
                }
            }
        }
    }

    func testProtectedGlobalPruningRespectsTheFloor() throws {
        for (name, make) in Self.tinyModels() {
            let model = make()
            Self.randomize(model, seed: 11)
            var config = PruningConfig(importance: .l2, globalPruning: true, pruningRatio: 0.95, iterativeSteps: 3,
                                       maxPruningRatio: 0.6, ignoredLayers: [Self.classifier(name)])
            config.roundTo = nil
            let pruner = try Pruner(model: model, config: config)
            let initial = try DependencyGraph(model: make())
            for _ in 0..<3 {
                try pruner.step()
                for node in 1..<model.nodes.count {
                    for side in [ChannelSide.out, .in] {
                        let t = PruningTarget(node: node, side: side)
                        guard let c = pruner.graph.channels(t), let c0 = initial.channels(t) else { continue }
                        let floor = max(1, Int((Double(c0) * 0.4 - 1e-9).rounded(.up)))
                        XCTAssertGreaterThanOrEqual(c, floor, "\(name): \(model.nodes[node].name) \(side)")
                    }
                }
            }
            XCTAssertLessThan(try model.counts().macs, try make().counts().macs, name)
        }
    }

    func testPrunedStateDictReloadsIntoAReplayedModel() throws {
        for (name, make) in Self.tinyModels() {
            let model = make()
            Self.randomize(model, seed: 5)
            let config = PruningConfig(importance: .l1, globalPruning: false, pruningRatio: 0.5, iterativeSteps: 2,
                                       roundTo: 2, ignoredLayers: [Self.classifier(name)])
            let pruner = try Pruner(model: model, config: config)
            _ = try pruner.run()
            let fresh = make()
            try DependencyGraph(model: fresh).replay(pruner.history)
            try fresh.load(model.stateDict())
            let x = Self.input(model, seed: 9)
            XCTAssertEqual(model(x).scalars, fresh(x).scalars, name)
            XCTAssertEqual(try fresh.counts(), try model.counts(), name)
        }
    }

    /// §10.5: LeNet's conv2 (16 channels at 4x4) flattened into fc1 (256 inputs): pruning conv2
    /// outputs {0, 2, 6} removes 48 fc1 columns (stride 16).
    func testFlattenMapsChannelsToFeatureBlocks() throws {
        var b = GraphBuilder(inputShape: [3, 4, 4])
        var x = b.add("conv2", Conv2d(.init(inChannels: 3, outChannels: 16, kernel: 1)), b.input)
        x = b.add("relu", ReLULayer(), x)
        x = b.add("flatten", FlattenLayer(), x)
        x = b.add("fc1", LinearLayer(inFeatures: 256, outFeatures: 120), x)
        let model = b.build(output: x)
        Self.randomize(model, seed: 2)
        let graph = try DependencyGraph(model: model)
        let g = graph.group(root: PruningTarget(node: 1, side: .out), indices: [0, 2, 6])
        let fc1 = try XCTUnwrap(g.items.first { graph.name($0.target.node) == "fc1" })
        XCTAssertEqual(fc1.indices.count, 48)
        XCTAssertEqual(Set(fc1.rootIndices), [0, 2, 6])
        XCTAssertEqual(fc1.indices.prefix(17), ArraySlice(Array(0..<16) + [32]))
        // Scores: fc1 contributes all 16 columns of a channel to that channel.
        XCTAssertEqual(GroupMagnitude.l2().scores(of: graph.group(root: PruningTarget(node: 1, side: .out), indices: Array(0..<16)), in: graph)?.count, 16)
        let xs = Self.input(model, seed: 3)
        let reference = model(xs)
        _ = graph.apply(g)
        XCTAssertEqual((model.nodes[4].layer as! LinearLayer).inFeatures, 208)
        XCTAssertEqual((model.nodes[1].layer as! Conv2d).geometry.outChannels, 13)
        XCTAssertEqual(model(xs).shape, reference.shape)
    }

    /// §10.5: an MLP with a residual add; pruning fc1 outputs {0, 4, 6} shrinks fc1 out, fc2 in,
    /// fc2 out and fc3 in together.
    func testResidualMLPGroup() throws {
        var b = GraphBuilder(inputShape: [8, 1, 1])
        let x0 = b.add("pool", AdaptiveAvgPool2d(flatten: true, functional: true), b.input)
        let h1 = b.add("relu1", ReLULayer(), b.add("fc1", LinearLayer(inFeatures: 8, outFeatures: 256), x0))
        let h2 = b.add("fc2", LinearLayer(inFeatures: 256, outFeatures: 256), h1)
        let sum = b.add("add", AddLayer(), h2, h1)
        let out = b.add("fc3", LinearLayer(inFeatures: 256, outFeatures: 10), sum)
        let model = b.build(output: out)
        let graph = try DependencyGraph(model: model)
        let g = graph.group(root: PruningTarget(node: 2, side: .out), indices: [0, 4, 6])
        XCTAssertTrue(graph.isValid(g))
        _ = graph.apply(g)
        let l = { (n: String) in model.node(named: n)!.layer as! LinearLayer }
        XCTAssertEqual([l("fc1").outFeatures, l("fc2").inFeatures, l("fc2").outFeatures, l("fc3").inFeatures], [253, 253, 253, 253])
        XCTAssertEqual(l("fc3").outFeatures, 10)
    }

    func testConfigErrorsNameTheField() {
        let bad: [([String: Any], String)] = [
            (["importance": "snip", "pruning_ratio": 0.5], "importance"),
            (["importance": "l2", "pruning_ratio": 1.5], "pruning_ratio"),
            (["importance": "l2", "pruning_ratio": 0.5, "bogus": 1], "bogus"),
            (["importance": "l2", "pruning_ratio": 0.5, "round_to": 0], "round_to"),
            (["importance": "l2", "pruning_ratio": 0.5, "scope": "global", "global_pruning": false], "scope"),
        ]
        for (object, field) in bad {
            XCTAssertThrowsError(try PruningConfig.parse(object)) { error in
                XCTAssertTrue(String(describing: error).contains("'\(field)'"), String(describing: error))
            }
        }
    }
}
