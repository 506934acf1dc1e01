/// Compares an op's analytic gradients with central finite differences.
///
/// The scalar checked is `L = sum(f(inputs) * probe)` for a fixed random `probe`, accumulated in
/// double precision. Each input element is moved by `±step` and the op's float32 forward is run
/// again; `(L+ - L-) / 2 step` is the numeric gradient. The analytic one is `backward(probe)`.
/// The step is large enough that float32 rounding of the forward stays far below the tolerance,
/// and small enough that the O(step^2) truncation does too for smooth ops.
public enum GradientCheck {
    /// Per-input relative errors `||analytic - numeric|| / max(||analytic||, ||numeric||)`.
    ///
    /// - Parameters:
    ///   - inputs: the point to differentiate at.
    ///   - forward: the op.
    ///   - backward: given the output gradient and the inputs, the gradient of every input
    ///     (nil for inputs that are not differentiated, such as integer-valued ones).
    public static func relativeErrors(
        inputs: [Tensor], step: Float = 1e-2, seed: UInt64 = 7,
        forward: ([Tensor]) -> Tensor,
        backward: (_ gradOutput: Tensor, _ inputs: [Tensor]) -> [Tensor?]
    ) -> [Double] {
        let out = forward(inputs)
        var g = SeededGenerator(seed: seed, stream: 99)
        let probe = Tensor.randomNormal(out.shape, using: &g)
        let analytic = backward(probe, inputs)
        precondition(analytic.count == inputs.count, "backward returned \(analytic.count) gradients for \(inputs.count) inputs")

        func loss(_ xs: [Tensor]) -> Double {
            let y = forward(xs)
            precondition(y.shape == probe.shape, "forward shape changed: \(y.shape) vs \(probe.shape)")
            var s = 0.0
            for i in 0..<y.count { s += Double(y.pointer[i]) * Double(probe.pointer[i]) }
            return s
        }

        var errors: [Double] = []
        for (j, input) in inputs.enumerated() {
            guard let a = analytic[j] else { errors.append(0); continue }
            precondition(a.shape == input.shape, "gradient of input \(j) has shape \(a.shape), expected \(input.shape)")
            var xs = inputs
            var diff = 0.0, na = 0.0, nn = 0.0
            for i in 0..<input.count {
                let original = input.pointer[i]
                xs[j] = input
                xs[j].mutablePointer()[i] = original + step
                let plus = loss(xs)
                xs[j].mutablePointer()[i] = original - step
                let minus = loss(xs)
                // The actual perturbation after float32 rounding.
                let h = Double(original + step) - Double(original - step)
                let numeric = (plus - minus) / h
                let an = Double(a.pointer[i])
                diff += (an - numeric) * (an - numeric)
                na += an * an
                nn += numeric * numeric
            }
            let scale = max(na.squareRoot(), nn.squareRoot(), 1e-12)
            errors.append(diff.squareRoot() / scale)
        }
        return errors
    }
}
