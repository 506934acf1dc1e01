import NN

/// timm's `cls_token` and `pos_embed` as parameter source nodes (Torch-Pruning's
/// `ParameterPruner`): pruned on their last axis with the hidden dimension. Torch-Pruning's
/// importance functions do not score `nn.Parameter`s, so they own no scored slices.
extension ClassTokenLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .parameter }
    public func channelCount(_ side: ChannelSide) -> Int? { side == .inner ? nil : token.value.shape.last }
    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) { keep(features: indices) }
}

extension PositionEmbeddingLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .parameter }
    public func channelCount(_ side: ChannelSide) -> Int? { side == .inner ? nil : embedding.value.shape.last }
    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) { keep(features: indices) }
}
