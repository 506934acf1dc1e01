import Experiments
import NN
import Tensor

/// `hrank`: average feature-map rank (Lin et al., HRank, CVPR 2020) — the project's group
/// adaptation (pruningbench.md §4.1 item 12).
///
/// For every Conv **out** item of the group, the conv's raw output (before any normalization)
/// is recorded on the calibration images (evaluation mode). Local score of channel i:
/// `s(i) = (1/N) Σ_n rank(F_{n,i})`, F_{n,i} the H×W map of channel i for image n, its rank the
/// number of singular values above `max(H, W) · σ_max · 2⁻²³` (float32 epsilon, as
/// `torch.linalg.matrix_rank`). Singular values come from a one-sided Jacobi SVD in double
/// precision. Then mean reduction over the Conv out items and mean normalization; Linear items
/// and consumers do not contribute. Cost: one forward per batch plus one small SVD per
/// (image, conv channel), O(H·W·min(H, W)) each, spread over threads.
public final class HRankImportance: ImportanceCriterion {
    public let key = Criterion.hrank
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer
    /// Mean rank per output channel, per conv node, from the last prepare.
    private(set) var ranks: [Int: [Float]] = [:]

    public init(reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean) {
        self.reduction = reduction; self.normalizer = normalizer
    }


    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) {
        let model = graph.model
        var sums: [Int: [Double]] = [:]
        var images = 0
        let ranked = graph.adapters.map(\.ranksFeatureMaps)
        CalibrationRun.unfused(model) {
            for batch in batches {
                images += batch.labels.count
                _ = CalibrationRun.forward(model, batch.images, saving: false) { node, _, y in
                    guard ranked[node] else { return }
                    let r = Self.channelRanks(y)
                    if sums[node] == nil { sums[node] = r } else {
                        for k in r.indices { sums[node]![k] += r[k] }
                    }
                }
            }
        }
        ranks = sums.mapValues { s in s.map { Float($0 / Double(max(1, images))) } }
    }

    public func releaseCalibration() { ranks = [:] }

    /// Σ_n rank(F_{n,c}) per channel c of a channels-last output `[N, H, W, C]`.
    static func channelRanks(_ y: Tensor) -> [Double] {
        let n = y.shape[0], h = y.shape[1], w = y.shape[2], c = y.shape[3]
        var out = [Double](repeating: 0, count: c)
        let p = y.pointer
        out.withUnsafeMutableBufferPointer { acc in
            let accp = acc.baseAddress!
            Parallel.forEach(c) { ch in
                var total = 0
                var m = [Double](repeating: 0, count: h * w)
                for s in 0..<n {
                    for i in 0..<(h * w) { m[i] = Double(p[(s * h * w + i) * c + ch]) }
                    total += matrixRank(m, rows: h, cols: w)
                }
                accp[ch] = Double(total)
            }
        }
        return out
    }

    /// The rank of a row-major `rows × cols` matrix: singular values (one-sided Jacobi) above
    /// `max(rows, cols) · σ_max · 2⁻²³`.
    static func matrixRank(_ a: [Double], rows: Int, cols: Int) -> Int {
        let sv = singularValues(a, rows: rows, cols: cols)
        guard let top = sv.max(), top > 0 else { return 0 }
        let tol = Double(max(rows, cols)) * top * 0x1p-23
        return sv.filter { $0 > tol }.count
    }

    /// Singular values of a row-major matrix by one-sided Jacobi (Hestenes) rotations on the
    /// columns of the taller orientation, in double precision.
    static func singularValues(_ a: [Double], rows: Int, cols: Int) -> [Double] {
        // Columns as contiguous vectors of length m, n ≤ m.
        let transpose = cols > rows
        let m = transpose ? cols : rows, n = transpose ? rows : cols
        var u = [Double](repeating: 0, count: m * n)
        for r in 0..<rows {
            for c in 0..<cols {
                if transpose { u[r * m + c] = a[r * cols + c] } else { u[c * m + r] = a[r * cols + c] }
            }
        }
        u.withUnsafeMutableBufferPointer { u in
            for _ in 0..<60 {
                var rotated = false
                for pIdx in 0..<n {
                    for q in (pIdx + 1)..<max(pIdx + 1, n) {
                        var alpha = 0.0, beta = 0.0, gamma = 0.0
                        for k in 0..<m {
                            let x = u[pIdx * m + k], y = u[q * m + k]
                            alpha += x * x; beta += y * y; gamma += x * y
                        }
                        if gamma == 0 || abs(gamma) <= 1e-12 * (alpha * beta).squareRoot() { continue }
                        rotated = true
                        let zeta = (beta - alpha) / (2 * gamma)
                        let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                        let cs = 1 / (1 + t * t).squareRoot(), sn = cs * t
                        for k in 0..<m {
                            let x = u[pIdx * m + k], y = u[q * m + k]
                            u[pIdx * m + k] = cs * x - sn * y
                            u[q * m + k] = sn * x + cs * y
                        }
                    }
                }
                if !rotated { break }
            }
        }
        return (0..<n).map { j in
            var s = 0.0
            for k in 0..<m { s += u[j * m + k] * u[j * m + k] }
            return s.squareRoot()
        }
    }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        var cs: [Contribution] = []
        // Out items of the ranked layers (a depthwise conv's single side is its out side).
        for item in group.items where item.target.node >= 0 && item.target.side == .out {
            guard let r = ranks[item.target.node] else { continue }
            cs.append(Contribution(scores: item.indices.map { r[$0] }, roots: item.rootIndices))
        }
        return Scoring.reduce(cs, reduction).map { Scoring.normalizeFinite($0, normalizer) }
    }
}
