import NN

/// Channel concat (``ConcatLayer``, `torch.cat(dim=1)`, Torch-Pruning's `_ConcatIndexMapping`):
/// input i's channels are offset by o_i = c_0 + … + c_{i−1}, from the inputs' current channel
/// counts, recomputed at every walk (§4.2).
extension ConcatLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .concat }

    /// Concat → input `position`: keep [o_p, o_{p+1}) and subtract o_p.
    public func indicesToInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)] {
        guard let c = context.inputChannels, position < c.count else { return idx }
        let lo = c[..<position].reduce(0, +), hi = lo + c[position]
        return idx.filter { $0.0 >= lo && $0.0 < hi }.map { ($0.0 - lo, $0.1) }
    }

    /// Input `position` → concat: add o_p.
    public func indicesFromInput(_ idx: [(Int, Int)], position: Int, _ context: ChannelContext) -> [(Int, Int)] {
        guard let c = context.inputChannels, position < c.count else { return idx }
        let o = c[..<position].reduce(0, +)
        return idx.map { ($0.0 + o, $0.1) }
    }
}
