import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// Cross-entropy over logits `[N, classes]` with integer targets and optional label smoothing,
/// averaged over the batch (PyTorch's `F.cross_entropy(..., label_smoothing=eps)`):
///
/// `loss_i = (1 - eps) * (-log p_i[y_i]) + eps * mean_c(-log p_i[c])`.
public enum CrossEntropy {
    /// Returns the mean loss (double precision) and its gradient with respect to the logits:
    /// `(softmax - target distribution) / N`.
    public static func lossAndGradient(logits: Tensor, targets: [Int32], labelSmoothing: Float = 0)
        -> (loss: Double, gradient: Tensor) {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                     "cross-entropy needs [N, classes] logits for \(targets.count) targets, got \(logits.shape)")
        let n = logits.shape[0], c = logits.shape[1]
        var grad = logits.emptyLike()
        let gp = grad.mutablePointer(), lp = logits.pointer
        let eps = Double(labelSmoothing)
        var losses = [Double](repeating: 0, count: n)
        losses.withUnsafeMutableBufferPointer { lb in
            let lossp = lb.baseAddress!
            Parallel.forEach(n, grain: 64) { i in
                let row = lp + i * c, grow = gp + i * c
                let target = Int(targets[i])
                precondition(target >= 0 && target < c, "target \(target) outside 0..<\(c)")
                var mx = -Float.infinity
                for j in 0..<c { mx = max(mx, row[j]) }
                var sum = 0.0
                for j in 0..<c { sum += Foundationless.exp(Double(row[j] - mx)) }
                let logSum = Foundationless.log(sum) + Double(mx)
                var meanNegLog = 0.0
                for j in 0..<c {
                    let logp = Double(row[j]) - logSum
                    meanNegLog -= logp
                    let q = (j == target ? 1 - eps : 0) + eps / Double(c)
                    grow[j] = Float((Foundationless.exp(logp) - q) / Double(n))
                }
                lossp[i] = (1 - eps) * (logSum - Double(row[target])) + eps * meanNegLog / Double(c)
            }
        }
        return (losses.reduce(0, +) / Double(n), grad)
    }
}

/// libm entry points without Foundation.
enum Foundationless {
    @inline(__always) static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { Glibc.cos(x) }
}

/// Top-1 accuracy bookkeeping.
public enum Accuracy {
    /// Number of rows of `logits` whose arg-max equals the target (first maximum wins on ties).
    public static func correct(logits: Tensor, targets: [Int32]) -> Int {
        let c = logits.shape[1]
        var hits = 0
        for i in 0..<targets.count {
            let row = logits.pointer + i * c
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            if best == Int(targets[i]) { hits += 1 }
        }
        return hits
    }
}
