/// Conversions between PyTorch's NCHW batches and the engine's channels-last feature maps.
public enum ChannelsLast {
    /// `[N, C, H, W]` to `[N, H, W, C]`.
    public static func fromNCHW(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "expected [N, C, H, W], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3]
        var y = Tensor(uninitializedShape: [n, x.shape[2], x.shape[3], c])
        let src = x.pointer, dst = y.mutablePointer()
        Parallel.forEach(n, grain: 1) { b in
            for ch in 0..<c { for p in 0..<hw { dst[(b * hw + p) * c + ch] = src[(b * c + ch) * hw + p] } }
        }
        return y
    }

    /// `[N, H, W, C]` to `[N, C, H, W]`.
    public static func toNCHW(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "expected [N, H, W, C], got \(x.shape)")
        let n = x.shape[0], c = x.shape[3], hw = x.shape[1] * x.shape[2]
        var y = Tensor(uninitializedShape: [n, c, x.shape[1], x.shape[2]])
        let src = x.pointer, dst = y.mutablePointer()
        Parallel.forEach(n, grain: 1) { b in
            for ch in 0..<c { for p in 0..<hw { dst[(b * c + ch) * hw + p] = src[(b * hw + p) * c + ch] } }
        }
        return y
    }
}
