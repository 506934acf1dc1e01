import Experiments
import NN
import Tensor

/// `cp`: LASSO channel selection (He et al., "Channel Pruning for Accelerating Very Deep Neural
/// Networks", ICCV 2017) — the project's group adaptation (pruningbench.md §4.1 item 10).
///
/// With the consumers' sampled contributions of ``ConsumerSamples`` stacked into Z (M × C_g,
/// each consumer's rows divided by its RMS group output) and y = Z·1 (the group part of the
/// sampled outputs), the LASSO `min_β (1/2M)‖y − Zβ‖² + λ‖β‖₁` is solved along its whole path by
/// LARS with the LASSO modification (Efron et al. 2004), columns not standardized, starting at
/// `λ_max = max_k |Z_kᵀ y| / M`. Score `S(k) = λ_k^enter / λ_max`, the largest λ at which β_k
/// is non-zero (its first entry); a channel that never enters scores 0. Then mean
/// normalization. No least-squares refit of the consumer weights.
///
/// The path runs on the Gram matrix G = ZᵀZ (Zᵀy = G·1; G from a float32 product, the path in
/// double precision); equiangular directions solve G_AA w = s_A with an incrementally grown
/// Cholesky factor (rebuilt when a variable drops). Cost O(C³) per group on top of forming G.
public final class CPImportance: ImportanceCriterion {
    public let key = Criterion.cp
    public let normalizer: ScoreNormalizer
    public let seed: UInt64
    private var sampling: ConsumerSampling

    public init(seed: UInt64 = 0, normalizer: ScoreNormalizer = .mean) {
        self.seed = seed; self.normalizer = normalizer
        sampling = ConsumerSampling(seed: seed, stream: 0xC9)
    }


    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) { sampling.prepare(graph.model, batches) }

    public func releaseCalibration() { sampling.release() }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        guard let sys = sampling.samples.gram(group, graph) else { return nil }
        let s = Self.entryScores(gram: sys.gram, rows: sys.rows, channels: sys.channels)
        return Scoring.normalizeFinite(s, normalizer)
    }

    /// λ_k^enter / λ_max along the LARS-LASSO path of y = Z·1 on Z, from G = ZᵀZ.
    ///
    /// The path stops when the residual correlation falls below 10⁻⁷ of its start (G is float32),
    /// or when min(M, C) variables are active. A variable whose column is (numerically) in the span
    /// of the active ones (squared residual norm ≤ 10⁻⁶ of its own) is not admitted and scores 0
    /// unless it entered earlier.
    static func entryScores(gram g: [Double], rows m: Int, channels c: Int) -> [Float] {
        let mm = Double(m)
        var corr = (0..<c).map { j in (0..<c).reduce(0.0) { $0 + g[j * c + $1] } }   // Zᵀ(y − Zβ)
        var cmax = corr.map(abs).max() ?? 0
        guard cmax > 0, cmax.isFinite else { return [Float](repeating: 0, count: c) }
        let lambdaMax = cmax / mm, stop = cmax * 1e-7
        var enter = [Double](repeating: 0, count: c)
        var active: [Int] = [], sign: [Double] = [], beta = [Double](repeating: 0, count: c)
        var isActive = [Bool](repeating: false, count: c), excluded = [Bool](repeating: false, count: c)
        var chol = Cholesky()
        var justDropped = -1

        func add(_ j: Int) {
            guard chol.append(column: active.map { g[$0 * c + j] }, diagonal: g[j * c + j]) else { excluded[j] = true; return }
            active.append(j); sign.append(corr[j] >= 0 ? 1 : -1); isActive[j] = true
            if enter[j] == 0 { enter[j] = cmax / mm }
        }
        add((0..<c).max { (abs(corr[$0]), -$0) < (abs(corr[$1]), -$1) }!)

        for _ in 0..<(4 * c + 10) {
            if active.isEmpty || active.count >= min(m, c) { break }
            let w = chol.solve(sign)
            let sw = zip(sign, w).reduce(0.0) { $0 + $1.0 * $1.1 }
            guard sw > 0, sw.isFinite else { break }
            let aa = 1 / sw.squareRoot()
            let d = w.map { $0 * aa }
            var a = [Double](repeating: 0, count: c)
            for j in 0..<c {
                var s = 0.0
                for (l, k) in active.enumerated() { s += g[j * c + k] * d[l] }
                a[j] = s
            }
            var gamma = cmax / aa, entering = -1, dropping = -1
            let tiny = 1e-14 * gamma
            for j in 0..<c where !isActive[j] && !excluded[j] && j != justDropped {
                for candidate in [(cmax - corr[j]) / (aa - a[j]), (cmax + corr[j]) / (aa + a[j])]
                where candidate.isFinite && candidate > tiny && candidate < gamma {
                    gamma = candidate; entering = j
                }
            }
            for (l, k) in active.enumerated() where d[l] != 0 {
                let t = -beta[k] / d[l]
                if t > tiny && t < gamma { gamma = t; dropping = l; entering = -1 }
            }
            for (l, k) in active.enumerated() { beta[k] += gamma * d[l] }
            for j in 0..<c { corr[j] -= gamma * a[j] }
            cmax -= gamma * aa
            justDropped = -1
            if dropping >= 0 {
                let k = active[dropping]
                beta[k] = 0; isActive[k] = false; justDropped = k
                active.remove(at: dropping); sign.remove(at: dropping)
                chol = Cholesky()
                for (l, j) in active.enumerated() {
                    _ = chol.append(column: active[..<l].map { g[$0 * c + j] }, diagonal: g[j * c + j])
                }
            } else if entering >= 0 {
                add(entering)
            } else { break }
            if cmax <= stop { break }
        }
        return enter.map { Float($0 / lambdaMax) }
    }

    /// A lower-triangular Cholesky factor of the active Gram block, grown one column at a time.
    struct Cholesky {
        private var rows: [[Double]] = []

        /// Appends a variable with Gram entries `column` (against the current ones) and
        /// `diagonal`; false (unchanged) when it is numerically in their span.
        mutating func append(column b: [Double], diagonal: Double) -> Bool {
            var l = b
            for i in 0..<l.count {
                var v = l[i]
                for k in 0..<i { v -= rows[i][k] * l[k] }
                l[i] = v / rows[i][i]
            }
            let d2 = diagonal - l.reduce(0) { $0 + $1 * $1 }
            guard diagonal > 0, d2 > 1e-6 * diagonal else { return false }
            rows.append(l + [d2.squareRoot()])
            return true
        }

        /// Solves L·Lᵀ·w = s.
        func solve(_ s: [Double]) -> [Double] {
            let n = rows.count
            var y = s
            for i in 0..<n {
                for k in 0..<i { y[i] -= rows[i][k] * y[k] }
                y[i] /= rows[i][i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                for k in (i + 1)..<n { y[i] -= rows[k][i] * y[k] }
                y[i] /= rows[i][i]
            }
            return y
        }
    }
}
