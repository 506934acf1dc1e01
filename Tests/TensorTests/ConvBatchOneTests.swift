import XCTest
@testable import Tensor

/// A batch of one image must work in every conv direction (a final partial batch, per-sample gradients).
final class ConvBatchOneTests: XCTestCase {
    func testBatchOfOneForwardAndBackward() {
        for (g, shape) in [(Conv2DGeometry(inChannels: 4, outChannels: 8, kernel: 1, stride: 2), [1, 16, 16, 4]),
                           (Conv2DGeometry(inChannels: 3, outChannels: 5, kernel: 3, stride: 1, padding: 1, bias: true), [1, 7, 5, 3])] {
            var gen = SeededGenerator(seed: 1)
            let x = Tensor.randomNormal(shape, using: &gen), w = Tensor.randomNormal(g.weightShape, using: &gen)
            let b: Tensor? = g.hasBias ? Tensor.randomNormal([g.outChannels], using: &gen) : nil
            let kernel = Conv2DKernel(g)
            let y = kernel.forward(x, weight: w, bias: b)
            let dy = Tensor.randomNormal(y.shape, using: &gen)
            let (dw, _) = kernel.backwardWeights(dy, input: x)
            let dx = kernel.backwardData(dy, weight: w, inputShape: x.shape)
            // Against the same computation on a batch of two identical images, halved.
            let x2 = Concat.forward([x, x], axis: 0), dy2 = Concat.forward([dy, dy], axis: 0)
            let k2 = Conv2DKernel(g)
            _ = k2.forward(x2, weight: w, bias: b)
            let (dw2, _) = k2.backwardWeights(dy2, input: x2)
            for (a, c) in zip(dw.scalars, dw2.scalars) { XCTAssertEqual(a, c / 2, accuracy: 1e-4 * max(1, abs(c))) }
            XCTAssertEqual(dx.shape, x.shape)
        }
    }

    func testSmallBatchesOfOneByOneConvolutions() {
        for n in 1...5 {
            for stride in [1, 2] {
                let g = Conv2DGeometry(inChannels: 4, outChannels: 8, kernel: 1, stride: stride, bias: true)
                var gen = SeededGenerator(seed: UInt64(n))
                let x = Tensor.randomNormal([n, 8, 8, 4], using: &gen), w = Tensor.randomNormal(g.weightShape, using: &gen)
                let kernel = Conv2DKernel(g)
                let y = kernel.forward(x, weight: w, bias: Tensor(zeros: [8]))
                let (dw, db) = kernel.backwardWeights(y, input: x)
                // dW = sum over images and positions of dy x^T: naive check of one entry.
                var expected = 0.0
                for b in 0..<n { for i in 0..<y.shape[1] { for j in 0..<y.shape[2] {
                    expected += Double(y[b, i, j, 3]) * Double(x[b, i * stride, j * stride, 2])
                } } }
                XCTAssertEqual(Double(dw[3, 2, 0, 0]), expected, accuracy: 1e-3 * max(1, abs(expected)), "n \(n) stride \(stride)")
                XCTAssertEqual(db?.count, 8)
            }
        }
    }
}
