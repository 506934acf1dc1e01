/// The core of timm's multi-head self-attention (`timm.models.vision_transformer.Attention`),
/// between its `qkv` and `proj` linear layers, without dropout and without q/k normalisation.
///
/// The input is the packed output of the `qkv` linear layer, `qkv`: `[N, L, 3 * C]` with
/// `C = heads * headDim`. Its last axis is laid out as `[3, heads, headDim]` (q, then k, then v;
/// each head's `headDim` features contiguous), exactly what timm splits with
/// `qkv.reshape(N, L, 3, heads, headDim).permute(2, 0, 3, 1, 4)`. For every batch item `n` and
/// head `h`, with `q`, `k`, `v` the `[L, headDim]` slices:
///
///     P   = softmax(q k^T * scale)     (softmax over the key axis; scale = headDim^-0.5)
///     out = P v
///
/// and the result is `[N, L, C]`, heads concatenated along the last axis (timm's
/// `x.transpose(1, 2).reshape(N, L, C)`), ready for the `proj` linear layer.
///
/// The slices are read in place through leading dimensions (no split or permute copies); each
/// (batch, head) pair is two `GEMM.sgemm` calls and a row softmax, and the pairs run in parallel.
public enum Attention {
    /// Forward pass.
    ///
    /// - Parameters:
    ///   - qkv: `[N, L, 3 * heads * headDim]`, packed as described on ``Attention``.
    ///   - heads: number of heads; the last axis must be divisible by `3 * heads`.
    ///   - scale: logit scale; nil means `headDim^-0.5` (timm's default).
    /// - Returns: `output` `[N, L, heads * headDim]` and the attention `probabilities`
    ///   `[N, heads, L, L]` (row `i` of `probabilities[n, h]` is query `i`'s distribution over the
    ///   keys), which ``backward(_:qkv:probabilities:heads:scale:)`` needs.
    public static func forward(qkv: Tensor, heads: Int, scale: Float? = nil)
        -> (output: Tensor, probabilities: Tensor) {
        let (n, l, dh) = checkShapes(qkv, heads: heads)
        let c = heads * dh, c3 = 3 * c
        let alpha = scale ?? defaultScale(dh)
        var out = Tensor(uninitializedShape: [n, l, c])
        var probs = Tensor(uninitializedShape: [n, heads, l, l])
        let src = UnsafePointer(qkv.pointer), op = out.mutablePointer(), pp = probs.mutablePointer()
        Parallel.forEachChunk(n * heads, grain: 1) { _, tasks in
            for t in tasks {
                let b = t / heads, h = t % heads
                let q = src + b * l * c3 + h * dh, k = q + c, v = q + 2 * c
                let p = pp + t * l * l
                // S = scale * q k^T, then softmax over each row in place.
                GEMM.sgemm(transA: false, transB: true, m: l, n: l, k: dh, alpha: alpha,
                           a: q, lda: c3, b: k, ldb: c3, beta: 0, c: p, ldc: l)
                for i in 0..<l { Softmax.row(p + i * l, p + i * l, l) }
                // out[b, :, h*dh ..< (h+1)*dh] = P v
                GEMM.sgemm(transA: false, transB: false, m: l, n: dh, k: l,
                           a: p, lda: l, b: v, ldb: c3, beta: 0, c: op + b * l * c + h * dh, ldc: c)
            }
        }
        return (out, probs)
    }

    /// Gradient with respect to the packed `qkv` (same layout and shape as the input).
    ///
    /// Per (batch, head), with `dO` the head's `[L, headDim]` slice of `gradOutput`:
    ///
    ///     dv = P^T dO
    ///     dP = dO v^T
    ///     dS = P * (dP - rowsum(dP * P))        (softmax backward, row-wise)
    ///     dq = scale * dS k
    ///     dk = scale * dS^T q
    ///
    /// - Parameters:
    ///   - gradOutput: `[N, L, heads * headDim]`.
    ///   - qkv: the forward input.
    ///   - probabilities: the forward's saved `[N, heads, L, L]` probabilities.
    ///   - heads, scale: as given to the forward.
    public static func backward(_ gradOutput: Tensor, qkv: Tensor, probabilities: Tensor, heads: Int,
                                scale: Float? = nil) -> Tensor {
        let (n, l, dh) = checkShapes(qkv, heads: heads)
        let c = heads * dh, c3 = 3 * c
        precondition(gradOutput.shape == [n, l, c],
                     "attention gradient has shape \(gradOutput.shape), expected \([n, l, c])")
        precondition(probabilities.shape == [n, heads, l, l],
                     "attention probabilities have shape \(probabilities.shape), expected \([n, heads, l, l])")
        let alpha = scale ?? defaultScale(dh)
        let tasks = n * heads
        let chunks = Parallel.chunkCount(tasks, grain: 1)
        // One [L, L] scratch matrix (dP, then dS in place) per chunk.
        var scratch = Tensor(uninitializedShape: [chunks, l * l])
        var dqkv = qkv.emptyLike()
        let src = UnsafePointer(qkv.pointer), gp = UnsafePointer(gradOutput.pointer)
        let pp = UnsafePointer(probabilities.pointer)
        let sp = scratch.mutablePointer(), dp = dqkv.mutablePointer()
        Parallel.forEachChunk(tasks, grain: 1) { chunk, range in
            let ds = sp + chunk * l * l
            for t in range {
                let b = t / heads, h = t % heads
                let offset = b * l * c3 + h * dh
                let q = src + offset, k = q + c, v = q + 2 * c
                let dq = dp + offset, dk = dq + c, dv = dq + 2 * c
                let p = pp + t * l * l
                let dO = gp + b * l * c + h * dh
                // dv = P^T dO
                GEMM.sgemm(transA: true, transB: false, m: l, n: dh, k: l,
                           a: p, lda: l, b: dO, ldb: c, beta: 0, c: dv, ldc: c3)
                // dP = dO v^T
                GEMM.sgemm(transA: false, transB: true, m: l, n: l, k: dh,
                           a: dO, lda: c, b: v, ldb: c3, beta: 0, c: ds, ldc: l)
                // dS = softmax backward of dP, in place.
                for i in 0..<l { Softmax.backwardRow(ds + i * l, p + i * l, ds + i * l, l) }
                // dq = scale * dS k ; dk = scale * dS^T q
                GEMM.sgemm(transA: false, transB: false, m: l, n: dh, k: l, alpha: alpha,
                           a: ds, lda: l, b: k, ldb: c3, beta: 0, c: dq, ldc: c3)
                GEMM.sgemm(transA: true, transB: false, m: l, n: dh, k: l, alpha: alpha,
                           a: ds, lda: l, b: q, ldb: c3, beta: 0, c: dk, ldc: c3)
            }
        }
        return dqkv
    }

    /// `headDim^-0.5`.
    public static func defaultScale(_ headDim: Int) -> Float { 1 / Float(headDim).squareRoot() }

    /// Validates `qkv` and returns `(N, L, headDim)`.
    private static func checkShapes(_ qkv: Tensor, heads: Int) -> (Int, Int, Int) {
        precondition(heads > 0, "attention needs at least one head, got \(heads)")
        precondition(qkv.rank == 3, "attention expects packed qkv [N, L, 3 * heads * headDim], got \(qkv.shape)")
        let last = qkv.shape[2]
        precondition(last > 0 && last % (3 * heads) == 0,
                     "attention qkv last axis \(last) is not divisible by 3 * heads = \(3 * heads)")
        return (qkv.shape[0], qkv.shape[1], last / (3 * heads))
    }
}
