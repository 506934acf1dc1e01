import Experiments
import Foundation
import NN
import Tensor

/// A pruning criterion: one score per root channel of a group (lower = pruned first), or nil
/// when no item of the group is of a kind the criterion scores (the group is then skipped).
/// All arithmetic is float32, as in Torch-Pruning.
public protocol ImportanceCriterion: AnyObject {
    /// The criterion's entry in the method registry (whether it needs calibration, its cost).
    var key: Criterion { get }
    func scores(of group: Group, in graph: DependencyGraph) -> [Float]?
    /// Collects the criterion's statistics on the current model from this step's calibration
    /// batches; ``Pruner/step()`` calls it right before scoring (pruning-semantics §7.5).
    func prepare(graph: DependencyGraph, batches: [CalibrationBatch])
    /// Drops the statistics after the step has scored its groups.
    func releaseCalibration()
}

extension ImportanceCriterion {
    /// The configuration key (`l1`, `l2`, `bnscale`, ...).
    public var name: String { key.rawValue }
    /// Whether the criterion scores from calibration data, as the registry declares.
    public var needsCalibration: Bool { key.needsCalibration }
    public func prepare(graph: DependencyGraph, batches: [CalibrationBatch]) {}
    public func releaseCalibration() {}
}

/// How the per-item contributions of a group are combined (§6.2).
public enum GroupReduction: String, Sendable, CaseIterable {
    case sum, mean, max, prod, first, gate
}

/// Per-group score normalization (§6.3).
public enum ScoreNormalizer: String, Sendable, CaseIterable {
    case none, mean, max, sum, standarization, gaussian, lamp
}

/// One contribution: per-index local scores and the root index of each.
struct Contribution {
    var scores: [Float]
    var roots: [Int]
}

/// Which slice families a magnitude criterion scores.
typealias ScoredKinds = SliceKinds

enum Scoring {
    /// Σ|x|^p in float32 (p = 1 or 2 exactly; other p through powf).
    @inline(__always) static func power(_ x: Float, _ p: Float) -> Float {
        p == 1 ? abs(x) : (p == 2 ? x * x : powf(abs(x), p))
    }

    /// Per-channel slices of a weight, as float vectors: rows of the out side
    /// (`[out, rest]`) or columns of the in side, for every index of `indices`.
    static func slices(_ w: Tensor, axis: Int, _ indices: [Int]) -> [[Float]] {
        let s = w.shape
        let rows = s[0], cols = s[1], inner = s.dropFirst(2).reduce(1, *)
        return w.withUnsafeBufferPointer { values in
            indices.map { i in
                if axis == 0 { return Array(values[(i * cols * inner)..<((i + 1) * cols * inner)]) }
                var v = [Float](repeating: 0, count: rows * inner)
                v.withUnsafeMutableBufferPointer { out in
                    for r in 0..<rows {
                        let base = (r * cols + i) * inner
                        for k in 0..<inner { out[r * inner + k] = values[base + k] }
                    }
                }
                return v
            }
        }
    }

    /// `Σ |w|^p` over each requested slice of `w` along `axis` (0: output rows, 1: input columns,
    /// the remaining axes flattened), without copying slices. Rows are contiguous and summed with
    /// eight partial sums; columns are summed in one pass over the tensor, in the same order per
    /// column as a slice-by-slice sum. (Float32 order differs from PyTorch's either way: the
    /// golden cases' cut margins are far above it.)
    static func powerSums(_ w: Tensor, axis: Int, _ indices: [Int], p: Float) -> [Float] {
        switch p {
        case 2: return powerSums(w, axis: axis, indices) { $0 * $0 }
        case 1: return powerSums(w, axis: axis, indices) { abs($0) }
        default: return powerSums(w, axis: axis, indices) { powf(abs($0), p) }
        }
    }

    @inline(__always)
    private static func powerSums(_ w: Tensor, axis: Int, _ indices: [Int], _ f: (Float) -> Float) -> [Float] {
        let s = w.shape
        let rows = s[0], cols = s[1], inner = s.dropFirst(2).reduce(1, *)
        let values = w.pointer
        if axis == 0 {
            let length = cols * inner
            return indices.map { i in
                let row = values + i * length
                var lanes = SIMD8<Float>(repeating: 0)
                var k = 0
                while k + 8 <= length {
                    lanes += SIMD8(f(row[k]), f(row[k + 1]), f(row[k + 2]), f(row[k + 3]),
                                   f(row[k + 4]), f(row[k + 5]), f(row[k + 6]), f(row[k + 7]))
                    k += 8
                }
                var acc = lanes.sum()
                while k < length { acc += f(row[k]); k += 1 }
                return acc
            }
        }
        var sums = [Float](repeating: 0, count: cols)
        sums.withUnsafeMutableBufferPointer { acc in
            for r in 0..<rows {
                let row = values + r * cols * inner
                if inner == 1 {
                    for c in 0..<cols { acc[c] += f(row[c]) }   // independent per column: vectorizes
                } else {
                    for c in 0..<cols {
                        var a = acc[c]
                        for k in 0..<inner { a += f(row[c * inner + k]) }
                        acc[c] = a
                    }
                }
            }
        }
        return indices.map { sums[$0] }
    }

    /// `Σ |θ|^p` over each index's slice: a vector's entries one by one, a tensor's rows or
    /// columns through ``powerSums(_:axis:_:p:)``.
    static func powerSums(_ s: ParameterSlice, p: Float) -> [Float] {
        let w = s.parameter.value
        guard w.rank > 1 else {
            let v = w.scalars
            return s.indices.map { power(v[$0], p) }
        }
        return powerSums(w, axis: s.axis, s.indices, p: p)
    }

    /// The magnitude contributions of one group (§6.1), in group order: one per parameter slice
    /// of a scored family that its items own (biases only with `bias`).
    static func magnitudeContributions(_ group: Group, _ graph: DependencyGraph, p: Float, kinds: ScoredKinds,
                                       bias: Bool) -> [Contribution] {
        var out: [Contribution] = []
        for item in group.items where item.target.node >= 0 {
            for s in graph.slices(of: item) where kinds.contains(s.kind) && (bias || !s.isBias) {
                out.append(Contribution(scores: powerSums(s, p: p), roots: s.roots))
            }
        }
        return out
    }

    /// Combines contributions onto root indices (§6.2). The buffer has the first contribution's
    /// length; `mean` divides by the number of contributions.
    static func reduce(_ cs: [Contribution], _ reduction: GroupReduction) -> [Float]? {
        guard let first = cs.first else { return nil }
        let n = first.scores.count
        var buf = [Float](repeating: reduction == .prod ? 1 : (reduction == .max ? -99999 : 0), count: n)
        switch reduction {
        case .first:
            for (s, r) in zip(first.scores, first.roots) { buf[r] += s }
        case .gate:
            for (s, r) in zip(cs.last!.scores, cs.last!.roots) { buf[r] += s }
        default:
            for c in cs {
                for (s, r) in zip(c.scores, c.roots) where r < n {
                    switch reduction {
                    case .sum, .mean: buf[r] += s
                    case .max: buf[r] = Swift.max(buf[r], s)
                    case .prod: buf[r] *= s
                    default: break
                    }
                }
            }
        }
        if reduction == .mean { let d = Float(cs.count); buf = buf.map { $0 / d } }
        return buf
    }

    /// Normalizes one group's scores (§6.3).
    static func normalize(_ s: [Float], _ normalizer: ScoreNormalizer) -> [Float] {
        guard !s.isEmpty else { return s }
        switch normalizer {
        case .none: return s
        case .mean:
            let m = s.reduce(Float(0), +) / Float(s.count)
            return s.map { $0 / m }
        case .max:
            let m = s.max()!
            return s.map { $0 / m }
        case .sum:
            let t = s.reduce(Float(0), +)
            return s.map { $0 / t }
        case .standarization:
            let lo = s.min()!, hi = s.max()!
            return s.map { ($0 - lo) / (hi - lo + 1e-8) }
        case .gaussian:
            let m = s.reduce(Float(0), +) / Float(s.count)
            let v = s.count > 1 ? s.reduce(Float(0)) { $0 + ($1 - m) * ($1 - m) } / Float(s.count - 1) : 0
            return s.map { ($0 - m) / (v.squareRoot() + 1e-8) }
        case .lamp:
            // Each score divided by the sum of itself and every score ranked at or after it in
            // ascending order (ties by position).
            let order = s.indices.sorted { (s[$0], $0) < (s[$1], $1) }
            var out = [Float](repeating: 0, count: s.count), tail: Float = 0
            for i in order.reversed() { tail += s[i]; out[i] = s[i] / tail }
            return out
        }
    }
}
