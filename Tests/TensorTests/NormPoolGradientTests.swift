import XCTest
@testable import Tensor

/// Batch norm and pooling: gradient checks, naive references, running statistics.
final class NormPoolGradientTests: XCTestCase {
    private func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return .randomUniform(shape, low: low, high: high, using: &g)
    }

    func testBatchNormTrainingGradients() {
        for (shape, fused) in [([3, 5, 4, 3], false), ([2, 3, 7, 5], false), ([3, 4, 5, 2], true)] {
            let c = shape[3]
            let kernel = BatchNormKernel(channels: c, fusedReLU: fused)
            let x = random(shape, seed: 1), gamma = random([c], seed: 2, low: 0.5, high: 1.5), beta = random([c], seed: 3)
            func fwd(_ xs: [Tensor]) -> Tensor {
                var rm = Tensor(zeros: [c]), rv = Tensor(repeating: 1, shape: [c])
                return kernel.forwardTraining(xs[0], gamma: xs[1], beta: xs[2], runningMean: &rm, runningVar: &rv, momentum: 0.1).0
            }
            // Fused: outputs within the step of ReLU's kink would flip; a smaller step keeps them put.
            let errors = GradientCheck.relativeErrors(inputs: [x, gamma, beta], step: fused ? 1e-3 : 1e-2, forward: fwd) { dy, xs in
                var rm = Tensor(zeros: [c]), rv = Tensor(repeating: 1, shape: [c])
                let saved = kernel.forwardTraining(xs[0], gamma: xs[1], beta: xs[2], runningMean: &rm, runningVar: &rv, momentum: 0.1).1
                let g = kernel.backward(dy, input: xs[0], gamma: xs[1], beta: xs[2], saved: saved)
                return [g.input, g.gamma, g.beta]
            }
            for e in errors { XCTAssertLessThan(e, 1e-3, "shape \(shape) fused \(fused)") }
        }
    }

    func testBatchNormMatchesNaiveAndUpdatesRunningStatisticsLikePyTorch() {
        let shape = [4, 3, 5, 6], c = 6
        let x = random(shape, seed: 4), gamma = random([c], seed: 5), beta = random([c], seed: 6)
        let kernel = BatchNormKernel(channels: c, epsilon: 1e-5)
        var rm = random([c], seed: 7), rv = random([c], seed: 8, low: 0.5, high: 1.5)
        let (rm0, rv0) = (rm, rv)
        let (y, saved) = kernel.forwardTraining(x, gamma: gamma, beta: beta, runningMean: &rm, runningVar: &rv, momentum: 0.1)
        let n = shape[0] * shape[1] * shape[2]
        for ch in 0..<c {
            var mean = 0.0, sq = 0.0
            for i in 0..<n { mean += Double(x.pointer[i * c + ch]) }
            mean /= Double(n)
            for i in 0..<n { sq += pow(Double(x.pointer[i * c + ch]) - mean, 2) }
            let variance = sq / Double(n)
            XCTAssertEqual(Double(saved.mean.pointer[ch]), mean, accuracy: 1e-5)
            XCTAssertEqual(Double(saved.variance.pointer[ch]), variance, accuracy: 1e-5)
            XCTAssertEqual(Double(rm.pointer[ch]), 0.9 * Double(rm0.pointer[ch]) + 0.1 * mean, accuracy: 1e-5)
            XCTAssertEqual(Double(rv.pointer[ch]), 0.9 * Double(rv0.pointer[ch]) + 0.1 * variance * Double(n) / Double(n - 1), accuracy: 1e-5)
            for i in 0..<n {
                let expected = (Double(x.pointer[i * c + ch]) - mean) / (variance + 1e-5).squareRoot() * Double(gamma.pointer[ch]) + Double(beta.pointer[ch])
                XCTAssertEqual(Double(y.pointer[i * c + ch]), expected, accuracy: 1e-4)
            }
        }
        // Eval mode uses the running statistics.
        let e = kernel.forwardInference(x, gamma: gamma, beta: beta, runningMean: rm, runningVar: rv)
        let expected0 = (x.pointer[0] - rm.pointer[0]) / (rv.pointer[0] + 1e-5).squareRoot() * gamma.pointer[0] + beta.pointer[0]
        XCTAssertEqual(e.pointer[0], expected0, accuracy: 1e-5)
    }

    func testMaxAndAveragePoolGradients() {
        let cases: [(Pool2DKernel.Kind, Pool2DGeometry, [Int])] = [
            (.max, .init(kernel: 2), [2, 6, 4, 3]),
            (.max, .init(kernel: 3, stride: 2, padding: 1), [2, 7, 5, 2]),
            (.average, .init(kernel: 2), [2, 5, 6, 3]),
            (.average, .init(kernel: 3, stride: 2, padding: 1), [1, 7, 6, 2]),
            (.average, .init(kernelH: 3, kernelW: 2, strideH: 1, strideW: 2, padH: 0, padW: 1), [2, 5, 5, 2]),
        ]
        for (kind, geometry, shape) in cases {
            let kernel = Pool2DKernel(kind, geometry)
            // Distinct values far apart so no max changes under the finite-difference step.
            var g = SeededGenerator(seed: 9)
            let count = shape.reduce(1, *)
            var order = Array(0..<count); order.shuffle(using: &g)
            let x = Tensor(shape: shape, values: order.map { Float($0) * 0.1 })
            let errors = GradientCheck.relativeErrors(inputs: [x], step: 1e-2, forward: { kernel.forward($0[0]).output }) { dy, xs in
                let ws = kernel.forward(xs[0]).workspace
                return [kernel.backward(dy, inputShape: xs[0].shape, workspace: ws)]
            }
            XCTAssertLessThan(errors[0], 1e-3, "\(kind) \(geometry) \(shape)")
        }
    }

    func testAveragePoolCountsPaddingLikePyTorch() {
        // count_include_pad=True: a corner window of a 3x3/1 pool with padding 1 divides by 9.
        let x = Tensor(repeating: 1, shape: [1, 3, 3, 1])
        let y = Pool2DKernel(.average, .init(kernel: 3, stride: 1, padding: 1)).forward(x).output
        XCTAssertEqual(y.pointer[0], 4.0 / 9.0, accuracy: 1e-6)
        XCTAssertEqual(y.pointer[4], 1, accuracy: 1e-6)
    }

    func testAdaptiveAveragePoolMatchesPyTorchWindowsAndGradients() {
        // 5 -> 3: PyTorch's windows are [0,2), [1,4), [3,5).
        let x = Tensor(shape: [1, 5, 1, 1], values: [1, 2, 3, 4, 5])
        let y = AdaptiveAveragePool2D.forward(x, outputH: 3, outputW: 1)
        XCTAssertEqual(y.scalars, [1.5, 3, 4.5])
        for (shape, out) in [([2, 7, 5, 3], (3, 2)), ([2, 4, 4, 2], (1, 1)), ([1, 6, 9, 2], (4, 5))] {
            let x = random(shape, seed: 10)
            let errors = GradientCheck.relativeErrors(inputs: [x], forward: {
                AdaptiveAveragePool2D.forward($0[0], outputH: out.0, outputW: out.1)
            }) { dy, xs in [AdaptiveAveragePool2D.backward(dy, inputShape: xs[0].shape)] }
            XCTAssertLessThan(errors[0], 1e-3, "\(shape) -> \(out)")
        }
    }

    func testLayoutRoundTrip() {
        let x = random([2, 3, 4, 5], seed: 11)
        let nhwc = ChannelsLast.fromNCHW(x)
        XCTAssertEqual(nhwc.shape, [2, 4, 5, 3])
        XCTAssertEqual(nhwc[1, 2, 3, 1], x[1, 1, 2, 3])
        XCTAssertEqual(ChannelsLast.toNCHW(nhwc).scalars, x.scalars)
    }
}

#if canImport(Glibc)
import Glibc
#endif
