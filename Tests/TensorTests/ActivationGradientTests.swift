import XCTest
@testable import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ActivationGradientTests: XCTestCase {

    private func assertMatches(_ t: Tensor, _ input: Tensor, _ f: (Double) -> Double, accuracy: Double, _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(t.shape, input.shape, what, file: file, line: line)
        let xs = input.scalars, ys = t.scalars
        for i in 0..<xs.count {
            let ref = f(Double(xs[i]))
            XCTAssertEqual(Double(ys[i]), ref, accuracy: accuracy * max(1, abs(ref)), "\(what) at x = \(xs[i])",
                           file: file, line: line)
        }
    }

    private func input(_ shape: [Int], std: Float = 2, seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: std, using: &g)
    }

    // MARK: Forward against double-precision formulas

    func testGELUForward() {
        let x = input([3, 5, 7], std: 3, seed: 10)
        assertMatches(GELU.forward(x), x, { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, accuracy: 1e-6, "GELU")
        // Known values of PyTorch's exact GELU.
        let y = GELU.forward(Tensor(shape: [3], values: [1, -1, 2])).scalars
        XCTAssertEqual(y[0], 0.8413447, accuracy: 1e-6)
        XCTAssertEqual(y[1], -0.1586553, accuracy: 1e-6)
        XCTAssertEqual(y[2], 1.9544997, accuracy: 1e-6)
    }

    func testSiLUForward() {
        let x = input([4, 9], std: 4, seed: 11)
        assertMatches(SiLU.forward(x), x, { $0 / (1 + exp(-$0)) }, accuracy: 1e-6, "SiLU")
    }

    func testSigmoidForwardAndSaturation() {
        let x = input([2, 3, 5], std: 4, seed: 12)
        assertMatches(Sigmoid.forward(x), x, { 1 / (1 + exp(-$0)) }, accuracy: 1e-6, "Sigmoid")
        let extreme = Tensor(shape: [4], values: [-200, -90, 90, 200])
        let y = Sigmoid.forward(extreme).scalars
        XCTAssertTrue(y.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[3], 1)
        XCTAssertTrue(SiLU.forward(extreme).scalars.allSatisfy { $0.isFinite })
        XCTAssertTrue(GELU.forward(extreme).scalars.allSatisfy { $0.isFinite })
    }

    // MARK: Gradient checks

    func testGELUGradient() {
        let x = input([3, 5, 7], seed: 20)
        let errors = GradientCheck.relativeErrors(
            inputs: [x], forward: { GELU.forward($0[0]) },
            backward: { dy, xs in [GELU.backward(dy, input: xs[0])] })
        assertSmall(errors, "GELU")
    }

    func testSiLUGradient() {
        let x = input([2, 11, 3], seed: 21)
        let errors = GradientCheck.relativeErrors(
            inputs: [x], forward: { SiLU.forward($0[0]) },
            backward: { dy, xs in [SiLU.backward(dy, input: xs[0])] })
        assertSmall(errors, "SiLU")
    }

    func testSigmoidGradient() {
        let x = input([5, 13], seed: 22)
        let errors = GradientCheck.relativeErrors(
            inputs: [x], forward: { Sigmoid.forward($0[0]) },
            backward: { dy, xs in [Sigmoid.backward(dy, output: Sigmoid.forward(xs[0]))] })
        assertSmall(errors, "Sigmoid")
    }

    /// Enough elements for several parallel chunks.
    func testLargeInputsMatchFormulas() {
        let x = input([40_001], std: 3, seed: 23)
        assertMatches(GELU.forward(x), x, { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, accuracy: 1e-6, "GELU")
        assertMatches(SiLU.forward(x), x, { $0 / (1 + exp(-$0)) }, accuracy: 1e-6, "SiLU")
        let dy = Tensor(repeating: 1, shape: x.shape)
        assertMatches(Sigmoid.backward(dy, output: Sigmoid.forward(x)), x,
                      { let s = 1 / (1 + exp(-$0)); return s * (1 - s) }, accuracy: 1e-6, "Sigmoid'")
        assertMatches(GELU.backward(dy, input: x), x,
                      { 0.5 * (1 + erf($0 / 2.0.squareRoot())) + $0 * exp(-$0 * $0 / 2) / (2 * Double.pi).squareRoot() },
                      accuracy: 1e-5, "GELU'")
        assertMatches(SiLU.backward(dy, input: x), x,
                      { let s = 1 / (1 + exp(-$0)); return s * (1 + $0 * (1 - s)) }, accuracy: 1e-5, "SiLU'")
    }
}
