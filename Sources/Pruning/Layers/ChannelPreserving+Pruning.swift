import NN

// Kinds that keep channel indices and own no parameters: activations, pooling, residual add,
// dropout, and the ViT token plumbing (channels are the last axis throughout). Each declares
// only its role; a new kind of this sort (SiLU, nearest upsample, max pooling) is one line here.

extension ReLULayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension GELULayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension AddLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension Pool2d: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension AdaptiveAvgPool2d: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension DropoutLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension PatchTokensLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension PrependTokenLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension BroadcastAddLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

extension SelectTokenLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .elementwise }
}

/// Node 0, the model input: never pruned.
extension InputPlaceholder: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .input }
}
