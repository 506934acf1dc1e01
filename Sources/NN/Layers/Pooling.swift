import Tensor

/// `nn.MaxPool2d` / `nn.AvgPool2d` on channels-last maps.
public final class Pool2d: Layer {
    public static let kind = "pool2d"
    public let geometry: Pool2DGeometry
    public let pooling: Pool2DKernel.Kind
    /// False for a module the reference defines but does not call at this resolution (the CIFAR
    /// VGG's `pool3` below 64x64): it passes its input through and counts 0 MACs.
    public let active: Bool
    private let kernel: Pool2DKernel
    private var saved: (shape: [Int], workspace: Tensor)?

    public init(_ pooling: Pool2DKernel.Kind, _ geometry: Pool2DGeometry, active: Bool = true) {
        self.pooling = pooling
        self.geometry = geometry
        self.active = active
        kernel = Pool2DKernel(pooling, geometry)
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 4 else { throw ShapeError("expects [N, H, W, C], got \(s)") }
        guard active else { return s }
        let (h, w) = geometry.outputSize(h: s[1], w: s[2])
        guard h > 0, w > 0 else { throw ShapeError("input \(s[1])x\(s[2]) is smaller than the window") }
        return [s[0], h, w, s[3]]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        guard active else { return inputs[0] }
        let (y, ws) = kernel.forward(inputs[0])
        if context.training { saved = (inputs[0].shape, ws) }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard active else { return [gradOutput] }
        return [kernel.backward(gradOutput, inputShape: saved!.shape, workspace: saved!.workspace)]
    }

    public func clearSaved() { saved = nil }

    /// `numel(input)` (0 when inactive).
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { active ? inputShapes[0].reduce(1, *) : 0 }

    /// ONNX `MaxPool` / `AveragePool` (padding counted in the divisor, as PyTorch's default);
    /// `Identity` for a module the reference does not call at this resolution.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        guard active else { return graph.add("Identity", [inputs[0].name], name: node) }
        let g = geometry
        var attributes: [ONNXGraph.Attribute] = [.ints("kernel_shape", [g.kernelH, g.kernelW]), .ints("strides", [g.strideH, g.strideW]),
                                                 .ints("pads", [g.padH, g.padW, g.padH, g.padW])]
        if pooling == .average { attributes.append(.int("count_include_pad", 1)) }
        return graph.add(pooling == .max ? "MaxPool" : "AveragePool", [inputs[0].name], attributes, name: node)
    }
}

/// Adaptive average pooling to a fixed output size; `flatten` also drops the spatial axes when
/// the output is 1x1 (the reference's `.view(batch, -1)`), giving `[N, C]`.
public final class AdaptiveAvgPool2d: Layer {
    public static let kind = "adaptive_avg_pool2d"
    public let outputH: Int, outputW: Int
    public let flatten: Bool
    /// True for `F.adaptive_avg_pool2d` in the reference forward (counted as 0 MACs).
    public let functional: Bool
    private var savedShape: [Int]?

    public init(outputH: Int = 1, outputW: Int = 1, flatten: Bool = false, functional: Bool = false) {
        precondition(!flatten || (outputH == 1 && outputW == 1), "flatten needs a 1x1 output")
        self.outputH = outputH; self.outputW = outputW
        self.flatten = flatten; self.functional = functional
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 4 else { throw ShapeError("expects [N, H, W, C], got \(s)") }
        return flatten ? [s[0], s[3]] : [s[0], outputH, outputW, s[3]]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0]
        if context.training { savedShape = x.shape }
        let y = AdaptiveAveragePool2D.forward(x, outputH: outputH, outputW: outputW)
        return flatten ? y.reshaped([x.shape[0], x.shape[3]]) : y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        let s = savedShape!
        let g = flatten ? gradOutput.reshaped([s[0], 1, 1, s[3]]) : gradOutput
        return [AdaptiveAveragePool2D.backward(g, inputShape: s)]
    }

    public func clearSaved() { savedShape = nil }

    public var isModule: Bool { !functional }
    /// `numel(input)` for a module, 0 when functional.
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { functional ? 0 : inputShapes[0].reduce(1, *) }

    /// ONNX `GlobalAveragePool` for a 1x1 output (then `Flatten` if the layer flattens), else an
    /// `AveragePool` when the input divides evenly into the output; other sizes have no ONNX form.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let s = inputs[0].shape
        let pooled: String
        if outputH == 1 && outputW == 1 {
            pooled = graph.add("GlobalAveragePool", [inputs[0].name], name: flatten ? node + ".pool" : node)
        } else if s[1] % outputH == 0 && s[2] % outputW == 0 {
            let kh = s[1] / outputH, kw = s[2] / outputW
            pooled = graph.add("AveragePool", [inputs[0].name], [.ints("kernel_shape", [kh, kw]), .ints("strides", [kh, kw])], name: node)
        } else {
            throw ONNXExportError("adaptive average pooling of \(s[1])x\(s[2]) to \(outputH)x\(outputW) is not a fixed pooling window")
        }
        return flatten ? graph.add("Flatten", [pooled], [.int("axis", 1)], name: node) : pooled
    }
}
