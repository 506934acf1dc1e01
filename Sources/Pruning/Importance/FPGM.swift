import Experiments
/// `fpgm`: Torch-Pruning's `FPGMImportance(p=2)` (filter pruning via geometric median).
///
/// Only Conv/Linear out and in items score. For an item, each channel's vector is
/// `v_i = |w_i|^p` element-wise (the weight row for out, the column for in); its local score is
/// `Σ_j ‖v_i − v_j‖₂` over the item's channels (`torch.cdist`). Batch norm is ignored. Then mean
/// reduction over the items and the normalizer (default mean).
public final class FPGMImportance: ImportanceCriterion {
    public let key = Criterion.fpgm
    public let p: Float
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer

    public init(p: Float = 2, reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean) {
        self.p = p; self.reduction = reduction; self.normalizer = normalizer
    }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        var cs: [Contribution] = []
        // The Conv/Linear weight slices of every item (timm attention's qkv and proj are Linears).
        for item in group.items where item.target.node >= 0 {
            for slice in graph.slices(of: item) where slice.kind == .convLinear && !slice.isBias {
                cs.append(Contribution(scores: distanceSums(slice), roots: slice.roots))
            }
        }
        return Scoring.reduce(cs, reduction).map { Scoring.normalize($0, normalizer) }
    }

    /// `Σ_j ‖v_i − v_j‖₂` for each index i of the slice, `v_i = |w_i|^p` element-wise.
    private func distanceSums(_ slice: ParameterSlice) -> [Float] {
        let v = Scoring.slices(slice.parameter.value, axis: slice.axis, slice.indices).map { $0.map { Scoring.power($0, p) } }
        // Pairwise Euclidean distances, each computed once.
        var local = [Float](repeating: 0, count: v.count)
        for i in v.indices {
            v[i].withUnsafeBufferPointer { a in
                for j in (i + 1)..<v.count {
                    let d: Float = v[j].withUnsafeBufferPointer { b in
                        var acc: Float = 0
                        for k in 0..<a.count { let t = a[k] - b[k]; acc += t * t }
                        return acc.squareRoot()
                    }
                    local[i] += d
                    local[j] += d
                }
            }
        }
        return local
    }
}

import NN
import Tensor
