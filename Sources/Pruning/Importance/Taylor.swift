import Experiments
import NN
import Tensor

/// `taylor`: first-order Taylor importance (Molchanov et al. 2019; Torch-Pruning's
/// `GroupTaylorImportance`), with the batch-norm term the reference omits (pruning-semantics §11.2).
///
/// `g = Σ_batches ∂L_b/∂θ`, the gradient of the mean cross-entropy of each calibration batch
/// (true labels), summed over the batches, taken with batch norm in evaluation mode (running
/// statistics). Local scores: Conv/Linear out rows and in columns `Σ |θ ⊙ g|` over the slice
/// (`multivariable`: `|Σ θ ⊙ g|`), batch norm `|γ_i · g_i|`, layer norm `|w_i · g_i|`; an
/// attention layer's qkv/proj slices as Linears. Then reduction (default mean) and
/// normalization (default mean). Cost per step: one forward and backward per calibration batch.
public final class TaylorImportance: ImportanceCriterion {
    public let key = Criterion.taylor
    public let multivariable: Bool
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer
    /// θ ⊙ g per parameter, from the last ``prepare(graph:batches:)``.
    private(set) var terms: [ObjectIdentifier: Tensor] = [:]

    public init(multivariable: Bool = false, reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean) {
        self.multivariable = multivariable; self.reduction = reduction; self.normalizer = normalizer
    }


    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) {
        let model = graph.model
        let grads = CalibrationRun.gradients(model) {
            for b in batches { CalibrationRun.lossBackward(model, b) }
        }
        terms = grads.mapValues { p, g in
            multivariable ? p.value.zipped(g) { $0 * $1 } : p.value.zipped(g) { abs($0 * $1) }
        }
    }

    public func releaseCalibration() { terms = [:] }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        let cs = Scoring.termContributions(group, graph, terms, absoluteOfSum: multivariable)
        return Scoring.reduce(cs, reduction).map { Scoring.normalizeFinite($0, normalizer) }
    }
}
