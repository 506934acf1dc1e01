import Foundation
import NN
import Tensor

/// Measured CPU inference latency of a model: the median wall time of repeated evaluation-mode
/// forward passes at batch 1 and batch 64, on the current thread count. Wall-clock figures, so
/// they go into a result's `timings`, never its `metrics`.
public enum Latency {
    /// Median seconds of one forward pass at batch 1 and at batch 64.
    public struct Profile: Equatable, Sendable {
        public var batch1: Double
        public var batch64: Double
    }

    /// The model's latency profile: after one untimed warm-up pass per batch size, the median of at
    /// least 15 passes at batch 1 and 5 at batch 64, repeated until each batch size has run for
    /// 0.5 s (at most 2,000 passes), so sub-millisecond models are not measured by a handful of samples.
    public static func profile(_ model: Model) -> Profile {
        Profile(batch1: median(model, batch: 1, repeats: 15), batch64: median(model, batch: 64, repeats: 5))
    }

    /// The median seconds of at least `repeats` forward passes of `model` on a constant
    /// channels-last batch, continued until `minimumSeconds` have passed (at most 2,000 passes).
    public static func median(_ model: Model, batch: Int, repeats: Int, minimumSeconds: Double = 0.5) -> Double {
        let shape = model.inputShape  // [C, H, W]
        let input = Tensor(shape: [batch, shape[1], shape[2], shape[0]], values: [Float](repeating: 0.5, count: batch * shape[0] * shape[1] * shape[2]))
        var context = ForwardContext(training: false)
        _ = model.forward(input, context: &context)
        var times = [Double]()
        var total = 0.0
        while times.count < repeats || (total < minimumSeconds && times.count < 2000) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = model.forward(input, context: &context)
            let t = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            times.append(t)
            total += t
        }
        times.sort()
        return times[times.count / 2]
    }
}
