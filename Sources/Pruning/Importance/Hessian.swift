import Experiments
import NN
import Tensor

/// `hessian`: diagonal Optimal Brain Damage (Torch-Pruning's `GroupHessianImportance`), with the
/// per-sample average the reference loses (pruning-semantics §11.3).
///
/// `h = (1/N) Σ_n (∂ℓ_n/∂θ)²`, the diagonal empirical Fisher over the N samples of the **first**
/// calibration batch, ℓ_n the cross-entropy of sample n alone (true label), each from its own
/// forward and backward pass on a batch of one (batch norm in evaluation mode, so a sample's
/// pass equals its row of the batched pass). Local scores: Conv/Linear out rows and in columns
/// `Σ θ² ⊙ h` over the slice, batch norm `γ_i² · h_i`, layer norm `w_i² · h_i`; attention qkv/proj
/// slices as Linears. Then reduction and normalization
/// (default mean, mean). Cost per step: N single-sample forward and backward passes (about N
/// times a batched pass's overhead; compute equal to one batched pass).
public final class HessianImportance: ImportanceCriterion {
    public let key = Criterion.hessian
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer
    /// h per parameter (the mean squared per-sample gradient), from the last prepare.
    private(set) var fisher: [ObjectIdentifier: Tensor] = [:]
    private var terms: [ObjectIdentifier: Tensor] = [:]

    public init(reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean) {
        self.reduction = reduction; self.normalizer = normalizer
    }


    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) {
        fisher = [:]; terms = [:]
        guard let batch = batches.first, batch.labels.count > 0 else { return }
        let model = graph.model
        let n = batch.labels.count
        var sums: [ObjectIdentifier: (parameter: Parameter, acc: [Double])] = [:]
        for s in 0..<n {
            let grads = CalibrationRun.gradients(model) { CalibrationRun.lossBackward(model, batch.sample(s)) }
            for (key, (p, g)) in grads {
                let v = g.scalars
                if sums[key] == nil { sums[key] = (p, [Double](repeating: 0, count: v.count)) }
                sums[key]!.acc.withUnsafeMutableBufferPointer { acc in
                    for k in 0..<v.count { acc[k] += Double(v[k]) * Double(v[k]) }
                }
            }
        }
        for (key, (p, acc)) in sums {
            let h = Tensor(shape: p.value.shape, values: acc.map { Float($0 / Double(n)) })
            fisher[key] = h
            terms[key] = p.value.zipped(h) { $0 * $0 * $1 }
        }
    }

    public func releaseCalibration() { fisher = [:]; terms = [:] }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        let cs = Scoring.termContributions(group, graph, terms)
        return Scoring.reduce(cs, reduction).map { Scoring.normalizeFinite($0, normalizer) }
    }
}
