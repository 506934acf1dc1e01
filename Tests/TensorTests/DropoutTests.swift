import XCTest
@testable import Tensor

final class DropoutTests: XCTestCase {
    func testMaskValuesAndKeepRate() {
        let p: Float = 0.3
        var g = SeededGenerator(seed: 50)
        // Several random-stream blocks, and a ragged last block.
        let m = Dropout.mask(shape: [7, 10_001], p: p, using: &g)
        XCTAssertEqual(m.shape, [7, 10_001])
        let keep = 1 / (1 - p)
        var kept = 0
        for v in m.scalars {
            XCTAssertTrue(v == 0 || v == keep, "mask value \(v)")
            if v != 0 { kept += 1 }
        }
        XCTAssertEqual(Double(kept) / Double(m.count), 0.7, accuracy: 0.01)
    }

    func testDeterministicAndGeneratorAdvancesOnce() {
        var a = SeededGenerator(seed: 51), b = SeededGenerator(seed: 51)
        let x = Tensor(repeating: 1, shape: [3, 5000])
        let ya = Dropout.forward(x, p: 0.5, using: &a)
        let yb = Dropout.forward(x, p: 0.5, using: &b)
        XCTAssertEqual(ya.mask.scalars, yb.mask.scalars)
        XCTAssertEqual(ya.output.scalars, yb.output.scalars)
        // The next mask from the same generator differs; both generators stay in step.
        let next = Dropout.mask(shape: [3, 5000], p: 0.5, using: &a)
        XCTAssertNotEqual(next.scalars, ya.mask.scalars)
        var reference = SeededGenerator(seed: 51)
        _ = reference.next()
        XCTAssertEqual(b.next(), reference.next())
    }

    func testOutputIsInputTimesMask() {
        var g = SeededGenerator(seed: 52)
        let x = Tensor.randomNormal([4, 6, 5], using: &g)
        let (y, m) = Dropout.forward(x, p: 0.25, using: &g)
        for i in 0..<x.count { XCTAssertEqual(y.scalars[i], x.scalars[i] * m.scalars[i]) }
        let dy = Tensor.randomNormal(x.shape, using: &g)
        let dx = Dropout.backward(dy, mask: m)
        for i in 0..<x.count { XCTAssertEqual(dx.scalars[i], dy.scalars[i] * m.scalars[i]) }
    }

    func testExtremeProbabilities() {
        var g = SeededGenerator(seed: 53)
        let x = Tensor.randomNormal([3, 7], using: &g)
        XCTAssertEqual(Dropout.forward(x, p: 0, using: &g).output.scalars, x.scalars)
        XCTAssertTrue(Dropout.forward(x, p: 1, using: &g).output.scalars.allSatisfy { $0 == 0 })
    }

    func testGradient() {
        var g = SeededGenerator(seed: 54)
        let x = Tensor.randomNormal([3, 5, 7], using: &g)
        // The same seed on every forward gives the same mask, so the op is a fixed linear map.
        func f(_ t: Tensor) -> (output: Tensor, mask: Tensor) {
            var rng = SeededGenerator(seed: 99)
            return Dropout.forward(t, p: 0.4, using: &rng)
        }
        let errors = GradientCheck.relativeErrors(
            inputs: [x], forward: { f($0[0]).output },
            backward: { dy, xs in [Dropout.backward(dy, mask: f(xs[0]).mask)] })
        XCTAssertLessThan(errors[0], 1e-3)
    }

    func testMaskIndependentOfThreadCount() {
        let threads = Parallel.threadCount
        defer { Parallel.setThreadCount(threads) }
        var a = SeededGenerator(seed: 55), b = SeededGenerator(seed: 55)
        Parallel.setThreadCount(1)
        let single = Dropout.mask(shape: [50_000], p: 0.2, using: &a)
        Parallel.setThreadCount(max(threads, 2))
        let multi = Dropout.mask(shape: [50_000], p: 0.2, using: &b)
        XCTAssertEqual(single.scalars, multi.scalars)
    }
}
