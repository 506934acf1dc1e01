import Experiments
import Foundation
import NN
import Tensor

/// `obdc`: EigenDamage-style OBD with the true Fisher (Torch-Pruning's `OBDCImportance`).
///
/// `F = (1/B) Σ_batches Σ_{n ∈ batch} (∂ℓ_n(ŷ_n)/∂W)²` per Conv/Linear weight, rebuilt from zero at
/// every step over the B calibration batches (10 in the benchmark). ŷ_n is drawn from the
/// model's own softmax (seeded by (seed, preparation count)); ℓ_n is sample n's cross-entropy.
/// The per-sample gradients are formed, as the reference's hooks do, from each layer's input
/// activation and output gradient of one batched pass: for sample n, the layer's weight gradient
/// on row n of both (`∂ℓ_n/∂y_n = N · ∂(mean loss)/∂y_n`). Biases are not part of F.
///
/// Only Conv/Linear **out** items score (depthwise convs as their own filter); a Linear with
/// out_features = number of classes (the classifier) is skipped. Local score of out row i:
/// `Σ_j W_ij² · (F_ij + 1e-10)`. Then reduction and normalization (default mean, mean).
public final class OBDCImportance: ImportanceCriterion {
    public let key = Criterion.obdc
    public let reduction: GroupReduction
    public let normalizer: ScoreNormalizer
    public let seed: UInt64
    private var preparations: UInt64 = 0
    /// F per Conv/Linear node, from the last prepare.
    private(set) var fisher: [Int: Tensor] = [:]
    private var terms: [Int: Tensor] = [:]

    public init(seed: UInt64 = 0, reduction: GroupReduction = .mean, normalizer: ScoreNormalizer = .mean) {
        self.seed = seed; self.reduction = reduction; self.normalizer = normalizer
    }


    /// Labels drawn from softmax(logits) row by row (inverse CDF on one uniform per row).
    static func sampleLabels(_ logits: Tensor, _ generator: inout SeededGenerator) -> [Int32] {
        let n = logits.shape[0], c = logits.shape[1], v = logits.scalars
        return (0..<n).map { i in
            let row = v[(i * c)..<((i + 1) * c)]
            let m = Double(row.max()!)
            let e = row.map { exp(Double($0) - m) }
            let total = e.reduce(0, +)
            var u = generator.nextUniformDouble() * total
            for (j, x) in e.enumerated() { u -= x; if u < 0 { return Int32(j) } }
            return Int32(c - 1)
        }
    }

    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) {
        fisher = [:]; terms = [:]
        preparations += 1
        var generator = SeededGenerator(seed: seed &+ preparations &* 0x9E37_79B9_7F4A_7C15, stream: 0x0BDC)
        let model = graph.model
        var sums: [Int: [Double]] = [:]
        // The layers OB-DC covers (Conv, Linear) and their weight-gradient evaluators, made on first use.
        let sources = graph.adapters.map(\.fisherSource)
        var evaluators: [Int: (Tensor, Tensor) -> Tensor] = [:]
        CalibrationRun.unfused(model) {
            for batch in batches {
                var inputs: [Int: Tensor] = [:]
                let logits = CalibrationRun.forward(model, batch.images, saving: true) { node, xs, _ in
                    if sources[node] != nil { inputs[node] = xs[0] }
                }
                let classes = logits.shape[1], n = logits.shape[0]
                let labels = Self.sampleLabels(logits, &generator)
                var (_, g) = CrossEntropy.lossAndGradient(logits: logits, targets: labels)
                g = g.zipped(g) { a, _ in a * Float(n) }   // per-sample losses, not their mean
                CalibrationRun.backward(model, g) { node, gy in
                    guard let x = inputs[node], let source = sources[node] else { return }
                    inputs[node] = nil
                    if source.skipsAsClassifier(classes) { return }
                    for s in 0..<n {
                        // Row s twice (see CalibrationBatch.sample): the weight gradient is 2·∂ℓ_s/∂W.
                        let xs = x.gathering(axis: 0, [s, s]), gs = gy.gathering(axis: 0, [s, s])
                        if evaluators[node] == nil { evaluators[node] = source.makeEvaluator() }
                        let v = evaluators[node]!(gs, xs).scalars
                        if sums[node] == nil { sums[node] = [Double](repeating: 0, count: v.count) }
                        sums[node]!.withUnsafeMutableBufferPointer { acc in
                            for k in 0..<v.count { acc[k] += 0.25 * Double(v[k]) * Double(v[k]) }
                        }
                    }
                }
            }
        }
        model.zeroGradients()
        let b = Double(max(1, batches.count))
        for (node, acc) in sums {
            let w = sources[node]!.weight.value
            let f = Tensor(shape: w.shape, values: acc.map { Float($0 / b) })
            fisher[node] = f
            terms[node] = w.zipped(f) { $0 * $0 * ($1 + 1e-10) }
        }
    }

    public func releaseCalibration() { fisher = [:]; terms = [:] }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        var cs: [Contribution] = []
        // Out rows of the covered layers (a depthwise conv's single side is its out side).
        for item in group.items where item.target.node >= 0 && item.target.side == .out {
            guard let t = terms[item.target.node] else { continue }
            let sums = Scoring.slices(t, axis: 0, item.indices).map { $0.reduce(Float(0), +) }
            cs.append(Contribution(scores: sums, roots: item.rootIndices))
        }
        return Scoring.reduce(cs, reduction).map { Scoring.normalizeFinite($0, normalizer) }
    }
}
