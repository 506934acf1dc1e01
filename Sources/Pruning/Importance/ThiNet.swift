import Experiments
import NN
import Tensor

/// `thinet`: greedy reconstruction channel selection (Luo et al., ThiNet, ICCV 2017) — the
/// project's group adaptation (pruningbench.md §4.1 item 11).
///
/// With the consumers' sampled contributions z_{m,k} of ``ConsumerSamples`` (each consumer's
/// rows divided by its RMS output, as for CP), the error of removing the channel set T is
/// `E(T) = (1/M) Σ_m (Σ_{k∈T} z_{m,k})²`. Starting from T = ∅, the channel k ∉ T minimizing
/// `E(T ∪ {k}) = E(T) + (2·sᵀz_k + ‖z_k‖²)/M` joins T (s the running sum of chosen columns;
/// ties: lowest index); computed on the Gram matrix, `sᵀz_k = Σ_{j∈T} G_jk`. A channel joining
/// at greedy step j scores the running maximum of E over steps 1…j (non-decreasing along the
/// greedy order). Then mean normalization. No least-squares refit.
public final class ThiNetImportance: ImportanceCriterion {
    public let key = Criterion.thinet
    public let normalizer: ScoreNormalizer
    public let seed: UInt64
    private var sampling: ConsumerSampling

    public init(seed: UInt64 = 0, normalizer: ScoreNormalizer = .mean) {
        self.seed = seed; self.normalizer = normalizer
        sampling = ConsumerSampling(seed: seed, stream: 0x7419)
    }


    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) { sampling.prepare(graph.model, batches) }

    public func releaseCalibration() { sampling.release() }

    /// Greedy-removal scores from a Gram matrix of `rows` samples.
    static func greedyScores(gram g: [Double], rows m: Int, channels c: Int) -> [Float] {
        var chosen = [Bool](repeating: false, count: c)
        var cross = [Double](repeating: 0, count: c)   // sᵀz_k
        var error = 0.0, runningMax = 0.0
        var scores = [Float](repeating: 0, count: c)
        for _ in 0..<c {
            var best = -1, bestValue = Double.infinity
            for k in 0..<c where !chosen[k] {
                let e = error + (2 * cross[k] + g[k * c + k]) / Double(m)
                if e < bestValue { best = k; bestValue = e }
            }
            chosen[best] = true
            error = bestValue
            runningMax = max(runningMax, error)
            scores[best] = Float(runningMax)
            for k in 0..<c { cross[k] += g[best * c + k] }
        }
        return scores
    }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        guard let sys = sampling.samples.gram(group, graph) else { return nil }
        return Scoring.normalizeFinite(Self.greedyScores(gram: sys.gram, rows: sys.rows, channels: sys.channels), normalizer)
    }
}
