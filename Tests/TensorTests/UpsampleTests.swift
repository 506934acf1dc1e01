import XCTest
@testable import Tensor

final class UpsampleTests: XCTestCase {
    func testForwardMatchesNaive() {
        var g = SeededGenerator(seed: 60)
        for (shape, sh, sw) in [([2, 3, 5, 3], 2, 2), ([1, 4, 3, 2], 3, 2), ([3, 2, 2, 1], 1, 3)] {
            let x = Tensor.randomNormal(shape, using: &g)
            let y = UpsampleNearest.forward(x, scaleH: sh, scaleW: sw)
            let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
            XCTAssertEqual(y.shape, [n, h * sh, w * sw, c])
            for b in 0..<n {
                for i in 0..<(h * sh) {
                    for j in 0..<(w * sw) {
                        for k in 0..<c { XCTAssertEqual(y[b, i, j, k], x[b, i / sh, j / sw, k]) }
                    }
                }
            }
        }
    }

    func testBackwardSumsBlocks() {
        let dy = Tensor(shape: [1, 2, 4, 1], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let dx = UpsampleNearest.backward(dy, scale: 2)
        XCTAssertEqual(dx.shape, [1, 1, 2, 1])
        let expected: [Float] = [14, 22]  // 1 + 2 + 5 + 6, 3 + 4 + 7 + 8
        XCTAssertEqual(dx.scalars, expected)
    }

    func testGradient() {
        var g = SeededGenerator(seed: 61)
        for (shape, sh, sw) in [([2, 3, 5, 3], 2, 2), ([1, 3, 2, 4], 3, 2)] {
            let x = Tensor.randomNormal(shape, using: &g)
            let errors = GradientCheck.relativeErrors(
                inputs: [x], forward: { UpsampleNearest.forward($0[0], scaleH: sh, scaleW: sw) },
                backward: { dy, _ in [UpsampleNearest.backward(dy, scaleH: sh, scaleW: sw)] })
            XCTAssertLessThan(errors[0], 1e-3, "upsample \(shape) x\(sh)x\(sw)")
        }
    }

    /// Enough rows for several parallel chunks.
    func testLargeMatchesNaive() {
        var g = SeededGenerator(seed: 62)
        let (n, h, w, c, sh, sw) = (2, 41, 23, 8, 2, 3)
        let x = Tensor.randomNormal([n, h, w, c], using: &g)
        let y = UpsampleNearest.forward(x, scaleH: sh, scaleW: sw)
        let xs = x.scalars, ys = y.scalars
        let ho = h * sh, wo = w * sw
        for b in 0..<n {
            for i in 0..<ho {
                for j in 0..<wo {
                    for k in 0..<c {
                        XCTAssertEqual(ys[((b * ho + i) * wo + j) * c + k], xs[((b * h + i / sh) * w + j / sw) * c + k])
                    }
                }
            }
        }
        let dy = Tensor.randomNormal(y.shape, using: &g), gs = dy.scalars
        var ref = [Double](repeating: 0, count: x.count)
        for b in 0..<n {
            for i in 0..<ho {
                for j in 0..<wo {
                    for k in 0..<c { ref[((b * h + i / sh) * w + j / sw) * c + k] += Double(gs[((b * ho + i) * wo + j) * c + k]) }
                }
            }
        }
        let dx = UpsampleNearest.backward(dy, scaleH: sh, scaleW: sw).scalars
        for i in 0..<dx.count { XCTAssertEqual(Double(dx[i]), ref[i], accuracy: 1e-5) }
    }
}
