import NN
import Tensor

/// timm's `Attention` as one node (Torch-Pruning prunes its `qkv` and `proj` Linears): in side =
/// qkv columns, out side = proj rows and bias, inner side = the attention dimension (proj
/// columns and the qkv rows of that dim in each of the q, k and v blocks), grouped by heads:
/// Torch-Pruning's qkv-out group re-rooted at proj's in side (§4.8).
extension AttentionLayer: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole { .attention }

    public func channelCount(_ side: ChannelSide) -> Int? {
        switch side {
        case .in: return inFeatures
        case .out: return outFeatures
        case .inner: return attentionDim
        }
    }

    /// In: qkv columns. Out: proj rows, proj bias. Inner: proj columns first (the root), then the
    /// qkv rows and qkv bias entries, three per attention dim (q, k and v blocks), each on the
    /// dim's root, like a flattened Linear's columns.
    public func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] {
        switch side {
        case .in: return [ParameterSlice(qkvWeight, axis: 1, indices: indices, roots: roots, kind: .convLinear)]
        case .out:
            return ParameterSlice.rows(of: projWeight, bias: projBias, indices: indices, roots: roots, kind: .convLinear)
        case .inner:
            let rows = qkvRows(ofAttentionDims: indices)
            let rowRoots = Array(repeating: roots, count: 3).flatMap { $0 }
            return [ParameterSlice(projWeight, axis: 1, indices: indices, roots: roots, kind: .convLinear)]
                + ParameterSlice.rows(of: qkvWeight, bias: qkvBias, indices: rows, roots: rowRoots, kind: .convLinear)
        }
    }

    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) {
        switch side {
        case .in: keep(inputs: indices)
        case .out: keep(outputs: indices)
        case .inner: keep(attention: indices)
        }
    }

    /// The inner side keeps the same relative dims in every head.
    public func keepRefusal(_ side: ChannelSide, _ kept: [Int]) -> String? {
        guard side == .inner, !Self.isHeadSymmetric(kept, heads: numHeads, headDim: headDim) else { return nil }
        return "removes different dims in different heads"
    }

    /// The head count on the inner side (head-dim pruning: scores folded to (heads, dims)).
    public func channelGroups(_ side: ChannelSide) -> Int { side == .inner ? numHeads : 1 }

    public func recordSuffix(_ side: ChannelSide) -> String { side == .in ? ".qkv" : ".proj" }

    /// `.proj`: out rows (`is_out`) or the inner side (proj's in); `.qkv`: the inner side
    /// (qkv's out) or in columns.
    public func recordSide(suffix: String, isOut: Bool) -> ChannelSide? {
        switch suffix {
        case ".proj": return isOut ? .out : .inner
        case ".qkv": return isOut ? .inner : .in
        default: return nil
        }
    }

    public func checkpointWidths(module: String) -> [(key: String, width: Int)] {
        [(module + ".qkv", qkvWeight.value.shape[0]), (module + ".proj", outFeatures)]
    }

    /// The fused qkv Linear on the attention's input tokens. (Its output projection, the
    /// consumer of the head dimensions, sees an input internal to the layer and is not sampled.)
    public func consumerSamples(inputs: [Tensor], outputShape: [Int], generator: inout SeededGenerator)
        -> (values: [Float], width: Int)? {
        (ConsumerSamples.linearSamples(qkvWeight.value, inputs[0], &generator), qkvWeight.value.shape[1])
    }
}
