/// Nearest-neighbour upsampling by integer factors on channels-last feature maps
/// (PyTorch's `nn.Upsample(scale_factor=s, mode='nearest')` / `F.interpolate(..., mode='nearest')`
/// for integer `s`).
///
/// Input `[N, H, W, C]`, output `[N, H * sh, W * sw, C]`:
///
///     y[n, i, j, c] = x[n, i / sh, j / sw, c]          (integer division)
///     dx[n, i, j, c] = sum_{a < sh, b < sw} dy[n, i * sh + a, j * sw + b, c]
///
/// Both passes run in parallel over input rows `(n, i)`; each input row's gradient is summed by one
/// thread in a fixed order.
public enum UpsampleNearest {
    /// Upsamples `x` (`[N, H, W, C]`) by `scale` along both spatial axes.
    public static func forward(_ x: Tensor, scale: Int) -> Tensor {
        forward(x, scaleH: scale, scaleW: scale)
    }

    /// Upsamples `x` (`[N, H, W, C]`) by `scaleH` along H and `scaleW` along W.
    public static func forward(_ x: Tensor, scaleH: Int, scaleW: Int) -> Tensor {
        precondition(x.rank == 4, "nearest upsample expects [N, H, W, C], got \(x.shape)")
        precondition(scaleH >= 1 && scaleW >= 1, "nearest upsample factors must be >= 1, got \(scaleH)x\(scaleW)")
        let n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        let wo = w * scaleW
        var out = Tensor(uninitializedShape: [n, h * scaleH, wo, c])
        let src = UnsafePointer(x.pointer), dst = out.mutablePointer()
        let outRow = wo * c
        Parallel.forEachChunk(n * h, grain: max(1, 16384 / max(outRow * scaleH, 1))) { _, rows in
            for r in rows {
                let s = src + r * w * c
                let first = dst + r * scaleH * outRow
                for j in 0..<w {
                    for b in 0..<scaleW { (first + (j * scaleW + b) * c).update(from: s + j * c, count: c) }
                }
                for a in 1..<scaleH { (first + a * outRow).update(from: first, count: outRow) }
            }
        }
        return out
    }

    /// Gradient of ``forward(_:scale:)``: sums each `scale x scale` block.
    public static func backward(_ gradOutput: Tensor, scale: Int) -> Tensor {
        backward(gradOutput, scaleH: scale, scaleW: scale)
    }

    /// Gradient of ``forward(_:scaleH:scaleW:)``: sums each `scaleH x scaleW` block.
    public static func backward(_ gradOutput: Tensor, scaleH: Int, scaleW: Int) -> Tensor {
        precondition(gradOutput.rank == 4, "nearest upsample gradient expects [N, H, W, C], got \(gradOutput.shape)")
        precondition(scaleH >= 1 && scaleW >= 1, "nearest upsample factors must be >= 1, got \(scaleH)x\(scaleW)")
        let n = gradOutput.shape[0], ho = gradOutput.shape[1], wo = gradOutput.shape[2], c = gradOutput.shape[3]
        precondition(ho % scaleH == 0 && wo % scaleW == 0,
                     "nearest upsample gradient \(gradOutput.shape) is not a multiple of \(scaleH)x\(scaleW)")
        let h = ho / scaleH, w = wo / scaleW
        var dx = Tensor(uninitializedShape: [n, h, w, c])
        let gp = UnsafePointer(gradOutput.pointer), dst = dx.mutablePointer()
        let outRow = wo * c
        Parallel.forEachChunk(n * h, grain: max(1, 16384 / max(outRow * scaleH, 1))) { _, rows in
            for r in rows {
                let d = dst + r * w * c
                d.update(repeating: 0, count: w * c)
                for a in 0..<scaleH {
                    let g = gp + (r * scaleH + a) * outRow
                    for j in 0..<w {
                        let dj = d + j * c
                        for b in 0..<scaleW {
                            let gj = g + (j * scaleW + b) * c
                            for k in 0..<c { dj[k] += gj[k] }
                        }
                    }
                }
            }
        }
        return dx
    }
}
