import NN
import Tensor

/// The sampled next-layer contributions shared by ``CPImportance`` and ``ThiNetImportance``
/// (pruningbench.md §4.1 items 10–11).
///
/// For each consumer whose adapter samples it (``PrunableLayer/consumerSamples(inputs:outputShape:generator:)``:
/// a Conv with groups = 1, a Linear, an attention layer's fused qkv Linear), seen on its input
/// side, and each calibration image, R = 10 (output channel o, output position p) pairs are drawn uniformly
/// (positions: conv output pixels, Linear token positions, none for a plain Linear). For every
/// sample the per-input-channel contribution `u_i = Σ_taps W[o, i, taps] · x[p + tap, i]` is
/// stored, x being the consumer's actual input (evaluation mode). A group's contribution of
/// root channel k is then `z_k = Σ_{i: root(i)=k} u_i` over the consumer's items.
///
/// Not covered: an attention's output projection as the consumer of its head dimensions (its
/// input is internal to the attention layer), so CP and ThiNet give ViT attention-inner groups
/// no score and leave them unpruned.
struct ConsumerSamples {
    /// Per consumer node: samples × input-channel contributions, row-major.
    var rows: [Int: (count: Int, width: Int, values: [Float])] = [:]

    static let samplesPerImage = 10

    static func collect(_ model: Model, _ batches: [CalibrationBatch], generator: inout SeededGenerator) -> ConsumerSamples {
        var out = ConsumerSamples()
        let adapters = model.nodes.map { PrunableLayers.adapter(for: $0.layer) }
        CalibrationRun.unfused(model) {
            for batch in batches {
                _ = CalibrationRun.forward(model, batch.images, saving: false) { node, xs, y in
                    guard let (values, width) = adapters[node]?.consumerSamples(inputs: xs, outputShape: y.shape,
                                                                                      generator: &generator) else { return }
                    let count = values.count / max(1, width)
                    if out.rows[node] != nil {
                        out.rows[node]!.count += count
                        out.rows[node]!.values += values
                    } else {
                        out.rows[node] = (count, width, values)
                    }
                }
            }
        }
        return out
    }

    /// Samples of a Linear with weight `[out, in]` on `x` `[N, in]` or `[N, tokens, in]`.
    static func linearSamples(_ weight: Tensor, _ x: Tensor, _ g: inout SeededGenerator) -> [Float] {
        let cin = weight.shape[1], cout = weight.shape[0], n = x.shape[0]
        let tokens = x.count / (n * cin)
        let wt = weight.pointer, xp = x.pointer
        var out = [Float](repeating: 0, count: n * samplesPerImage * cin)
        var row = 0
        for s in 0..<n {
            for _ in 0..<samplesPerImage {
                let o = g.nextInt(below: cout), t = tokens > 1 ? g.nextInt(below: tokens) : 0
                let xrow = xp + (s * tokens + t) * cin
                for i in 0..<cin { out[row * cin + i] = wt[o * cin + i] * xrow[i] }
                row += 1
            }
        }
        return out
    }

    /// The group's normalized system: the Gram matrix G = ZᵀZ (C_g × C_g, row-major) of the
    /// stacked per-root-channel contributions, each consumer's rows divided by that consumer's
    /// root-mean-square group output y = Σ_k z_k; and M, the number of rows. y = Z·1, so
    /// Zᵀy is G's row sums. Nil when the group has no consumer with a non-zero output.
    func gram(_ group: Group, _ graph: DependencyGraph) -> (gram: [Double], rows: Int, channels: Int)? {
        guard let c = graph.channels(group.root), c > 0 else { return nil }
        var z: [Float] = [], m = 0
        // Consumers on their in side: only sampled nodes (conv, linear, attention) have rows.
        for item in group.items where item.target.node >= 0 && item.target.side == .in {
            guard let r = rows[item.target.node], r.count > 0 else { continue }
            var block = [Float](repeating: 0, count: r.count * c)
            var sumSquares = 0.0
            for s in 0..<r.count {
                var y: Float = 0
                for (i, k) in zip(item.indices, item.rootIndices) where i < r.width && k < c {
                    let v = r.values[s * r.width + i]
                    block[s * c + k] += v
                    y += v
                }
                sumSquares += Double(y) * Double(y)
            }
            let rms = (sumSquares / Double(r.count)).squareRoot()
            guard rms > 0, rms.isFinite else { continue }
            let scale = Float(1 / rms)
            z += block.map { $0 * scale }
            m += r.count
        }
        guard m > 0 else { return nil }
        let zt = Tensor(shape: [m, c], values: z)
        let g = GEMM.matmul(zt, zt, transposeA: true).scalars.map(Double.init)
        return (g, m, c)
    }
}

/// The sampling state shared by the reconstruction criteria (CP, ThiNet): before each step, fresh
/// consumer samples drawn with a generator seeded by (seed, number of preparations, stream).
struct ConsumerSampling {
    let seed: UInt64
    let stream: UInt64
    private var preparations: UInt64 = 0
    private(set) var samples = ConsumerSamples()

    init(seed: UInt64, stream: UInt64) { self.seed = seed; self.stream = stream }

    mutating func prepare(_ model: Model, _ batches: [CalibrationBatch]) {
        preparations += 1
        var generator = SeededGenerator(seed: seed &+ preparations &* 0x9E37_79B9_7F4A_7C15, stream: stream)
        samples = ConsumerSamples.collect(model, batches, generator: &generator)
    }

    mutating func release() { samples = ConsumerSamples() }
}
