/// Element-wise maps and their gradients, parallel over the elements.
public enum Elementwise {
    /// `out[i] = f(x[i])`.
    @inlinable @inline(__always)
    public static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        var out = x.emptyLike()
        let src = x.pointer, dst = out.mutablePointer()
        Parallel.forEachChunk(x.count, grain: 16384) { _, r in
            for i in r { dst[i] = f(src[i]) }
        }
        return out
    }

    /// `out[i] = f(a[i], b[i])` for tensors of the same shape.
    @inlinable @inline(__always)
    public static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(a.shape == b.shape, "element-wise shapes differ: \(a.shape) and \(b.shape)")
        var out = a.emptyLike()
        let pa = a.pointer, pb = b.pointer, dst = out.mutablePointer()
        Parallel.forEachChunk(a.count, grain: 16384) { _, r in
            for i in r { dst[i] = f(pa[i], pb[i]) }
        }
        return out
    }

    /// `a + b` (same shape).
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { zip(a, b) { $0 + $1 } }

    /// `max(a + b, 0)` in one pass (a residual add followed by ReLU); its gradient is
    /// ``ReLU/backward(_:output:)`` for both inputs.
    public static func addReLU(_ a: Tensor, _ b: Tensor) -> Tensor { zip(a, b) { max($0 + $1, 0) } }

    /// `a * b` (same shape).
    public static func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { zip(a, b) { $0 * $1 } }

    /// `a += b` in place (same shape); used to accumulate gradients.
    public static func accumulate(_ a: inout Tensor, _ b: Tensor) {
        precondition(a.shape == b.shape, "cannot accumulate \(b.shape) into \(a.shape)")
        let dst = a.mutablePointer(), src = b.pointer
        Parallel.forEachChunk(a.count, grain: 16384) { _, r in
            for i in r { dst[i] += src[i] }
        }
    }

    /// `x * s`.
    public static func scale(_ x: Tensor, _ s: Float) -> Tensor { map(x) { $0 * s } }
}

/// Rectified linear unit.
public enum ReLU {
    public static func forward(_ x: Tensor) -> Tensor { Elementwise.map(x) { max($0, 0) } }
    /// Gradient from the forward output: passes where the output is positive.
    public static func backward(_ gradOutput: Tensor, output: Tensor) -> Tensor {
        Elementwise.zip(gradOutput, output) { g, y in y > 0 ? g : 0 }
    }
}

/// Reductions used by several kernels.
public enum Reduce {
    /// Column sums of a `[rows, cols]` matrix, deterministic (fixed chunking, ordered combine).
    public static func sumRows(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2)
        let rows = x.shape[0], cols = x.shape[1]
        let chunks = Parallel.chunkCount(rows, grain: max(1, 8192 / max(cols, 1)))
        var partial = Tensor(zeros: [chunks, cols])
        let pp = partial.mutablePointer(), src = x.pointer
        Parallel.forEachChunk(rows, grain: max(1, 8192 / max(cols, 1))) { c, r in
            let acc = pp + c * cols
            for i in r { let row = src + i * cols; for j in 0..<cols { acc[j] += row[j] } }
        }
        var out = Tensor(zeros: [cols])
        let op = out.mutablePointer()
        for c in 0..<chunks { for j in 0..<cols { op[j] += pp[c * cols + j] } }
        return out
    }

    /// Sum of all elements in double precision.
    public static func sum(_ x: Tensor) -> Double {
        x.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) } }
    }
}
