import Tensor

/// A model: a directed acyclic graph of named layer nodes over one input.
///
/// Node 0 is the input (`[N, H, W, C]`, channels-last); every other node applies a ``Layer`` to
/// earlier nodes' outputs. Parameter and buffer names are `node name + "." + state name`, which
/// are the reference definitions' state-dict names (`layer1.0.conv1.weight`).
public final class Model {
    /// A node of the graph.
    public struct Node {
        public let name: String
        public let layer: any Layer
        /// Indices of the nodes whose outputs feed this one (0 is the model input).
        public let inputs: [Int]
    }

    /// Nodes in execution order; index 0 is the input placeholder and has no layer.
    public private(set) var nodes: [Node]
    /// The index of the node whose output is the model's output.
    public let outputNode: Int
    /// Input shape `[C, H, W]` the model was built for (batch excluded).
    public let inputShape: [Int]

    /// When set, forward and backward time every node into it.
    public var profile: LayerProfile?

    /// For each node, the nodes that consume its output.
    private let consumers: [[Int]]
    /// ReLU nodes whose producer applies them (see ``ReLUFusing``); the executor passes through.
    private var passThrough: [Bool]

    /// Whether layers that can apply a following ReLU in their own pass do so. On by default;
    /// results are the same either way.
    public var fusesOperations = true {
        didSet { if fusesOperations != oldValue { planFusion() } }
    }

    public init(nodes: [Node], outputNode: Int, inputShape: [Int]) {
        self.nodes = nodes
        self.outputNode = outputNode
        self.inputShape = inputShape
        var consumers = Array(repeating: [Int](), count: nodes.count)
        for (i, n) in nodes.enumerated() { for j in n.inputs { consumers[j].append(i) } }
        self.consumers = consumers
        self.passThrough = Array(repeating: false, count: nodes.count)
        planFusion()
    }

    private func planFusion() {
        passThrough = Array(repeating: false, count: nodes.count)
        for node in nodes { (node.layer as? any ReLUFusing)?.fusesReLU = false }
        guard fusesOperations else { return }
        for (i, node) in nodes.enumerated() where node.layer.isFusableReLU {
            let j = node.inputs[0]
            guard j != 0, j != outputNode, consumers[j] == [i], let producer = nodes[j].layer as? any ReLUFusing else { continue }
            producer.fusesReLU = true
            passThrough[i] = true
        }
    }

    /// Every named parameter and buffer, in state-dict order.
    public var namedState: [(name: String, parameter: Parameter)] {
        nodes.dropFirst().flatMap { node in node.layer.state.map { (Model.stateName(node: node.name, state: $0.name), $0.parameter) } }
    }

    /// The learnable parameters (no buffers), in state-dict order.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        namedState.filter { $0.parameter.kind == .parameter }
    }

    /// Number of learnable scalars.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }

    /// Looks up a node by name.
    public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

    /// Runs the graph on a channels-last batch `[N, H, W, C]`.
    public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
        precondition(input.rank == 4 && Array(input.shape[1...]) == [inputShape[1], inputShape[2], inputShape[0]],
                     "model expects [N, \(inputShape[1]), \(inputShape[2]), \(inputShape[0])], got \(input.shape)")
        var outputs = [Tensor?](repeating: nil, count: nodes.count)
        var pending = consumers.map(\.count)
        outputs[0] = input
        for i in 1..<nodes.count {
            let node = nodes[i]
            if passThrough[i] {
                outputs[i] = outputs[node.inputs[0]]
                pending[node.inputs[0]] -= 1
                if pending[node.inputs[0]] == 0 && node.inputs[0] != outputNode { outputs[node.inputs[0]] = nil }
                continue
            }
            let xs = node.inputs.map { outputs[$0]! }
            let t0 = profile == nil ? 0 : LayerProfile.now()
            outputs[i] = node.layer.forward(xs, context: &context)
            if let profile { profile.add(node.layer.kind, forward: true, LayerProfile.now() - t0) }
            // Release inputs no later node needs (layers keep what their backward needs).
            for j in node.inputs {
                pending[j] -= 1
                if pending[j] == 0 && j != outputNode { outputs[j] = nil }
            }
        }
        return outputs[outputNode]!
    }

    /// Convenience: an eval-mode forward.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var ctx = ForwardContext(training: false)
        return forward(input, context: &ctx)
    }

    /// Backpropagates `gradOutput` (the gradient of the loss with respect to the output) through
    /// the graph, accumulating every parameter's gradient. Call after a training-mode forward.
    public func backward(_ gradOutput: Tensor) {
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        grads[outputNode] = gradOutput
        for i in stride(from: nodes.count - 1, through: 1, by: -1) {
            guard let g = grads[i] else { nodes[i].layer.clearSaved(); continue }
            grads[i] = nil
            let node = nodes[i]
            if passThrough[i] {
                let j = node.inputs[0]
                if grads[j] == nil { grads[j] = g } else { Elementwise.accumulate(&grads[j]!, g) }
                continue
            }
            let t0 = profile == nil ? 0 : LayerProfile.now()
            let inputGrads = node.layer.backward(g, needsInputGradient: node.inputs.map { $0 != 0 })
            if let profile { profile.add(node.layer.kind, forward: false, LayerProfile.now() - t0) }
            node.layer.clearSaved()
            for (j, gi) in zip(node.inputs, inputGrads) where j != 0 {
                guard let gi else { continue }
                if grads[j] == nil { grads[j] = gi } else { Elementwise.accumulate(&grads[j]!, gi) }
            }
        }
    }

    /// Sets every parameter's gradient to nil.
    public func zeroGradients() {
        for (_, p) in namedState { p.grad = nil }
    }

    /// Output shape for a batch of `batch`, checking every node's shape rule.
    public func outputShape(batch: Int = 1) throws -> [Int] { try shapes(batch: batch)[outputNode] }
}
