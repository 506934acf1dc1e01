import NN

/// `nn.LayerNorm` over the last axis (Torch-Pruning's `LayernormPruner`): pass-through; a
/// feature owns its weight and bias entries.
extension LayerNormLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .layerNorm }

    public func channelCount(_ side: ChannelSide) -> Int? { side == .inner ? nil : features }

    public func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] {
        ParameterSlice.rows(of: weight, bias: bias, indices: indices, roots: roots, kind: .layerNorm)
    }

    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) { keep(features: indices) }

    public func checkpointWidths(module: String) -> [(key: String, width: Int)] { [(module, features)] }
}
