import NN
import Tensor

/// Whole-model gradient checks: a parameter's backpropagated gradient against central finite
/// differences of a training-mode cross-entropy loss, on up to ~24 evenly spaced elements.
public enum ModelFiniteDifferences {
    /// Training-mode loss (double precision) and its gradient with respect to the logits.
    public static func loss(_ m: Model, _ x: Tensor, _ y: [Int32]) -> (Double, Tensor) {
        var ctx = ForwardContext(training: true)
        return CrossEntropy.lossAndGradient(logits: m.forward(x, context: &ctx), targets: y)
    }

    /// Runs backward once, then for each named parameter returns
    /// `(||analytic - numeric|| / ||numeric||, ||numeric||)` over the probed elements. Buffers
    /// (running statistics) moved by the probing forwards are restored afterwards.
    public static func relativeErrors(model m: Model, x: Tensor, y: [Int32], parameters: [String], step: Float)
        -> [String: (error: Double, norm: Double)] {
        let buffers = m.namedState.filter { $0.parameter.kind == .buffer }.map { ($0.parameter, $0.parameter.value) }
        m.zeroGradients()
        m.backward(loss(m, x, y).1)
        var result: [String: (Double, Double)] = [:]
        for name in parameters {
            guard let p = m.namedParameters.first(where: { $0.name == name })?.parameter, let analytic = p.grad else {
                preconditionFailure("no gradient for parameter \(name)")
            }
            var diff = 0.0, norm = 0.0
            for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 24)) {
                let original = p.value.pointer[i]
                p.value.mutablePointer()[i] = original + step
                let plus = loss(m, x, y).0
                p.value.mutablePointer()[i] = original - step
                let minus = loss(m, x, y).0
                p.value.mutablePointer()[i] = original
                let numeric = (plus - minus) / Double(2 * step)
                diff += (numeric - Double(analytic.pointer[i])) * (numeric - Double(analytic.pointer[i]))
                norm += numeric * numeric
            }
            for (b, v) in buffers { b.value = v }
            result[name] = ((diff / max(norm, 1e-20)).squareRoot(), norm.squareRoot())
        }
        return result
    }
}
