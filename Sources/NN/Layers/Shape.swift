import Tensor

/// `torch.flatten(x, 1)` on a feature map: `[N, H, W, C]` to `[N, C*H*W]` in PyTorch's (C, H, W)
/// order, so a following Linear takes torchvision's weights unchanged. Functional (0 MACs).
public final class FlattenLayer: Layer {
    public static let kind = "flatten"
    private var savedShape: [Int]?
    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        return [s[0], s.dropFirst().reduce(1, *)]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0]
        if context.training { savedShape = x.shape }
        guard x.rank == 4 else { return x.reshaped([x.shape[0], -1]) }
        return Permute.forward(x, axes: [0, 3, 1, 2]).reshaped([x.shape[0], -1])
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        let s = savedShape!
        guard s.count == 4 else { return [gradOutput.reshaped(s)] }
        return [Permute.forward(gradOutput.reshaped([s[0], s[3], s[1], s[2]]), axes: [0, 2, 3, 1])]
    }

    public func clearSaved() { savedShape = nil }

    /// ONNX `Flatten` from axis 1: on an NCHW map that is PyTorch's (C, H, W) order, as here.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Flatten", [inputs[0].name], [.int("axis", 1)], name: node)
    }
}

/// `nn.Dropout(p)`: active in training, identity in eval. Torch-Pruning counts it 0 and does not
/// list it.
public final class DropoutLayer: Layer {
    public static let kind = "dropout"
    public let probability: Float
    private var savedMask: Tensor?

    public init(probability: Float) {
        precondition((0...1).contains(probability), "dropout probability \(probability) outside [0, 1]")
        self.probability = probability
    }

    public var isModule: Bool { false }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        guard context.training, !context.frozenStatistics, probability > 0 else { return inputs[0] }
        let (y, mask) = Dropout.forward(inputs[0], p: probability, using: &context.generator)
        savedMask = mask
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let mask = savedMask else { return [gradOutput] }
        return [Dropout.backward(gradOutput, mask: mask)]
    }

    public func clearSaved() { savedMask = nil }

    /// `Identity`: the exported graph is for inference.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Identity", [inputs[0].name], name: node)
    }
}

/// `nn.Upsample(scale_factor=s, mode="nearest")` for an integer factor: every pixel repeated
/// `s x s` times. Torch-Pruning counts `numel(output)`.
public final class UpsampleNearestLayer: Layer {
    public static let kind = "upsample_nearest"
    /// The integer scale factor of both spatial axes.
    public let scale: Int

    public init(scale: Int = 2) {
        precondition(scale >= 1, "the upsampling factor must be at least 1, got \(scale)")
        self.scale = scale
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 4 else { throw ShapeError("expects [N, H, W, C], got \(s)") }
        return [s[0], s[1] * scale, s[2] * scale, s[3]]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        UpsampleNearest.forward(inputs[0], scale: scale)
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        [UpsampleNearest.backward(gradOutput, scale: scale)]
    }

    public func clearSaved() {}

    /// `numel(output)`.
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { outputShape.reduce(1, *) }

    /// ONNX `Resize` in nearest mode with PyTorch's coordinates (`asymmetric`, `floor`).
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let scales = graph.initializer(node + ".scales", values: [1, 1, Float(scale), Float(scale)], shape: [4])
        return graph.add("Resize", [inputs[0].name, "", scales],
                         [.string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"),
                          .string("nearest_mode", "floor")], name: node)
    }
}
