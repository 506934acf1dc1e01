import Tensor

/// ReLU, as a module (`nn.ReLU`) or applied functionally (`F.relu`); the two differ only in how
/// Torch-Pruning's counter sees them.
public final class ReLULayer: Layer {
    public static let kind = "relu"
    /// True for `F.relu` in the reference forward (counted as 0 MACs).
    public let functional: Bool
    private var savedOutput: Tensor?

    public init(functional: Bool = false) { self.functional = functional }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let y = ReLU.forward(inputs[0])
        if context.training { savedOutput = y }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        [ReLU.backward(gradOutput, output: savedOutput!)]
    }

    public func clearSaved() { savedOutput = nil }

    public var isModule: Bool { !functional }
    public var isFusableReLU: Bool { true }
    /// `numel(output)` for a module, 0 when functional.
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { functional ? 0 : outputShape.reduce(1, *) }

    /// ONNX `Relu`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Relu", [inputs[0].name], name: node)
    }
}

/// The residual `a + b` (functional; same shapes).
public final class AddLayer: ReLUFusing {
    public static let kind = "add"
    /// Applies the following ReLU in the same pass (set by the model).
    public var fusesReLU = false
    private var savedOutput: Tensor?
    public init() {}

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.count == 2, inputs[0] == inputs[1] else { throw ShapeError("adds different shapes \(inputs)") }
        return inputs[0]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        guard fusesReLU else { return Elementwise.add(inputs[0], inputs[1]) }
        let y = Elementwise.addReLU(inputs[0], inputs[1])
        if context.training { savedOutput = y }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard fusesReLU else { return [gradOutput, gradOutput] }
        let g = ReLU.backward(gradOutput, output: savedOutput!)
        return [g, g]
    }

    public func clearSaved() { savedOutput = nil }

    public var isModule: Bool { false }

    /// ONNX `Add`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Add", inputs.map(\.name), name: node)
    }
}

/// `nn.SiLU` (`x * sigmoid(x)`), the activation of Ultralytics' `Conv`. Torch-Pruning's counter
/// has no rule for it: 0 MACs and not listed, like a functional op.
public final class SiLULayer: Layer {
    public static let kind = "silu"
    private var savedInput: Tensor?

    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        if context.training { savedInput = inputs[0] }
        return SiLU.forward(inputs[0])
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let x = savedInput else { fatalError("SiLU backward without a training forward") }
        return [SiLU.backward(gradOutput, input: x)]
    }

    public func clearSaved() { savedInput = nil }

    /// ONNX `Sigmoid` then `Mul` (what `torch.onnx.export` writes for `nn.SiLU` at opset 17).
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let s = graph.add("Sigmoid", [inputs[0].name], name: node + ".sigmoid")
        return graph.add("Mul", [inputs[0].name, s], name: node)
    }
}
