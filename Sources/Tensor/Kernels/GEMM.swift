import CDNNL
import COpenBLAS

/// Row-major single-precision matrix multiply: `C = alpha * op(A) * op(B) + beta * C`.
///
/// Two native backends: oneDNN's JIT GEMM (`dnnl_sgemm`, which uses the processor's widest
/// vector units and runs on the same OpenMP team as every other kernel) and OpenBLAS
/// (`cblas_sgemm`, capped at Haswell kernels where `OPENBLAS_CORETYPE=Haswell` is set). oneDNN is the
/// default: it measured faster here at every size (see docs/benchmarks.md). Set
/// `PRUNEBENCH_GEMM=openblas` to switch.
public enum GEMM {
    public enum Backend: String, Sendable, CaseIterable { case onednn, openblas }

    /// The backend in use, chosen once from `PRUNEBENCH_GEMM`.
    public static let backend: Backend = {
        if let raw = getenv("PRUNEBENCH_GEMM"), let b = Backend(rawValue: String(cString: raw)) { return b }
        return .onednn
    }()

    /// `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C`, row-major, with leading dimensions.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             backend: Backend = GEMM.backend) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        switch backend {
        case .onednn:
            let status = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k), alpha,
                                    a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
            DNNL.check(status, "sgemm \(m)x\(n)x\(k)")
        case .openblas:
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// Matrix product of two rank-2 tensors with optional transposition: `op(a) x op(b)`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let k2 = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == k2, "matmul inner dimensions differ: \(a.shape) x \(b.shape)")
        var c = Tensor(uninitializedShape: [m, n])
        sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: a.pointer, lda: a.shape[1],
              b: b.pointer, ldb: b.shape[1], c: c.mutablePointer(), ldc: n)
        return c
    }
}

#if canImport(Glibc)
import Glibc
#endif
