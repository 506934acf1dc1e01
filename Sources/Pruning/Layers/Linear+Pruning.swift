import NN
import Tensor

/// `nn.Linear` on the last axis (Torch-Pruning's `LinearPruner`): out side = weight rows and
/// bias, in side = weight columns. Inputs `[N, D]` or tokens `[N, L, D]`.
extension LinearLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole {
        guard [2, 3].contains(inputShapes[0].count) else {
            throw PruningGraphError("Linear on input rank \(inputShapes[0].count) is not supported by the pruning engine")
        }
        return .linear
    }

    public func channelCount(_ side: ChannelSide) -> Int? {
        switch side {
        case .out: return outFeatures
        case .in: return inFeatures
        case .inner: return nil
        }
    }

    public func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] {
        switch side {
        case .out:
            return ParameterSlice.rows(of: weight, bias: bias, indices: indices, roots: roots, kind: .convLinear)
        case .in: return [ParameterSlice(weight, axis: 1, indices: indices, roots: roots, kind: .convLinear)]
        case .inner: return []
        }
    }

    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) {
        switch side {
        case .out: keep(outputs: indices)
        case .in: keep(inputs: indices)
        case .inner: break
        }
    }

    public func checkpointWidths(module: String) -> [(key: String, width: Int)] { [(module, outFeatures)] }

    public var classifierWidth: Int? { outFeatures }

    /// OB-DC skips the Linear whose out features equal the number of classes.
    public var fisherSource: FisherSource? {
        FisherSource(weight: weight, skipsAsClassifier: { [outFeatures] in $0 == outFeatures }) {
            { gy, x in Linear.backwardParameters(gy, input: x, hasBias: false).weight }
        }
    }

    public func consumerSamples(inputs: [Tensor], outputShape: [Int], generator: inout SeededGenerator)
        -> (values: [Float], width: Int)? {
        (ConsumerSamples.linearSamples(weight.value, inputs[0], &generator), inFeatures)
    }
}
