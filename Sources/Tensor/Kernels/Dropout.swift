/// Inverted dropout (PyTorch's `nn.Dropout(p)` in training mode).
///
/// Each element is zeroed with probability `p` and the survivors are scaled by `1 / (1 - p)`, so
/// the expected output equals the input; in evaluation mode dropout is the identity and callers
/// should not call this at all. The mask stores the per-element factor (`0` or `1 / (1 - p)`):
///
///     y = x * mask,   dx = dy * mask
///
/// The mask is a function of one draw from the caller's ``SeededGenerator`` and the element
/// count only: elements are split into fixed blocks, each with its own stream seeded from that
/// draw, so it is identical whatever the thread count and is generated in parallel.
public enum Dropout {
    /// Elements per independent random stream.
    static let blockSize = 4096

    /// Applies dropout with drop probability `p` (in `0...1`) to `x`.
    ///
    /// - Returns: the `output` and the `mask` (shaped like `x`) for
    ///   ``backward(_:mask:)``. With `p == 0` the mask is all ones; with `p == 1` all zeros.
    public static func forward(_ x: Tensor, p: Float, using generator: inout SeededGenerator)
        -> (output: Tensor, mask: Tensor) {
        let m = mask(shape: x.shape, p: p, using: &generator)
        return (Elementwise.multiply(x, m), m)
    }

    /// Gradient: `dx = dy * mask`.
    public static func backward(_ gradOutput: Tensor, mask: Tensor) -> Tensor {
        precondition(gradOutput.shape == mask.shape,
                     "dropout gradient \(gradOutput.shape) does not match mask \(mask.shape)")
        return Elementwise.multiply(gradOutput, mask)
    }

    /// A dropout mask: each element is `0` with probability `p`, else `1 / (1 - p)`.
    ///
    /// Consumes exactly one value from `generator`.
    public static func mask(shape: [Int], p: Float, using generator: inout SeededGenerator) -> Tensor {
        precondition(p >= 0 && p <= 1, "dropout probability must be in [0, 1], got \(p)")
        let seed = generator.next()
        var m = Tensor(uninitializedShape: shape)
        let count = m.count
        let keep: Float = p < 1 ? 1 / (1 - p) : 0
        let dst = m.mutablePointer()
        let blocks = (count + blockSize - 1) / blockSize
        Parallel.forEachChunk(blocks, grain: 4) { _, range in
            for block in range {
                var g = SeededGenerator(seed: seed, stream: UInt64(block))
                let start = block * blockSize, end = min(start + blockSize, count)
                for i in start..<end { dst[i] = g.nextUniform() < p ? 0 : keep }
            }
        }
        return m
    }
}
