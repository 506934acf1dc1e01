/// `fpgm`: Torch-Pruning's `FPGMImportance(p=2)` (filter pruning via geometric median).
///
/// Only Conv/Linear out and in items score. For an item, each channel's vector is
/// `v_i = |w_i|^p` element-wise (the weight row for out, the column for in); its local score is
/// `Σ_j ‖v_i − v_j‖₂` over the item's channels (`torch.cdist`). Batch norm is ignored. Then mean
/// reduction over the items and the normalizer (default mean).
public final class FPGMImportance: ImportanceCriterion {
    public let name = "fpgm"
    public let p: Float
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer

    public init(p: Float = 2, reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean) {
        self.p = p; self.reduction = reduction; self.normalizer = normalizer
    }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        var cs: [Contribution] = []
        for item in group.items where item.target.node >= 0 {
            let layer = graph.model.nodes[item.target.node].layer
            // (weight, axis, indices, root indices) of each Conv/Linear slice the item stands for.
            var parts: [(Tensor, Int, [Int], [Int])]
            switch (graph.roles[item.target.node], item.target.side) {
            case (.conv, .out), (.depthwiseConv, _): parts = [((layer as! Conv2d).weight.value, 0, item.indices, item.rootIndices)]
            case (.conv, .in):
                let conv = layer as! Conv2d
                parts = [(conv.weight.value, 1, conv.weightColumns(ofInputs: item.indices), item.rootIndices)]
            case (.linear, .out): parts = [((layer as! LinearLayer).weight.value, 0, item.indices, item.rootIndices)]
            case (.linear, .in): parts = [((layer as! LinearLayer).weight.value, 1, item.indices, item.rootIndices)]
            // timm attention: qkv and proj are Linears (inner: proj in columns, then qkv out rows).
            case (.attention, .in): parts = [((layer as! AttentionLayer).qkvWeight.value, 1, item.indices, item.rootIndices)]
            case (.attention, .out): parts = [((layer as! AttentionLayer).projWeight.value, 0, item.indices, item.rootIndices)]
            case (.attention, .inner):
                let a = layer as! AttentionLayer
                parts = [(a.projWeight.value, 1, item.indices, item.rootIndices),
                         (a.qkvWeight.value, 0, Scoring.qkvRows(a, item.indices), Array(repeating: item.rootIndices, count: 3).flatMap { $0 })]
            default: continue
            }
            for (weight, axis, indices, roots) in parts {
            let v = Scoring.slices(weight, axis: axis, indices).map { $0.map { Scoring.power($0, p) } }
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
            cs.append(Contribution(scores: local, roots: roots))
            }
        }
        return Scoring.reduce(cs, reduction).map { Scoring.normalize($0, normalizer) }
    }
}

import NN
import Tensor
