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
/// `torch.linalg.matrix_rank`), counted in double precision by LAPACK (OpenBLAS) bidiagonalization
/// and Sturm sequence counts (``SingularValueSolver/countAbove(rowMajor:relativeTolerance:)``).
/// Then mean reduction over the Conv out items and mean normalization; Linear items and consumers
/// do not contribute. Cost: one forward per batch plus one bidiagonalization per (image, conv
/// channel), spread over channels on the thread team (one solver per channel task).
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
                let solver = SingularValueSolver(rows: h, cols: w)
                var total = 0
                var m = [Double](repeating: 0, count: h * w)
                for s in 0..<n {
                    for i in 0..<(h * w) { m[i] = Double(p[(s * h * w + i) * c + ch]) }
                    total += m.withUnsafeBufferPointer { rank(solver, $0.baseAddress!) }
                }
                accp[ch] = Double(total)
            }
        }
        return out
    }

    /// The rank of a row-major `rows × cols` matrix: singular values above `max(rows, cols) · σ_max · 2⁻²³`.
    static func matrixRank(_ a: [Double], rows: Int, cols: Int) -> Int {
        let solver = SingularValueSolver(rows: rows, cols: cols)
        return a.withUnsafeBufferPointer { rank(solver, $0.baseAddress!) }
    }

    /// The rank of the row-major matrix at `matrix` with torch's `matrix_rank` tolerance
    /// `max(rows, cols) · σ_max · 2⁻²³`, counted without computing every singular value.
    static func rank(_ solver: SingularValueSolver, _ matrix: UnsafePointer<Double>) -> Int {
        solver.countAbove(rowMajor: matrix, relativeTolerance: Double(max(solver.rows, solver.cols)) * 0x1p-23)
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
