import XCTest
@testable import Tensor

final class ConvLinearGradientTests: XCTestCase {

    // MARK: Convolution

    /// Convolutions with awkward geometry: odd non-square inputs, stride, padding, dilation, groups.
    private var convCases: [(name: String, geometry: Conv2DGeometry, input: [Int])] {
        [
            ("3x3 stride 2 pad 1 bias", Conv2DGeometry(inChannels: 3, outChannels: 4, kernel: 3, stride: 2, padding: 1, bias: true),
             [2, 7, 5, 3]),
            ("3x3 dilation 2 pad 2 groups 2", Conv2DGeometry(inChannels: 4, outChannels: 6, kernel: 3, padding: 2, dilation: 2, groups: 2),
             [2, 7, 5, 4]),
            ("depthwise 3x3 pad 1 bias", Conv2DGeometry(inChannels: 4, outChannels: 4, kernel: 3, padding: 1, groups: 4, bias: true),
             [2, 5, 7, 4]),
            ("depthwise x2 stride 2 no pad", Conv2DGeometry(inChannels: 3, outChannels: 6, kernel: 3, stride: 2, groups: 3, bias: true),
             [1, 7, 6, 3]),
            ("3x2 kernel stride 2x1 pad 1x0 dilation 1x2",
             Conv2DGeometry(inChannels: 2, outChannels: 3, kernelH: 3, kernelW: 2, strideH: 2, strideW: 1,
                            padH: 1, padW: 0, dilationH: 1, dilationW: 2, bias: true),
             [2, 7, 5, 2]),
            ("1x1 no bias", Conv2DGeometry(inChannels: 5, outChannels: 3, kernel: 1), [3, 3, 5, 5]),
            ("2x2 stride 2 (floor drops a row/col)", Conv2DGeometry(inChannels: 2, outChannels: 4, kernel: 2, stride: 2, bias: true),
             [2, 7, 5, 2]),
        ]
    }

    /// Direct convolution in double precision, channels-last input, PyTorch weight layout.
    private func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: Conv2DGeometry) -> (shape: [Int], values: [Double]) {
        let n = x.shape[0], h = x.shape[1], wd = x.shape[2], cin = x.shape[3]
        let (ho, wo) = g.outputSize(h: h, w: wd)
        let cout = g.outChannels, cinG = cin / g.groups, coutG = cout / g.groups
        let xs = x.scalars.map(Double.init), ws = w.scalars.map(Double.init), bs = b?.scalars.map(Double.init)
        var out = [Double](repeating: 0, count: n * ho * wo * cout)
        for b0 in 0..<n {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    for co in 0..<cout {
                        let group = co / coutG
                        var s = bs?[co] ?? 0
                        for ci in 0..<cinG {
                            for ky in 0..<g.kernelH {
                                let iy = oy * g.strideH - g.padH + ky * g.dilationH
                                guard iy >= 0 && iy < h else { continue }
                                for kx in 0..<g.kernelW {
                                    let ix = ox * g.strideW - g.padW + kx * g.dilationW
                                    guard ix >= 0 && ix < wd else { continue }
                                    let xv = xs[((b0 * h + iy) * wd + ix) * cin + group * cinG + ci]
                                    let wv = ws[((co * cinG + ci) * g.kernelH + ky) * g.kernelW + kx]
                                    s += xv * wv
                                }
                            }
                        }
                        out[((b0 * ho + oy) * wo + ox) * cout + co] = s
                    }
                }
            }
        }
        return ([n, ho, wo, cout], out)
    }

    func testConvForwardMatchesNaive() {
        var rng = SeededGenerator(seed: 80)
        for c in convCases {
            let kernel = Conv2DKernel(c.geometry)
            let x = Tensor.randomNormal(c.input, using: &rng)
            let w = Tensor.randomNormal(c.geometry.weightShape, std: 0.5, using: &rng)
            let b = c.geometry.hasBias ? Tensor.randomNormal([c.geometry.outChannels], using: &rng) : nil
            let y = kernel.forward(x, weight: w, bias: b)
            let ref = naiveConv(x, w, b, c.geometry)
            XCTAssertEqual(y.shape, ref.shape, c.name)
            guard y.shape == ref.shape else { continue }
            let ys = y.scalars
            var worst = 0.0
            for i in 0..<ys.count { worst = max(worst, abs(Double(ys[i]) - ref.values[i])) }
            XCTAssertLessThan(worst, 1e-4, "\(c.name): max abs error \(worst)")
        }
    }

    func testConvGradients() {
        var rng = SeededGenerator(seed: 81)
        for c in convCases {
            let geometry = c.geometry
            let kernel = Conv2DKernel(geometry)
            let x = Tensor.randomNormal(c.input, using: &rng)
            let w = Tensor.randomNormal(geometry.weightShape, std: 0.5, using: &rng)
            var inputs = [x, w]
            if geometry.hasBias { inputs.append(Tensor.randomNormal([geometry.outChannels], using: &rng)) }
            let errors = GradientCheck.relativeErrors(
                inputs: inputs,
                forward: { xs in kernel.forward(xs[0], weight: xs[1], bias: xs.count > 2 ? xs[2] : nil) },
                backward: { dy, xs in
                    let dx = kernel.backwardData(dy, weight: xs[1], inputShape: xs[0].shape)
                    let (dw, db) = kernel.backwardWeights(dy, input: xs[0])
                    if geometry.hasBias { XCTAssertNotNil(db, c.name) } else { XCTAssertNil(db, c.name) }
                    return geometry.hasBias ? [dx, dw, db] : [dx, dw]
                })
            XCTAssertEqual(errors.count, inputs.count)
            assertSmall(errors, c.name)
        }
    }

    // MARK: Linear

    func testLinearForwardMatchesNaive() {
        var rng = SeededGenerator(seed: 82)
        let x = Tensor.randomNormal([2, 3, 5], using: &rng)
        let w = Tensor.randomNormal([4, 5], using: &rng)
        let b = Tensor.randomNormal([4], using: &rng)
        for bias in [b, nil] as [Tensor?] {
            let y = Linear.forward(x, weight: w, bias: bias)
            XCTAssertEqual(y.shape, [2, 3, 4])
            for r in 0..<6 {
                for o in 0..<4 {
                    var s = Double(bias?.scalars[o] ?? 0)
                    for i in 0..<5 { s += Double(x.scalars[r * 5 + i]) * Double(w.scalars[o * 5 + i]) }
                    XCTAssertEqual(Double(y.scalars[r * 4 + o]), s, accuracy: 1e-5)
                }
            }
        }
    }

    func testLinearGradients() {
        var rng = SeededGenerator(seed: 83)
        let x = Tensor.randomNormal([2, 3, 5], using: &rng)
        let w = Tensor.randomNormal([7, 5], using: &rng)
        let b = Tensor.randomNormal([7], using: &rng)
        let withBias = GradientCheck.relativeErrors(
            inputs: [x, w, b],
            forward: { Linear.forward($0[0], weight: $0[1], bias: $0[2]) },
            backward: { dy, xs in
                let p = Linear.backwardParameters(dy, input: xs[0], hasBias: true)
                return [Linear.backwardInput(dy, weight: xs[1]), p.weight, p.bias]
            })
        assertSmall(withBias, "linear with bias")
        let noBias = GradientCheck.relativeErrors(
            inputs: [Tensor.randomNormal([9, 3], using: &rng), Tensor.randomNormal([2, 3], using: &rng)],
            forward: { Linear.forward($0[0], weight: $0[1], bias: nil) },
            backward: { dy, xs in
                let p = Linear.backwardParameters(dy, input: xs[0], hasBias: false)
                XCTAssertNil(p.bias)
                return [Linear.backwardInput(dy, weight: xs[1]), p.weight]
            })
        assertSmall(noBias, "linear without bias")
    }

    // MARK: Element-wise

    func testReLUGradient() {
        var rng = SeededGenerator(seed: 84)
        // Keep every input at least 0.05 from the kink; the check's step is 0.01.
        var x = Tensor.randomNormal([3, 5, 7], using: &rng)
        x.withUnsafeMutableBufferPointer { b in
            for i in b.indices { b[i] = b[i] < 0 ? b[i] - 0.05 : b[i] + 0.05 }
        }
        let y = ReLU.forward(x)
        for i in 0..<x.count { XCTAssertEqual(y.scalars[i], max(x.scalars[i], 0)) }
        let errors = GradientCheck.relativeErrors(
            inputs: [x], step: 1e-2, forward: { ReLU.forward($0[0]) },
            backward: { dy, xs in [ReLU.backward(dy, output: ReLU.forward(xs[0]))] })
        assertSmall(errors, "ReLU")
    }

    func testAddAndMultiplyGradients() {
        var rng = SeededGenerator(seed: 85)
        let a = Tensor.randomNormal([3, 7, 2], using: &rng)
        let b = Tensor.randomNormal([3, 7, 2], using: &rng)
        let sum = Elementwise.add(a, b), product = Elementwise.multiply(a, b)
        for i in 0..<a.count {
            XCTAssertEqual(sum.scalars[i], a.scalars[i] + b.scalars[i])
            XCTAssertEqual(product.scalars[i], a.scalars[i] * b.scalars[i])
        }
        assertSmall(GradientCheck.relativeErrors(
            inputs: [a, b], forward: { Elementwise.add($0[0], $0[1]) },
            backward: { dy, _ in [dy, dy] }), "add")
        assertSmall(GradientCheck.relativeErrors(
            inputs: [a, b], forward: { Elementwise.multiply($0[0], $0[1]) },
            backward: { dy, xs in [Elementwise.multiply(dy, xs[1]), Elementwise.multiply(dy, xs[0])] }), "multiply")
    }

    /// Enough rows that the bias gradient is reduced over several chunks.
    func testLinearParameterGradientsWithManyRows() {
        var rng = SeededGenerator(seed: 86)
        let rows = 6000, inF = 3, outF = 5
        let x = Tensor.randomNormal([rows, inF], using: &rng)
        let dy = Tensor.randomNormal([rows, outF], using: &rng)
        let p = Linear.backwardParameters(dy, input: x, hasBias: true)
        let xs = x.scalars, gs = dy.scalars
        for o in 0..<outF {
            var db = 0.0
            for r in 0..<rows { db += Double(gs[r * outF + o]) }
            XCTAssertEqual(Double(p.bias!.scalars[o]), db, accuracy: 1e-3)
            for i in 0..<inF {
                var dw = 0.0
                for r in 0..<rows { dw += Double(gs[r * outF + o]) * Double(xs[r * inF + i]) }
                XCTAssertEqual(Double(p.weight.scalars[o * inF + i]), dw, accuracy: 1e-3)
            }
        }
    }
}
