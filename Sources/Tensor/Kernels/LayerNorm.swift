/// Layer normalisation over the last axis, with PyTorch's semantics (`torch.nn.LayerNorm(D)`).
///
/// For every row `x` of length `D` (the last axis; all leading axes are rows):
///
///     mean = sum_j x_j / D
///     var  = sum_j (x_j - mean)^2 / D          (biased, as PyTorch)
///     rstd = 1 / sqrt(var + eps)
///     y_j  = (x_j - mean) * rstd * weight_j + bias_j
///
/// Row statistics are accumulated in double precision. Rows are processed in parallel; the
/// parameter gradients are reduced per fixed chunk and combined in chunk order, so results do
/// not depend on thread timing.
public enum LayerNorm {
    /// Normalises `x` (`[..., D]`) over its last axis.
    ///
    /// - Parameters:
    ///   - weight: `[D]` scale (gamma).
    ///   - bias: `[D]` shift (beta).
    ///   - eps: added to the variance (PyTorch's default is 1e-5; timm's ViT uses 1e-6).
    /// - Returns: `output` shaped like `x`, and the per-row `mean` and `rstd` (shape
    ///   `x.shape.dropLast()`) that ``backward(_:input:weight:mean:rstd:)`` needs.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float = 1e-5)
        -> (output: Tensor, mean: Tensor, rstd: Tensor) {
        let d = checkShapes(x, weight: weight, bias: bias)
        let rows = x.count / max(d, 1)
        let statShape = Array(x.shape.dropLast())
        var out = x.emptyLike()
        var mean = Tensor(uninitializedShape: statShape)
        var rstd = Tensor(uninitializedShape: statShape)
        let xp = x.pointer, wp = weight.pointer, bp = bias.pointer
        let op = out.mutablePointer(), mp = mean.mutablePointer(), rp = rstd.mutablePointer()
        let invD = 1.0 / Double(d)
        Parallel.forEachChunk(rows, grain: rowGrain(d)) { _, range in
            for r in range {
                let row = xp + r * d, dst = op + r * d
                var s = 0.0
                for j in 0..<d { s += Double(row[j]) }
                let m = s * invD
                var v = 0.0
                for j in 0..<d { let t = Double(row[j]) - m; v += t * t }
                let inv = 1.0 / (v * invD + Double(eps)).squareRoot()
                let mf = Float(m), rf = Float(inv)
                for j in 0..<d { dst[j] = (row[j] - mf) * rf * wp[j] + bp[j] }
                mp[r] = mf
                rp[r] = rf
            }
        }
        return (out, mean, rstd)
    }

    /// Gradients of ``forward(_:weight:bias:eps:)``.
    ///
    /// With `xhat = (x - mean) * rstd` and `g = dy * weight` per row:
    ///
    ///     dx      = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat))
    ///     dweight = sum over rows of dy * xhat
    ///     dbias   = sum over rows of dy
    ///
    /// - Parameters:
    ///   - gradOutput: `[..., D]`, the gradient of the output.
    ///   - input: the forward input `x`.
    ///   - weight: the forward weight `[D]`.
    ///   - mean, rstd: the statistics the forward returned.
    public static func backward(_ gradOutput: Tensor, input: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor)
        -> (input: Tensor, weight: Tensor, bias: Tensor) {
        precondition(gradOutput.shape == input.shape,
                     "layer norm gradient \(gradOutput.shape) does not match input \(input.shape)")
        let d = checkShapes(input, weight: weight, bias: weight)
        let rows = input.count / max(d, 1)
        precondition(mean.count == rows && rstd.count == rows,
                     "layer norm statistics have \(mean.count)/\(rstd.count) elements, expected \(rows)")
        let grain = rowGrain(d)
        let chunks = Parallel.chunkCount(rows, grain: grain)
        // Per-chunk partial sums: [chunk][dweight (D) | dbias (D)].
        var partial = Tensor(zeros: [chunks, 2 * d])
        var dx = input.emptyLike()
        let xp = input.pointer, gp = gradOutput.pointer, wp = weight.pointer
        let mp = mean.pointer, rp = rstd.pointer
        let dxp = dx.mutablePointer(), pp = partial.mutablePointer()
        let invD = 1.0 / Double(d)
        Parallel.forEachChunk(rows, grain: grain) { c, range in
            let dw = pp + c * 2 * d, db = dw + d
            for r in range {
                let x = xp + r * d, dy = gp + r * d, out = dxp + r * d
                let m = mp[r], rs = rp[r]
                var sumG = 0.0, sumGX = 0.0
                for j in 0..<d {
                    let xhat = (x[j] - m) * rs
                    let g = dy[j] * wp[j]
                    sumG += Double(g)
                    sumGX += Double(g * xhat)
                    dw[j] += dy[j] * xhat
                    db[j] += dy[j]
                }
                let a = Float(sumG * invD), b = Float(sumGX * invD)
                for j in 0..<d {
                    let xhat = (x[j] - m) * rs
                    out[j] = rs * (dy[j] * wp[j] - a - xhat * b)
                }
            }
        }
        var dweight = weight.emptyLike(), dbias = weight.emptyLike()
        let dwp = dweight.mutablePointer(), dbp = dbias.mutablePointer()
        for j in 0..<d { dwp[j] = 0; dbp[j] = 0 }
        for c in 0..<chunks {
            let dw = pp + c * 2 * d, db = dw + d
            for j in 0..<d { dwp[j] += dw[j]; dbp[j] += db[j] }
        }
        return (dx, dweight, dbias)
    }

    /// Validates the shapes and returns `D`.
    private static func checkShapes(_ x: Tensor, weight: Tensor, bias: Tensor) -> Int {
        precondition(x.rank >= 1, "layer norm needs at least one axis, got a scalar")
        let d = x.shape[x.rank - 1]
        precondition(weight.shape == [d], "layer norm weight has shape \(weight.shape), expected [\(d)] for input \(x.shape)")
        precondition(bias.shape == [d], "layer norm bias has shape \(bias.shape), expected [\(d)] for input \(x.shape)")
        return d
    }

    /// Rows per chunk so that a chunk holds at least ~16K elements.
    private static func rowGrain(_ d: Int) -> Int { max(1, 16384 / max(d, 1)) }
}
