import NN

/// Flatten of an `[N, H, W, C]` map into `[N, C*H*W]` in (C, H, W) order (Torch-Pruning's
/// `_FlattenIndexMapping`): the node holds channel indices; channel c is the block of output
/// features `c*s ..< (c+1)*s`, s = H*W (1 for an input that is already flat: identity).
extension FlattenLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole {
        let s = inputShapes[0]
        return .flatten(stride: s.count == 4 ? s[1] * s[2] : 1)
    }

    /// Channels to features: c → c*s + k for k in 0..<s.
    public func indicesToOutput(_ idx: [(Int, Int)], _ context: ChannelContext) -> [(Int, Int)] {
        guard case .flatten(let s) = context.role, s > 1 else { return idx }
        return idx.flatMap { (i, r) in (0..<s).map { (i * s + $0, r) } }
    }

    /// Features back to channels: j → j / s, each channel once (first occurrence).
    public func indicesFromOutput(_ idx: [(Int, Int)], _ context: ChannelContext) -> [(Int, Int)] {
        guard case .flatten(let s) = context.role, s > 1 else { return idx }
        var seen = Set<Int>(), out: [(Int, Int)] = []
        for (j, r) in idx where seen.insert(j / s).inserted { out.append((j / s, r)) }
        return out
    }
}
