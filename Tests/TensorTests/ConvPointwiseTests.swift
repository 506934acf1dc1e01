import XCTest
@testable import Tensor

/// The 1x1 weight gradient (a GEMM over the subsampled input) against direct sums in double.
final class ConvPointwiseTests: XCTestCase {
    func testPointwiseWeightGradientMatchesDirectSums() {
        // The first shape deadlocked oneDNN 2.6's jit_1x1 AVX2 kernel with two threads.
        let cases: [(n: Int, hw: (Int, Int), ic: Int, oc: Int, stride: Int, bias: Bool)] = [
            (32, (28, 28), 4, 8, 2, false), (3, (7, 6), 5, 3, 1, true), (2, (9, 9), 3, 4, 2, true), (1, (5, 8), 6, 2, 3, false),
        ]
        for c in cases {
            let g = Conv2DGeometry(inChannels: c.ic, outChannels: c.oc, kernel: 1, stride: c.stride, bias: c.bias)
            XCTAssertTrue(g.isPointwise)
            var gen = SeededGenerator(seed: UInt64(c.n * 100 + c.ic))
            let x = Tensor.randomNormal([c.n, c.hw.0, c.hw.1, c.ic], using: &gen)
            let (ho, wo) = g.outputSize(h: c.hw.0, w: c.hw.1)
            let dy = Tensor.randomNormal([c.n, ho, wo, c.oc], using: &gen)
            let (dw, db) = Conv2DKernel(g).backwardWeights(dy, input: x)
            XCTAssertEqual(dw.shape, [c.oc, c.ic, 1, 1])
            for o in 0..<c.oc {
                var bias = 0.0
                for i in 0..<c.ic {
                    var sum = 0.0
                    for b in 0..<c.n { for y in 0..<ho { for z in 0..<wo {
                        sum += Double(dy[b, y, z, o]) * Double(x[b, y * c.stride, z * c.stride, i])
                        if i == 0 { bias += Double(dy[b, y, z, o]) }
                    } } }
                    XCTAssertEqual(Double(dw[o, i, 0, 0]), sum, accuracy: 1e-4 * max(1, abs(sum)), "\(c) dW[\(o), \(i)]")
                }
                if c.bias { XCTAssertEqual(Double(try! XCTUnwrap(db)[o]), bias, accuracy: 1e-4 * max(1, abs(bias)), "\(c) db[\(o)]") }
            }
            XCTAssertEqual(db == nil, !c.bias)
        }
    }

    func testPaddedOrGroupedOneByOneIsNotPointwise() {
        XCTAssertFalse(Conv2DGeometry(inChannels: 4, outChannels: 4, kernel: 1, padding: 1).isPointwise)
        XCTAssertFalse(Conv2DGeometry(inChannels: 4, outChannels: 4, kernel: 1, groups: 2).isPointwise)
        XCTAssertFalse(Conv2DGeometry(inChannels: 4, outChannels: 4, kernel: 3, padding: 1).isPointwise)
    }
}
