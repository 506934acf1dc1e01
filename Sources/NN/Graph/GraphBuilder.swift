/// Builds a ``Model`` node by node.
///
/// ```swift
/// var b = GraphBuilder(inputShape: [3, 32, 32])
/// var x = b.add("conv1", Conv2d(...), b.input)
/// x = b.add("relu", ReLU(), x)
/// let model = b.build(output: x)
/// ```
public struct GraphBuilder {
    /// A handle on a node's output.
    public struct Value: Hashable, Sendable { public let index: Int }

    private var nodes: [Model.Node]
    private let inputShape: [Int]
    private var names: Set<String> = []

    /// The model's input.
    public var input: Value { Value(index: 0) }

    public init(inputShape: [Int]) {
        self.inputShape = inputShape
        nodes = [Model.Node(name: "input", layer: InputPlaceholder(), inputs: [])]
    }

    /// Adds a node named `name` applying `layer` to `inputs`; returns its output.
    @discardableResult
    public mutating func add(_ name: String, _ layer: any Layer, _ inputs: Value...) -> Value {
        add(name, layer, inputs)
    }

    /// Adds a node named `name` applying `layer` to `inputs`; returns its output.
    @discardableResult
    public mutating func add(_ name: String, _ layer: any Layer, _ inputs: [Value]) -> Value {
        precondition(!names.contains(name), "duplicate node name '\(name)'")
        names.insert(name)
        nodes.append(Model.Node(name: name, layer: layer, inputs: inputs.map(\.index)))
        return Value(index: nodes.count - 1)
    }

    /// The finished model with `output` as its result.
    public func build(output: Value) -> Model {
        Model(nodes: nodes, outputNode: output.index, inputShape: inputShape)
    }
}

/// Node 0: the graph's input. Never executed.
public final class InputPlaceholder: Layer {
    public static let kind = "input"
    init() {}
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { [] }
    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor { fatalError("input is not executed") }
    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] { [] }
    public func clearSaved() {}

    /// The graph input itself: never exported as an operator.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String { "input" }
}

import Tensor
