#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax over the last axis (PyTorch's `x.softmax(dim=-1)`), numerically stable.
///
/// For every row `x` of the last axis: `y_j = exp(x_j - max(x)) / sum_k exp(x_k - max(x))`.
/// Rows are processed in parallel; each row's sum is accumulated in one thread in a fixed order.
public enum Softmax {
    /// Softmax of `x` (`[..., D]`) over its last axis.
    public static func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1, "softmax needs at least one axis, got a scalar")
        let d = x.shape[x.rank - 1]
        let rows = d == 0 ? 0 : x.count / d
        var out = x.emptyLike()
        let src = UnsafePointer(x.pointer), dst = out.mutablePointer()
        Parallel.forEachChunk(rows, grain: rowGrain(d)) { _, r in
            for i in r { row(src + i * d, dst + i * d, d) }
        }
        return out
    }

    /// Gradient from the forward output: `dx_j = y_j * (dy_j - sum_k dy_k y_k)` per row.
    public static func backward(_ gradOutput: Tensor, output: Tensor) -> Tensor {
        precondition(gradOutput.shape == output.shape,
                     "softmax gradient \(gradOutput.shape) does not match output \(output.shape)")
        precondition(output.rank >= 1, "softmax needs at least one axis, got a scalar")
        let d = output.shape[output.rank - 1]
        let rows = d == 0 ? 0 : output.count / d
        var dx = output.emptyLike()
        let gp = UnsafePointer(gradOutput.pointer), yp = UnsafePointer(output.pointer), dst = dx.mutablePointer()
        Parallel.forEachChunk(rows, grain: rowGrain(d)) { _, r in
            for i in r { backwardRow(gp + i * d, yp + i * d, dst + i * d, d) }
        }
        return dx
    }

    /// Softmax of one row of `n` elements from `src` into `dst` (which may equal `src`).
    @inline(__always)
    static func row(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        guard n > 0 else { return }
        var m = src[0]
        for j in 1..<n where src[j] > m { m = src[j] }
        var s: Float = 0
        for j in 0..<n {
            let e = expf(src[j] - m)
            dst[j] = e
            s += e
        }
        let inv = 1 / s
        for j in 0..<n { dst[j] *= inv }
    }

    /// `dst_j = y_j * (g_j - sum_k g_k y_k)` for one row (`dst` may equal `g`).
    @inline(__always)
    static func backwardRow(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                            _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var dot: Float = 0
        for j in 0..<n { dot += g[j] * y[j] }
        for j in 0..<n { dst[j] = y[j] * (g[j] - dot) }
    }

    /// Rows per chunk so that a chunk holds at least ~8K elements (softmax rows are expensive).
    private static func rowGrain(_ d: Int) -> Int { max(1, 8192 / max(d, 1)) }
}
