import Tensor

/// `nn.Conv2d`: state `weight` `[out, in/groups, kh, kw]` and optional `bias` `[out]`.
public final class Conv2d: Layer {
    public static let kind = "conv2d"
    public private(set) var geometry: Conv2DGeometry
    public let weight: Parameter
    public let bias: Parameter?
    private var kernel: Conv2DKernel
    private var savedInput: Tensor?

    /// A convolution with zero-initialised state (builders or checkpoints fill it).
    public init(_ geometry: Conv2DGeometry) {
        self.geometry = geometry
        weight = Parameter(Tensor(zeros: geometry.weightShape))
        bias = geometry.hasBias ? Parameter(Tensor(zeros: [geometry.outChannels])) : nil
        kernel = Conv2DKernel(geometry)
    }

    public var state: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        guard s.count == 4, s[3] == geometry.inChannels else {
            throw ShapeError("expects \(geometry.inChannels) input channels, got shape \(s)")
        }
        let (h, w) = geometry.outputSize(h: s[1], w: s[2])
        guard h > 0, w > 0 else { throw ShapeError("input \(s[1])x\(s[2]) is too small for the kernel") }
        return [s[0], h, w, geometry.outChannels]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        if context.training { savedInput = inputs[0] }
        return kernel.forward(inputs[0], weight: weight.value, bias: bias?.value)
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let x = savedInput else { fatalError("conv2d backward without a training forward") }
        let (gw, gb) = kernel.backwardWeights(gradOutput, input: x)
        weight.accumulate(gw)
        if let gb { bias?.accumulate(gb) }
        guard needsInputGradient[0] else { return [nil] }
        return [kernel.backwardData(gradOutput, weight: weight.value, inputShape: x.shape)]
    }

    public func clearSaved() { savedInput = nil }

    /// `kh*kw*in*(out/groups)*Ho*Wo`, plus `out*Ho*Wo` with a bias.
    public func macs(inputShapes: [[Int]], outputShape o: [Int]) -> Int {
        let g = geometry, spatial = o[1] * o[2]
        return g.kernelH * g.kernelW * g.inChannels * (g.outChannels / g.groups) * spatial + (g.hasBias ? g.outChannels * spatial : 0)
    }

    /// `kh*kw*(in/groups)*out*Ho*Wo`.
    public func weightMACs(inputShapes: [[Int]], outputShape o: [Int]) -> Int {
        let g = geometry
        return g.kernelH * g.kernelW * (g.inChannels / g.groups) * g.outChannels * o[1] * o[2]
    }

    /// Either recipe: weight kaiming-normal (fan-out = out·kh·kw/groups, ReLU gain), bias uniform
    /// in `±1/sqrt(fan_in)`, fan-in = in/groups·kh·kw.
    public func initialize(_ recipe: InitializationRecipe, using g: inout SeededGenerator) {
        let s = geometry
        let fanOut = s.outChannels * s.kernelH * s.kernelW / s.groups
        let std = Float((2.0 / Double(fanOut)).squareRoot())
        weight.value = .randomNormal(s.weightShape, std: std, using: &g)
        if let bias {
            let bound = 1 / Float(Double(s.inChannels / s.groups * s.kernelH * s.kernelW).squareRoot())
            bias.value = .randomUniform([s.outChannels], low: -bound, high: bound, using: &g)
        }
    }

    /// Whether the conv is depthwise: groups = in = out channels > 1.
    public var isDepthwise: Bool {
        let g = geometry
        return g.groups == g.outChannels && g.groups == g.inChannels && g.groups > 1
    }

    /// Keeps only the output channels `indices` (increasing, original positions): slices weight
    /// rows and bias and rebuilds the kernel. A depthwise conv (groups = out = in) also keeps the
    /// same input channels and groups shrink with them.
    public func keep(outputs indices: [Int]) {
        var g = geometry
        let depthwise = isDepthwise
        weight.value = weight.value.gathering(axis: 0, indices)
        bias?.value = bias!.value.gathering(axis: 0, indices)
        g.outChannels = indices.count
        if depthwise { g.inChannels = indices.count; g.groups = indices.count }
        replaceGeometry(g)
    }

    /// Keeps only the input channels `indices` (increasing). For a grouped conv (1 < groups),
    /// the weight's per-group columns keep the first `indices.count / groups` kept positions
    /// (Torch-Pruning's rule; the pruner removes the same relative channels in every group).
    public func keep(inputs indices: [Int]) {
        var g = geometry
        if g.groups == 1 {
            weight.value = weight.value.gathering(axis: 1, indices)
        } else {
            let perGroup = indices.count / g.groups
            weight.value = weight.value.gathering(axis: 1, Array(indices.prefix(perGroup)))
        }
        g.inChannels = indices.count
        replaceGeometry(g)
    }

    /// The weight columns (axis 1) of input channels `indices`: the channel itself for groups = 1;
    /// for a grouped conv, its position within its conv group (`i mod (in/groups)`), as
    /// Torch-Pruning scores a grouped conv's in side (one column per relative position).
    public func weightColumns(ofInputs indices: [Int]) -> [Int] {
        let g = geometry
        guard g.groups > 1 else { return indices }
        let perGroup = g.inChannels / g.groups
        return indices.map { $0 % perGroup }
    }

    private func replaceGeometry(_ g: Conv2DGeometry) {
        geometry = g
        kernel = Conv2DKernel(g)
        savedInput = nil
        weight.grad = nil
        bias?.grad = nil
    }

    /// ONNX `Conv` with the geometry's kernel, strides, symmetric pads, dilations and groups.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let g = geometry
        var args = [inputs[0].name, graph.state(node, "weight", weight.value)]
        if let bias { args.append(graph.state(node, "bias", bias.value)) }
        return graph.add("Conv", args, [.ints("kernel_shape", [g.kernelH, g.kernelW]), .ints("strides", [g.strideH, g.strideW]),
                                        .ints("pads", [g.padH, g.padW, g.padH, g.padW]), .ints("dilations", [g.dilationH, g.dilationW]),
                                        .int("group", g.groups)], name: node)
    }
}
