import Tensor

/// `torch.cat(xs, dim=1)` on channels: concatenation along the **last** axis, which is the channel
/// axis of channels-last maps `[N, H, W, C]` and the feature axis of `[N, D]` / `[N, L, D]`.
/// Functional (0 MACs, not listed). The pruning graph maps channel indices through it with offsets
/// computed from the inputs' current channel counts (§4.2 of the pruning semantics).
public final class ConcatLayer: Layer {
    public static let kind = "concat"
    private var savedSizes: [Int]?
    public init() {}

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard let first = inputs.first, !first.isEmpty else { throw ShapeError("concat needs at least one input") }
        for s in inputs where s.count != first.count || s.dropLast() != first.dropLast() {
            throw ShapeError("concat on the channel axis: shape \(s) does not match \(first)")
        }
        var out = first
        out[out.count - 1] = inputs.reduce(0) { $0 + $1.last! }
        return out
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        if context.training { savedSizes = inputs.map { $0.shape.last! } }
        return Concat.forward(inputs, axis: -1)
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let sizes = savedSizes else { fatalError("concat backward without a training forward") }
        return Concat.backward(gradOutput, sizes: sizes, axis: -1)
    }

    public func clearSaved() { savedSizes = nil }

    /// ONNX `Concat` along the channels (axis 1 of NCHW maps, the last axis of tokens).
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        graph.add("Concat", inputs.map(\.name), [.int("axis", ONNXGraph.channelAxis(rank: inputs[0].shape.count))], name: node)
    }
}

/// One output of `torch.split(x, sizes, dim=1)`: the channel range `[start, start + size)` of its
/// input's last axis. Functional (0 MACs, not listed).
///
/// A graph node has a single output, so a split into N pieces is modelled as N
/// `SliceChannelsLayer` nodes that all take the same input, piece i with
/// start = size_0 + … + size_{i−1} (see ``split(sizes:)``). The pruning graph maps indices through
/// each slice (producer → slice: keep [start, start + size) and subtract start; slice → producer:
/// add start), and pruning shifts `start` and shrinks `size` (§4.3, §4.5).
public final class SliceChannelsLayer: Layer {
    public static let kind = "slice_channels"
    /// First input channel of the slice.
    public private(set) var start: Int
    /// Number of channels the slice takes.
    public private(set) var size: Int
    private var savedShape: [Int]?

    public init(start: Int, size: Int) {
        precondition(start >= 0 && size > 0, "slice_channels: start \(start), size \(size)")
        self.start = start
        self.size = size
    }

    /// The N slice layers of `torch.split(x, sizes, dim=1)`, in order.
    public static func split(sizes: [Int]) -> [SliceChannelsLayer] {
        var start = 0
        return sizes.map { s in defer { start += s }; return SliceChannelsLayer(start: start, size: s) }
    }

    public var isModule: Bool { false }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard var s = inputs.first, let c = s.last else { throw ShapeError("slice_channels needs an input") }
        guard start + size <= c else { throw ShapeError("slice_channels [\(start), \(start + size)) outside \(c) channels") }
        s[s.count - 1] = size
        return s
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let x = inputs[0]
        if context.training { savedShape = x.shape }
        let c = x.shape.last!
        return Split.forward(x, sizes: [start, size, c - start - size], axis: -1)[1]
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let s = savedShape else { fatalError("slice_channels backward without a training forward") }
        let c = s.last!
        return [Split.backward([nil, gradOutput, nil], inputShape: s, sizes: [start, size, c - start - size], axis: -1)]
    }

    public func clearSaved() { savedShape = nil }

    /// Updates the range after the input channels `removed` (positions in the input as it was)
    /// were pruned: start moves down by the removed channels below it, size shrinks by those
    /// inside the range.
    public func remove(inputChannels removed: [Int]) {
        let r = Set(removed)
        let below = r.filter { $0 < start }.count
        let inside = r.filter { $0 >= start && $0 < start + size }.count
        start -= below
        size -= inside
        savedShape = nil
    }

    /// ONNX `Slice` of channels `start ..< start + size`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let axis = ONNXGraph.channelAxis(rank: inputs[0].shape.count)
        let args = [inputs[0].name, graph.int64s(node + ".starts", [start]), graph.int64s(node + ".ends", [start + size]),
                    graph.int64s(node + ".axes", [axis])]
        return graph.add("Slice", args, name: node)
    }
}
