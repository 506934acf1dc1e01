import Tensor

/// `nn.Linear` on the last axis: state `weight` `[out, in]` and optional `bias` `[out]`.
public final class LinearLayer: Layer {
    public static let kind = "linear"
    public let inFeatures: Int
    public let outFeatures: Int
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
}
