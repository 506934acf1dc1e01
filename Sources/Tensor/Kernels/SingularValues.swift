import COpenBLAS

/// Singular values of dense double-precision matrices of one size, through LAPACK (OpenBLAS).
/// Holds its workspaces, so one solver serves many matrices; not shared between threads (make one
/// per thread).
///
/// Two queries: ``compute(rowMajor:)`` gives every singular value (`dgesdd`, divide and conquer,
/// values only); ``countAbove(rowMajor:relativeTolerance:)`` gives how many singular values exceed
/// `c · σ_max` without computing them: the matrix is reduced to bidiagonal form B (`dgebrd`), the
/// singular values of B are the positive eigenvalues of its Golub–Kahan matrix (the 2k × 2k
/// symmetric tridiagonal with zero diagonal and off-diagonal d₁, e₁, d₂, …, d_k), and Sturm
/// sequence counts (O(k) each) bisect for σ_max only until the count at `c · σ_max` is decided.
/// Sturm counts are backward stable: the result differs from an SVD's only for a singular value
/// within rounding (about 10⁻¹⁵ σ_max) of the tolerance.
public final class SingularValueSolver {
    public let rows: Int
    public let cols: Int
    private var a: [Double]
    private var work: [Double]
    private var iwork: [Int32]
    private var brdWork: [Double]
    private var d: [Double], e: [Double], tauq: [Double], taup: [Double]
    private var offDiagonal: [Double]
    /// The singular values of the last ``compute(rowMajor:)`` call, in decreasing order.
    public private(set) var values: [Double]

    public init(rows: Int, cols: Int) {
        precondition(rows > 0 && cols > 0, "SingularValueSolver: empty matrix \(rows)x\(cols)")
        self.rows = rows; self.cols = cols
        let k = min(rows, cols)
        a = [Double](repeating: 0, count: rows * cols)
        values = [Double](repeating: 0, count: k)
        iwork = [Int32](repeating: 0, count: 8 * k)
        d = [Double](repeating: 0, count: k); e = [Double](repeating: 0, count: max(1, k - 1))
        tauq = [Double](repeating: 0, count: k); taup = [Double](repeating: 0, count: k)
        offDiagonal = [Double](repeating: 0, count: max(1, 2 * k - 1))
        work = [0]; brdWork = [0]
        var query = 0.0
        _ = gesdd(work: &query, lwork: -1)
        work = [Double](repeating: 0, count: max(1, Int(query)))
        _ = gebrd(work: &query, lwork: -1)
        brdWork = [Double](repeating: 0, count: max(1, Int(query)))
    }

    /// Computes the singular values of the row-major `rows × cols` matrix at `matrix` (read, not
    /// changed) into ``values``. A row-major matrix is its transpose in column-major order, which
    /// has the same singular values.
    public func compute(rowMajor matrix: UnsafePointer<Double>) {
        load(matrix)
        let info = work.withUnsafeMutableBufferPointer { w in gesdd(work: w.baseAddress!, lwork: Int32(w.count)) }
        precondition(info == 0, "dgesdd failed (info \(info)) on a \(rows)x\(cols) matrix")
    }

    /// How many singular values of the row-major matrix at `matrix` exceed `c · σ_max`, `c` =
    /// `relativeTolerance` in (0, 1) (0 for a zero matrix).
    public func countAbove(rowMajor matrix: UnsafePointer<Double>, relativeTolerance c: Double) -> Int {
        precondition(c > 0 && c < 1, "relative tolerance \(c) must be in (0, 1)")
        load(matrix)
        let info = brdWork.withUnsafeMutableBufferPointer { w in gebrd(work: w.baseAddress!, lwork: Int32(w.count)) }
        precondition(info == 0, "dgebrd failed (info \(info)) on a \(rows)x\(cols) matrix")
        let k = min(rows, cols), order = 2 * k
        var bound = 0.0  // Gershgorin: every eigenvalue of the Golub–Kahan matrix is at most this
        for i in 0..<k {
            offDiagonal[2 * i] = d[i]
            if i + 1 < k { offDiagonal[2 * i + 1] = e[i] }
        }
        for i in 0..<order {
            let left = i > 0 ? abs(offDiagonal[i - 1]) : 0, right = i + 1 < order ? abs(offDiagonal[i]) : 0
            bound = max(bound, left + right)
        }
        guard bound > 0 else { return 0 }
        let pivmin = Double.leastNormalMagnitude * max(1, bound * bound)
        // σ_max lies in (lo, hi]; the answer is the count at c·σ_max, decided once equal at both ends.
        var lo = 0.0, hi = bound
        var atLo = above(0, order: order, pivmin: pivmin), atHi = above(c * hi, order: order, pivmin: pivmin)
        guard atLo > 0 else { return 0 }
        while atLo != atHi && hi - lo > 4 * Double.ulpOfOne * hi {
            let mid = 0.5 * (lo + hi)
            if above(mid, order: order, pivmin: pivmin) > 0 {
                lo = mid; atLo = above(c * lo, order: order, pivmin: pivmin)
            } else {
                hi = mid; atHi = above(c * hi, order: order, pivmin: pivmin)
            }
        }
        return atHi
    }

    private func load(_ matrix: UnsafePointer<Double>) {
        a.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: matrix, count: rows * cols) }
    }

    /// How many eigenvalues of the Golub–Kahan matrix exceed `x` ≥ 0: the order minus the number
    /// of negative pivots of T − xI (Sturm), with LAPACK's guard against a zero pivot.
    private func above(_ x: Double, order: Int, pivmin: Double) -> Int {
        offDiagonal.withUnsafeBufferPointer { b in
            var below = 0
            var q = -x
            if q < 0 { below += 1 }
            for i in 1..<order {
                if abs(q) < pivmin { q = -pivmin }
                q = -x - b[i - 1] * b[i - 1] / q
                if q < 0 { below += 1 }
            }
            return order - below
        }
    }

    private func gesdd(work: UnsafeMutablePointer<Double>, lwork: Int32) -> Int32 {
        var m = Int32(cols), n = Int32(rows), lda = Int32(cols), ldu: Int32 = 1, ldvt: Int32 = 1, lw = lwork, info: Int32 = 0
        var u = 0.0, vt = 0.0
        let jobz: CChar = 78  // "N"
        withUnsafePointer(to: jobz) { j in
            a.withUnsafeMutableBufferPointer { ap in
                values.withUnsafeMutableBufferPointer { s in
                    iwork.withUnsafeMutableBufferPointer { iw in
                        dgesdd_(j, &m, &n, ap.baseAddress!, &lda, s.baseAddress!, &u, &ldu, &vt, &ldvt, work, &lw,
                                iw.baseAddress!, &info, 1)
                    }
                }
            }
        }
        return info
    }

    private func gebrd(work: UnsafeMutablePointer<Double>, lwork: Int32) -> Int32 {
        var m = Int32(cols), n = Int32(rows), lda = Int32(cols), lw = lwork, info: Int32 = 0
        a.withUnsafeMutableBufferPointer { ap in
            dgebrd_(&m, &n, ap.baseAddress!, &lda, &d, &e, &tauq, &taup, work, &lw, &info)
        }
        return info
    }
}
