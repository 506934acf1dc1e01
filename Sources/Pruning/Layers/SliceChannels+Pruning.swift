import NN

/// One piece of a channel split (``SliceChannelsLayer``, `torch.split(dim=1)`, Torch-Pruning's
/// `_SplitIndexMapping`): producer channel i is the slice's i − start when
/// start ≤ i < start + size (§4.3, §4.5). It owns no parameters; pruning its producer shifts its
/// start and shrinks its size.
extension SliceChannelsLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .sliceChannels }

    public func channelCount(_ side: ChannelSide) -> Int? { side == .inner ? nil : size }

    /// Slice → producer: add start.
    public func indicesToInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)] {
        idx.map { ($0.0 + start, $0.1) }
    }

    /// Producer → slice: keep [start, start + size) and subtract start.
    public func indicesFromInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)] {
        idx.filter { $0.0 >= start && $0.0 < start + size }.map { ($0.0 - start, $0.1) }
    }

    /// The producer's removed channels (in its coordinates before the group) move start down
    /// and shrink size, so the next group's mapping is current.
    public func inputChannelsRemoved(position: Int, _ removed: [Int]) { remove(inputChannels: removed) }
}
