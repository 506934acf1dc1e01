import Tensor

/// What a forward pass knows besides its inputs.
public struct ForwardContext {
    /// Training mode: batch statistics in batch norm, dropout active, activations saved for backward.
    public var training: Bool
    /// Randomness for dropout, advanced by every layer that draws from it.
    public var generator: SeededGenerator
    /// With `training`: save for backward but behave as in evaluation (PyTorch's `model.eval()`
    /// followed by `loss.backward()`): batch norm normalizes with, and does not update, its running
    /// statistics, and dropout is off. Used to collect gradients for data-driven pruning criteria.
    public var frozenStatistics: Bool

    public init(training: Bool, seed: UInt64 = 0, frozenStatistics: Bool = false) {
        self.training = training
        self.generator = SeededGenerator(seed: seed, stream: 0xD20)
        self.frozenStatistics = frozenStatistics
    }
}

/// One op kind of the model graph. Everything about an op is declared by its type: how it shapes
/// its output, how it runs forward and backward, and its named state.
///
/// A layer instance belongs to one node of one model. Forward in training mode saves what the
/// layer's backward needs; ``backward(_:)`` consumes it, adds parameter gradients into the
/// layer's ``Parameter``s and returns the gradient of each input.
public protocol Layer: AnyObject {
    /// The op kind, as written in checkpoints ("conv2d", "batchnorm2d", "relu", ...).
    static var kind: String { get }
    /// Named state in state-dict order, relative to the node's name (`weight`, `running_mean`, ...).
    var state: [(name: String, parameter: Parameter)] { get }
    /// The output shape for the given input shapes, or an error naming what does not fit.
    func outputShape(_ inputs: [[Int]]) throws -> [Int]
    /// Runs the op.
    func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor
    /// Gradients of the inputs given the output's; accumulates parameter gradients.
    /// `needsInputGradient[i]` is false when nothing uses input i's gradient (the model input),
    /// and the layer may return nil for it.
    func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?]
    /// Drops anything saved for backward.
    func clearSaved()
    /// Whether the reference runs this op as an `nn.Module` (counted by Torch-Pruning's MAC
    /// counter, listed per layer) or functionally (`F.relu`, `+`: 0 MACs, not listed).
    var isModule: Bool { get }
    /// MACs of one call for a batch of 1, by Torch-Pruning 1.6.1's rules
    /// (`tp.utils.count_ops_and_params`; see docs/macs.md).
    func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int
    /// MACs of the layer's weight products for a batch of 1, bias excluded: the work the training
    /// throughput's GFLOP/s figure counts, as the PyTorch reference script does (its `nn.Conv2d`
    /// and `nn.Linear` modules; 0 for every other kind).
    func weightMACs(inputShapes: [[Int]], outputShape: [Int]) -> Int

    /// Seeded initialisation of the layer's state by `recipe`, drawing from `generator` in the
    /// layer's state order. The default leaves the state as it is.
    func initialize(_ recipe: InitializationRecipe, using generator: inout SeededGenerator)
    /// The recipe a model containing this layer is initialised with, when the layer decides it
    /// (timm's attention: ``InitializationRecipe/timm``); nil for no preference.
    var preferredInitialization: InitializationRecipe? { get }

    /// Integer state kept beside the float state dict, by name relative to the node (batch
    /// norm's `num_batches_tracked`, saved as an int64 scalar as PyTorch's `state_dict()` has it).
    var counters: [(name: String, value: Int)] { get }
    /// Sets the counter `name` (one of ``counters``) read from a state dict.
    func setCounter(_ name: String, to value: Int)

    /// Whether the op is a ReLU that a ``ReLUFusing`` producer may apply in its own pass.
    var isFusableReLU: Bool { get }

    /// Appends the op's ONNX form to `graph` in PyTorch's layout (see ``ONNXGraph``): reads
    /// `inputs`, names its operators and initializers after `node` (initializers by their
    /// state-dict names) and returns the name of its output. A kind without one throws.
    func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String
}

extension Layer {
    public var state: [(name: String, parameter: Parameter)] { [] }
    public var kind: String { Self.kind }
    public var isModule: Bool { true }
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { 0 }
    public func weightMACs(inputShapes: [[Int]], outputShape: [Int]) -> Int { 0 }
    public func initialize(_ recipe: InitializationRecipe, using generator: inout SeededGenerator) {}
    public var preferredInitialization: InitializationRecipe? { nil }
    public var counters: [(name: String, value: Int)] { [] }
    public func setCounter(_ name: String, to value: Int) {}
    public var isFusableReLU: Bool { false }
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        throw ONNXExportError("layer kind '\(Self.kind)' has no ONNX form")
    }
}

/// A shape mismatch found while building or checking a graph.
public struct ShapeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A layer that can apply a following ReLU itself, in the same pass over memory. The model
/// turns this on when the layer's only consumer is a ReLU node; the graph keeps the ReLU node
/// (for counting and pruning), and the executor passes through it.
public protocol ReLUFusing: Layer {
    var fusesReLU: Bool { get set }
}
