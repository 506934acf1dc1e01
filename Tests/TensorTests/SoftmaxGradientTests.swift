import XCTest
@testable import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class SoftmaxGradientTests: XCTestCase {
    private func naiveSoftmax(_ x: Tensor) -> [Double] {
        let d = x.shape.last!, xs = x.scalars.map(Double.init)
        var out = [Double](repeating: 0, count: xs.count)
        for r in 0..<(xs.count / d) {
            let row = xs[(r * d)..<(r * d + d)]
            let m = row.max()!
            let e = row.map { exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<d { out[r * d + j] = e[j] / s }
        }
        return out
    }

    func testForwardMatchesNaiveAndRowsSumToOne() {
        var g = SeededGenerator(seed: 30)
        for shape in [[3, 4, 9], [7, 1], [2, 33], [1, 2, 3, 5]] {
            let x = Tensor.randomNormal(shape, std: 3, using: &g)
            let y = Softmax.forward(x)
            XCTAssertEqual(y.shape, shape)
            let ref = naiveSoftmax(x), ys = y.scalars
            for i in 0..<ys.count { XCTAssertEqual(Double(ys[i]), ref[i], accuracy: 1e-6, "\(shape) [\(i)]") }
            let d = shape.last!
            for r in 0..<(y.count / d) {
                let s = ys[(r * d)..<(r * d + d)].reduce(0.0) { $0 + Double($1) }
                XCTAssertEqual(s, 1, accuracy: 1e-5)
            }
        }
    }

    func testStableForLargeLogits() {
        let x = Tensor(shape: [2, 3], values: [1000, 1001, 1002, -1000, -1000, -5000])
        let y = Softmax.forward(x).scalars
        XCTAssertTrue(y.allSatisfy { $0.isFinite })
        let ref = naiveSoftmax(x)
        for i in 0..<6 { XCTAssertEqual(Double(y[i]), ref[i], accuracy: 1e-6) }
    }

    func testGradient() {
        var g = SeededGenerator(seed: 31)
        for shape in [[3, 4, 9], [5, 2], [2, 1, 17]] {
            let x = Tensor.randomNormal(shape, std: 1.5, using: &g)
            let errors = GradientCheck.relativeErrors(
                inputs: [x], step: 1e-2, forward: { Softmax.forward($0[0]) },
                backward: { dy, xs in [Softmax.backward(dy, output: Softmax.forward(xs[0]))] })
            for (i, e) in errors.enumerated() { XCTAssertLessThan(e, 1e-3, "softmax \(shape): input \(i) error \(e)") }
        }
    }

    /// Enough rows for several parallel chunks.
    func testManyRowsMatchNaive() {
        var g = SeededGenerator(seed: 32)
        let x = Tensor.randomNormal([1000, 37], std: 3, using: &g)
        let y = Softmax.forward(x), ys = y.scalars
        let ref = naiveSoftmax(x)
        for i in 0..<ys.count { XCTAssertEqual(Double(ys[i]), ref[i], accuracy: 1e-6) }
        let dy = Tensor.randomNormal(x.shape, using: &g), gs = dy.scalars
        let dx = Softmax.backward(dy, output: y).scalars
        for r in 0..<1000 {
            var dot = 0.0
            for j in 0..<37 { dot += Double(gs[r * 37 + j]) * ref[r * 37 + j] }
            for j in 0..<37 {
                let i = r * 37 + j
                XCTAssertEqual(Double(dx[i]), ref[i] * (Double(gs[i]) - dot), accuracy: 1e-5)
            }
        }
    }
}
