import Experiments
import XCTest
import Models
import NN
import Tensor
@testable import Pruning

/// The pruning adapters (`Sources/Pruning/Layers`): a layer kind without one is refused with one
/// error naming the node and its kind; a kind added with one (here, test-only kinds) is grouped,
/// scored, regularized and removed with no other change to the engine.
final class PrunableLayerTests: XCTestCase {
    /// An identity op of a kind the pruning engine does not know.
    final class MysteryLayer: Layer {
        static let kind = "mystery_op"
        func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
        func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor { inputs[0] }
        func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] { [gradOutput] }
        func clearSaved() {}
    }

    /// A per-channel scale `y = x · s` with state `scale` `[C]`: a new kind with weights, added by
    /// its layer and its adapter only.
    final class ChannelScaleLayer: Layer, PrunableLayer {
        static let kind = "channel_scale"
        let scale: Parameter
        init(channels: Int) { scale = Parameter(Tensor(repeating: 1, shape: [channels])) }
        var state: [(name: String, parameter: Parameter)] { [("scale", scale)] }
        func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
        func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
            let x = inputs[0], c = scale.value.count, s = scale.value.scalars
            return Tensor(shape: x.shape, values: x.scalars.enumerated().map { $0.element * s[$0.offset % c] })
        }
        func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] { fatalError("not trained") }
        func clearSaved() {}

        // The adapter: pass-through, one scale entry per channel, scored like a batch-norm γ.
        func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .batchNorm }
        func channelCount(_ side: ChannelSide) -> Int? { side == .inner ? nil : scale.value.count }
        func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] {
            [ParameterSlice(scale, axis: 0, indices: indices, roots: roots, kind: .batchNorm)]
        }
        func keepChannels(_ side: ChannelSide, _ indices: [Int]) { scale.value = scale.value.gathering(axis: 0, indices) }
        func checkpointWidths(module: String) -> [(key: String, width: Int)] { [(module, scale.value.count)] }
    }

    /// A SiLU-like element-wise kind: its adapter declares only its role.
    final class SwishLayer: Layer, PrunableLayer {
        static let kind = "swish"
        func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
        func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
            Tensor(shape: inputs[0].shape, values: inputs[0].scalars.map { $0 / (1 + exp(-$0)) })
        }
        func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] { fatalError("not trained") }
        func clearSaved() {}
        func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
    }

    /// conv (3 → 6) → `middle` → conv (6 → 4) → pool → fc (4 → 2).
    static func model(middle: any Layer, name: String) -> Model {
        var b = GraphBuilder(inputShape: [3, 5, 5])
        var x = b.add("conv1", Conv2d(.init(inChannels: 3, outChannels: 6, kernel: 3, padding: 1)), b.input)
        x = b.add(name, middle, x)
        x = b.add("conv2", Conv2d(.init(inChannels: 6, outChannels: 4, kernel: 1)), x)
        x = b.add("pool", AdaptiveAvgPool2d(flatten: true), x)
        let logits = b.add("fc", LinearLayer(inFeatures: 4, outFeatures: 2), x)
        return b.build(output: logits)
    }

    /// One error, from every entry point that builds the dependency graph, naming the node and
    /// its kind.
    func testUnknownLayerKindIsRefusedNamingNodeAndKind() throws {
        let model = Self.model(middle: MysteryLayer(), name: "block.mystery")
        XCTAssertNoThrow(try model.outputShape())
        func check(_ what: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), what) { error in
                let text = "\(error)"
                XCTAssertTrue(error is PruningGraphError, "\(what): \(type(of: error))")
                XCTAssertTrue(text.contains("node 'block.mystery'") && text.contains("'mystery_op'") && text.contains("no pruning adapter"),
                              "\(what): \(text)")
            }
        }
        check("graph") { _ = try DependencyGraph(model: model) }
        let config = try PruningConfig.parse(["importance": "l2", "global_pruning": true, "pruning_ratio": 0.5], source: "case")
        check("pruner") { _ = try Pruner(model: model, config: config) }
        check("regularizer") { _ = try SparsityRegularizers.make(.groupSL, model: model) }
        XCTAssertNil(PrunableLayers.adapter(for: MysteryLayer()))
        XCTAssertNotNil(PrunableLayers.adapter(for: ReLULayer()))
    }

    /// Every layer kind the model catalog builds has an adapter.
    func testEveryCatalogKindHasAnAdapter() throws {
        let models = [try ModelSpec(arch: "resnet18", variant: "cifar", width: 0.0625, inputShape: [1, 8, 8], numClasses: 2).build(),
                      ViTBuilder(imageSize: 8, patchSize: 4, inputChannels: 1, embedDim: 12, depth: 1, heads: 2, mlpHidden: 8, classes: 2).build()]
        for model in models {
            for node in model.nodes { XCTAssertNotNil(PrunableLayers.adapter(for: node.layer), "\(node.name): \(node.layer.kind)") }
            XCTAssertNoThrow(try DependencyGraph(model: model))
        }
    }

    /// A test-only kind with weights, declared by its adapter alone, joins the conv's group, is
    /// scored with the batch-norm family, regularized, removed and written to the widths.
    func testNewKindWithWeightsNeedsOnlyItsAdapter() throws {
        let scale = ChannelScaleLayer(channels: 6)
        let model = Self.model(middle: scale, name: "scale")
        PruningPropertyTests.randomize(model, seed: 3)
        scale.scale.value = Tensor(shape: [6], values: [0.5, -2, 0.1, 3, -0.2, 1])
        let graph = try DependencyGraph(model: model)
        let s = try XCTUnwrap(model.nodes.firstIndex { $0.name == "scale" })
        XCTAssertEqual(graph.roles[s], .batchNorm)
        let g = graph.group(root: PruningTarget(node: 1, side: .out), indices: [2, 4])
        XCTAssertEqual(g.items.first { $0.target.node == s }?.indices, [2, 4])

        // Scored as a batch-norm γ: |s_i| on the root's channels.
        let bn = GroupMagnitude.bnScale(normalizer: .none)
        let full = graph.group(root: PruningTarget(node: 1, side: .out), indices: Array(0..<6))
        XCTAssertEqual(bn.scores(of: full, in: graph), [0.5, 2, 0.1, 3, 0.2, 1])
        // Regularized: network slimming adds λ·sign(s).
        scale.scale.grad = Tensor(zeros: [6])
        BNScaleRegularizer(graph: graph, lambda: 0.5).regularize()
        XCTAssertEqual(scale.scale.grad?.scalars, [0.5, -0.5, 0.5, 0.5, -0.5, 0.5])
        scale.scale.grad = nil

        _ = graph.apply(g)
        XCTAssertEqual(scale.scale.value.scalars, [0.5, -2, 3, 1])
        XCTAssertEqual(PrunedCheckpoint.widths(model)["scale"], 4)
        XCTAssertEqual(try model.outputShape(), [1, 2])
    }

    /// A test-only element-wise kind declares only its role; groups pass through it.
    func testNewElementwiseKindPassesChannelsThrough() throws {
        let model = Self.model(middle: SwishLayer(), name: "act")
        let graph = try DependencyGraph(model: model)
        let g = graph.group(root: PruningTarget(node: 1, side: .out), indices: [0, 5])
        XCTAssertEqual(g.items.map { graph.name($0.target.node) }, ["conv1", "act", "conv2"])
        XCTAssertEqual(g.items.last?.target.side, .in)
        _ = graph.apply(g)
        XCTAssertEqual(try model.outputShape(), [1, 2])
    }
}
