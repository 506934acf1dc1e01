import NN

/// `nn.BatchNorm2d` (Torch-Pruning's `BatchnormPruner`): pass-through; a channel owns γ, β and
/// its running statistics.
extension BatchNorm2d: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .batchNorm }

    public func channelCount(_ side: ChannelSide) -> Int? { side == .inner ? nil : channels }

    /// γ, then β (the running statistics are removed with the channel but never scored).
    public func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] {
        ParameterSlice.rows(of: weight, bias: bias, indices: indices, roots: roots, kind: .batchNorm)
    }

    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) { keep(channels: indices) }

    public func checkpointWidths(module: String) -> [(key: String, width: Int)] { [(module, channels)] }
}
