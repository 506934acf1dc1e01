import Tensor

/// `nn.Linear` on the last axis: state `weight` `[out, in]` and optional `bias` `[out]`.
public final class LinearLayer: Layer {
    public static let kind = "linear"
    public private(set) var inFeatures: Int
    public private(set) var outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var savedInput: Tensor?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(Tensor(zeros: [outFeatures, inFeatures]))
        self.bias = bias ? Parameter(Tensor(zeros: [outFeatures])) : nil
    }

    public var state: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs[0].last == inFeatures else {
            throw ShapeError("expects \(inFeatures) input features, got shape \(inputs[0])")
        }
        return Array(inputs[0].dropLast()) + [outFeatures]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        if context.training { savedInput = inputs[0] }
        return Linear.forward(inputs[0], weight: weight.value, bias: bias?.value)
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let x = savedInput else { fatalError("linear backward without a training forward") }
        let g = Linear.backwardParameters(gradOutput, input: x, hasBias: bias != nil)
        weight.accumulate(g.weight)
        if let gb = g.bias { bias?.accumulate(gb) }
        return [Linear.backwardInput(gradOutput, weight: weight.value)]
    }

    public func clearSaved() { savedInput = nil }

    /// `numel(input) * out`, plus `out` once with a bias.
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int {
        inputShapes[0].reduce(1, *) * outFeatures + (bias != nil ? outFeatures : 0)
    }

    /// `numel(input) * out`.
    public func weightMACs(inputShapes: [[Int]], outputShape: [Int]) -> Int { inputShapes[0].reduce(1, *) * outFeatures }

    /// torchvision: weight and bias uniform in `±1/sqrt(in)`. timm: weight truncated normal with
    /// std 0.02, zero bias.
    public func initialize(_ recipe: InitializationRecipe, using g: inout SeededGenerator) {
        switch recipe {
        case .timm:
            weight.value = .truncatedNormal([outFeatures, inFeatures], std: 0.02, using: &g)
            bias?.value = Tensor(zeros: [outFeatures])
        case .torchvision:
            let bound = 1 / Float(Double(inFeatures).squareRoot())
            weight.value = .randomUniform([outFeatures, inFeatures], low: -bound, high: bound, using: &g)
            if let bias { bias.value = .randomUniform([outFeatures], low: -bound, high: bound, using: &g) }
        }
    }

    /// Keeps only the output features `indices` (increasing): weight rows and bias.
    public func keep(outputs indices: [Int]) {
        weight.value = weight.value.gathering(axis: 0, indices)
        bias?.value = bias!.value.gathering(axis: 0, indices)
        outFeatures = indices.count
        weight.grad = nil; bias?.grad = nil; savedInput = nil
    }

    /// Keeps only the input features `indices` (increasing): weight columns.
    public func keep(inputs indices: [Int]) {
        weight.value = weight.value.gathering(axis: 1, indices)
        inFeatures = indices.count
        weight.grad = nil; savedInput = nil
    }

    /// ONNX `Gemm` (`x W^T + b`) on `[N, in]`; on tokens `[N, L, in]`, `MatMul` by `W^T` then `Add`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let x = inputs[0]
        if x.shape.count == 2 {
            var args = [x.name, graph.state(node, "weight", weight.value)]
            if let bias { args.append(graph.state(node, "bias", bias.value)) }
            return graph.add("Gemm", args, [.int("transB", 1)], name: node)
        }
        return graph.linear(x.name, weight: weight.value, bias: bias?.value, node: node)
    }
}
