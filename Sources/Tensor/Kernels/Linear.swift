/// Fully connected layer on the last axis: `y = x W^T + b`, with PyTorch's weight layout `[out, in]`.
public enum Linear {
    /// `x`: `[..., in]`, `weight`: `[out, in]`, `bias`: `[out]` or nil. Returns `[..., out]`.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(x.shape.last == inF, "linear expects last axis \(inF), got \(x.shape)")
        let rows = x.count / inF
        var y = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
        let yp = y.mutablePointer()
        if let bias {
            precondition(bias.count == outF, "linear bias has \(bias.count) elements, expected \(outF)")
            for r in 0..<rows { (yp + r * outF).update(from: bias.pointer, count: outF) }
        }
        GEMM.sgemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: x.pointer, lda: inF,
                   b: weight.pointer, ldb: inF, beta: bias == nil ? 0 : 1, c: yp, ldc: outF)
        return y
    }

    /// Gradient with respect to the input: `dx = dy W`.
    public static func backwardInput(_ gradOutput: Tensor, weight: Tensor) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        let rows = gradOutput.count / outF
        var dx = Tensor(uninitializedShape: Array(gradOutput.shape.dropLast()) + [inF])
        GEMM.sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: gradOutput.pointer, lda: outF,
                   b: weight.pointer, ldb: inF, c: dx.mutablePointer(), ldc: inF)
        return dx
    }

    /// Gradients with respect to the weight (`dW = dy^T x`) and the bias (`db = sum over rows of dy`).
    public static func backwardParameters(_ gradOutput: Tensor, input: Tensor, hasBias: Bool) -> (weight: Tensor, bias: Tensor?) {
        let inF = input.shape.last!, outF = gradOutput.shape.last!
        let rows = input.count / inF
        var dw = Tensor(uninitializedShape: [outF, inF])
        GEMM.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: gradOutput.pointer, lda: outF,
                   b: input.pointer, ldb: inF, c: dw.mutablePointer(), ldc: inF)
        guard hasBias else { return (dw, nil) }
        return (dw, Reduce.sumRows(gradOutput.reshaped([rows, outF])))
    }
}
