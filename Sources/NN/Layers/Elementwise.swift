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
}

/// The residual `a + b` (functional; same shapes).
public final class AddLayer: Layer {
    public static let kind = "add"
    public init() {}

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.count == 2, inputs[0] == inputs[1] else { throw ShapeError("adds different shapes \(inputs)") }
        return inputs[0]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        Elementwise.add(inputs[0], inputs[1])
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] { [gradOutput, gradOutput] }
    public func clearSaved() {}
}
