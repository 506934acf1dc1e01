import NN
import Tensor

/// A layer kind the pruning engine knows: everything pruning needs to know about the kind,
/// declared once, in the kind's own file under `Sources/Pruning/Layers/` (Torch-Pruning's
/// per-kind layer pruners, `pruner/function.py`, and the index mappings of its dependency
/// functions).
///
/// The dependency graph, removal, pruned checkpoints, every criterion and every regularizer
/// read these declarations; none of them names a layer type. A model with a node whose layer
/// does not conform is refused when its ``DependencyGraph`` is built, with one error naming the
/// node and its kind. Adding a kind means: its layer (`Sources/NN/Layers`), its conformance here,
/// its tests.
///
/// Every requirement except ``channelRole(inputShapes:)`` has a default for a kind that keeps
/// channel indices and owns no parameter slices (activations, pooling, residual add): such a kind
/// declares only its role.
///
/// Sides: a pass-through kind (``ChannelRole/isPassThrough``) has one channel axis and is always
/// addressed with ``ChannelSide/out``; a conv or linear kind has ``ChannelSide/in`` and
/// ``ChannelSide/out``; ``ChannelSide/inner`` is an internal dimension pruned only as the root of
/// its own group (timm attention's head dimensions).
public protocol PrunableLayer: Layer {
    /// How channel indices pass through the layer, given the node's input shapes when the graph
    /// is built. Throws a ``PruningGraphError`` (without the node's name, which the graph adds)
    /// for a configuration the engine cannot prune faithfully.
    func channelRole(inputShapes: [[Int]]) throws -> ChannelRole

    /// The current channel count on `side`, or nil when the side carries no channel count of its
    /// own (element-wise kinds, flatten) or does not exist.
    func channelCount(_ side: ChannelSide) -> Int?

    /// The parameter slices that pruned channels `indices` on `side` own, each index paired with
    /// its root channel in `roots` (Torch-Pruning's per-prune-function "which tensor, which axis",
    /// derived here and nowhere else). Weights come before their biases, in the order the
    /// reference scores them.
    func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice]

    /// Keeps only the channels `indices` (increasing, current positions) on `side`: the physical
    /// removal of a group item.
    func keepChannels(_ side: ChannelSide, _ indices: [Int])

    /// Why keeping `kept` on `side` is impossible (replaying a pruning history), or nil when it
    /// is possible.
    func keepRefusal(_ side: ChannelSide, _ kept: [Int]) -> String?

    /// The channel grouping G this side imposes on a group containing it (§7.1): a grouped
    /// conv's groups on either side, an attention's head count on its inner side; 1 otherwise.
    func channelGroups(_ side: ChannelSide) -> Int

    /// Maps indices on the layer's channels to the channels of its input `position`, walking
    /// from the layer to that producer (concat: keep that input's range, subtract its offset).
    func indicesToInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)]
    /// Maps indices on input `position`'s channels to the layer's, walking from that producer to
    /// the layer (concat: add the input's offset).
    func indicesFromInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)]
    /// Maps indices on the layer's channels to its output's, walking to its consumers
    /// (flatten: channel c becomes its block of features).
    func indicesToOutput(_ idx: [(Int, Int)], _ context: ChannelContext) -> [(Int, Int)]
    /// Maps indices on the layer's output to its channels, walking from a consumer back to it
    /// (flatten: features back to channels).
    func indicesFromOutput(_ idx: [(Int, Int)], _ context: ChannelContext) -> [(Int, Int)]

    /// Called after a group was applied, when the producer at input `position` lost its output
    /// channels `removed` (positions before the group): a kind with channel offsets of its own
    /// (a channel slice) updates them here.
    func inputChannelsRemoved(position: Int, _ removed: [Int])

    /// The suffix a pruning record appends to the module name when a group is rooted at `side`
    /// (timm attention: `.qkv` for in, `.proj` for out and inner, as Torch-Pruning names its
    /// submodules); empty for a kind that is one module.
    func recordSuffix(_ side: ChannelSide) -> String
    /// The side a record naming this node's module plus `suffix` roots, given its `is_out` flag;
    /// nil when the suffix is not one of the kind's.
    func recordSide(suffix: String, isOut: Bool) -> ChannelSide?

    /// Width entries written to a pruned checkpoint's metadata (`prunebench.widths`) and checked
    /// when it is read back, keyed by `module` (plus a submodule suffix where the kind has them).
    func checkpointWidths(module: String) -> [(key: String, width: Int)]

    /// The output width by which the benchmark recognises a classifier layer (§7: a Linear's out
    /// features, a Conv's out channels), or nil for a kind that is never the classifier.
    var classifierWidth: Int? { get }

    /// OB-DC's per-sample weight gradient of the layer (Torch-Pruning's `OBDCImportance` hooks
    /// Conv and Linear modules), or nil for a kind it does not cover.
    var fisherSource: FisherSource? { get }

    /// CP/ThiNet's sampled contributions of the layer seen as a consumer on its in side
    /// (pruningbench.md §4.1 items 10–11): `ConsumerSamples.samplesPerImage` (output unit,
    /// position) draws per image, each the per-input-channel products `u_i`, row-major with
    /// `width` values per draw; nil for a kind that is not sampled.
    func consumerSamples(inputs: [Tensor], outputShape: [Int], generator: inout SeededGenerator) -> (values: [Float], width: Int)?

    /// Whether HRank ranks this layer's output feature maps (Conv, any groups).
    var ranksFeatureMaps: Bool { get }
}

extension PrunableLayer {
    public func channelCount(_ side: ChannelSide) -> Int? { nil }
    public func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] { [] }
    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) {}
    public func keepRefusal(_ side: ChannelSide, _ kept: [Int]) -> String? { nil }
    public func channelGroups(_ side: ChannelSide) -> Int { 1 }
    public func indicesToInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)] { idx }
    public func indicesFromInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)] { idx }
    public func indicesToOutput(_ idx: [(Int, Int)], _ context: ChannelContext) -> [(Int, Int)] { idx }
    public func indicesFromOutput(_ idx: [(Int, Int)], _ context: ChannelContext) -> [(Int, Int)] { idx }
    public func inputChannelsRemoved(position: Int, _ removed: [Int]) {}
    public func recordSuffix(_ side: ChannelSide) -> String { "" }
    public func recordSide(suffix: String, isOut: Bool) -> ChannelSide? { nil }
    public func checkpointWidths(module: String) -> [(key: String, width: Int)] { [] }
    public var classifierWidth: Int? { nil }
    public var fisherSource: FisherSource? { nil }
    public func consumerSamples(inputs: [Tensor], outputShape: [Int], generator: inout SeededGenerator) -> (values: [Float], width: Int)? { nil }
    public var ranksFeatureMaps: Bool { false }

    /// The slices of every channel on `side` (each its own root).
    func allSlices(_ side: ChannelSide) -> [ParameterSlice] {
        guard let c = channelCount(side) else { return [] }
        return parameterSlices(side, indices: Array(0..<c), roots: Array(0..<c))
    }
}

/// The adapter lookup: a layer's ``PrunableLayer`` conformance, the one registry of layer kinds
/// the pruning engine knows.
public enum PrunableLayers {
    /// The pruning adapter of `layer`, or nil when its kind has none.
    public static func adapter(for layer: any Layer) -> (any PrunableLayer)? { layer as? any PrunableLayer }

    /// The pruning adapter of `node`'s layer, or the error refusing a model that contains it.
    public static func adapter(of node: Model.Node) throws -> any PrunableLayer {
        guard let adapter = adapter(for: node.layer) else {
            throw PruningGraphError("node '\(node.name)': layer kind '\(node.layer.kind)' has no pruning adapter "
                                    + "(Sources/Pruning/Layers); the pruning engine rejects the model rather than mis-group it")
        }
        return adapter
    }

    /// Whether any layer of `model` owns slices of `kind` (e.g. a batch-norm scale).
    public static func model(_ model: Model, owns kind: SliceKinds) -> Bool {
        model.nodes.contains { node in
            adapter(for: node.layer)?.allSlices(.out).contains { $0.kind.contains(kind) } ?? false
        }
    }
}

/// Which parameter family a slice belongs to, as criteria and regularizers select them
/// (Torch-Pruning's importance functions branch on the prune function: conv/linear, batch norm,
/// layer norm).
public struct SliceKinds: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Conv and Linear weights and biases (timm attention's qkv and proj are Linears).
    public static let convLinear = SliceKinds(rawValue: 1)
    /// Batch-norm γ and β.
    public static let batchNorm = SliceKinds(rawValue: 2)
    /// Layer-norm weight and bias.
    public static let layerNorm = SliceKinds(rawValue: 4)
}

/// Slices of one parameter owned by pruned channels: entries `indices` along `axis` of
/// `parameter` (0: rows, i.e. the first axis, which for a vector is its entries; 1: columns, the
/// second axis with the remaining axes flattened per column), each paired with its root channel.
public struct ParameterSlice {
    /// The sliced parameter.
    public let parameter: Parameter
    /// 0: rows (vector entries); 1: columns.
    public let axis: Int
    /// Positions along `axis`.
    public let indices: [Int]
    /// The root channel of each position.
    public let roots: [Int]
    /// The slice's family.
    public let kind: SliceKinds
    /// Whether the parameter is a bias (β for a norm): criteria with `bias: false` skip it.
    public let isBias: Bool
    /// The conv groups an in-side slice of a grouped conv spans (the regularizers use only its
    /// first `indices.count / groups` entries, §8.2); 1 otherwise.
    public let groups: Int

    /// A slice set of `parameter`; `groups` only for a grouped conv's in side.
    public init(_ parameter: Parameter, axis: Int, indices: [Int], roots: [Int], kind: SliceKinds,
                isBias: Bool = false, groups: Int = 1) {
        self.parameter = parameter; self.axis = axis; self.indices = indices; self.roots = roots
        self.kind = kind; self.isBias = isBias; self.groups = groups
    }

    /// The rows `indices` of `weight` and, when there is one, the same entries of `bias`: what a
    /// pruned output channel owns in a Conv, a Linear or a norm.
    static func rows(of weight: Parameter, bias: Parameter?, indices: [Int], roots: [Int], kind: SliceKinds) -> [ParameterSlice] {
        [ParameterSlice(weight, axis: 0, indices: indices, roots: roots, kind: kind)]
            + (bias.map { [ParameterSlice($0, axis: 0, indices: indices, roots: roots, kind: kind, isBias: true)] } ?? [])
    }

    /// This slice with only its first `n` entries.
    func prefix(_ n: Int) -> ParameterSlice {
        ParameterSlice(parameter, axis: axis, indices: Array(indices.prefix(n)), roots: Array(roots.prefix(n)),
                       kind: kind, isBias: isBias, groups: groups)
    }
}

/// What an index mapping may consult: the graph and the node being walked through.
public struct ChannelContext {
    /// The graph being walked.
    public let graph: DependencyGraph
    /// The node the indices pass through.
    public let node: Int

    /// The node's role.
    public var role: ChannelRole { graph.roles[node] }

    /// The current channel count (last axis) of each of the node's inputs, or nil when the
    /// model's shapes cannot be computed.
    public var inputChannels: [Int]? {
        guard let shapes = try? graph.model.shapes(batch: 1) else { return nil }
        return graph.model.nodes[node].inputs.map { shapes[$0].last ?? 0 }
    }
}

/// OB-DC's view of a layer: the weight its Fisher is taken of, whether it is skipped as the
/// classifier, and a maker of per-sample weight-gradient evaluators.
public struct FisherSource {
    /// The weight whose Fisher is accumulated.
    public let weight: Parameter
    /// Whether OB-DC skips the layer in a model with `classes` outputs (a Linear classifier).
    public let skipsAsClassifier: (_ classes: Int) -> Bool
    /// A fresh evaluator of the weight gradient from (output gradient, input); it may keep
    /// kernels between calls, so one is made per node and reused.
    public let makeEvaluator: () -> (_ gradOutput: Tensor, _ input: Tensor) -> Tensor

    /// The Fisher source of `weight`.
    public init(weight: Parameter, skipsAsClassifier: @escaping (Int) -> Bool,
                makeEvaluator: @escaping () -> (Tensor, Tensor) -> Tensor) {
        self.weight = weight; self.skipsAsClassifier = skipsAsClassifier; self.makeEvaluator = makeEvaluator
    }
}
