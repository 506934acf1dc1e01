import XCTest
@testable import Tensor

final class LayerNormGradientTests: XCTestCase {

    /// Naive double-precision layer norm over the last axis.
    private func naive(_ x: Tensor, _ w: Tensor, _ b: Tensor, eps: Double) -> (y: [Double], mean: [Double], rstd: [Double]) {
        let d = x.shape.last!, rows = x.count / d
        let xs = x.scalars, ws = w.scalars, bs = b.scalars
        var y = [Double](repeating: 0, count: x.count), mean = [Double](), rstd = [Double]()
        for r in 0..<rows {
            let row = (0..<d).map { Double(xs[r * d + $0]) }
            let m = row.reduce(0, +) / Double(d)
            let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d)
            let rs = 1 / (v + eps).squareRoot()
            for j in 0..<d { y[r * d + j] = (row[j] - m) * rs * Double(ws[j]) + Double(bs[j]) }
            mean.append(m)
            rstd.append(rs)
        }
        return (y, mean, rstd)
    }

    func testForwardMatchesNaive() {
        var g = SeededGenerator(seed: 1)
        for (shape, eps) in [([2, 3, 7], 1e-5), ([5, 13], 1e-6), ([1, 1, 4, 33], 1e-5)] as [([Int], Double)] {
            let x = Tensor.randomNormal(shape, mean: 0.5, std: 2, using: &g)
            let d = shape.last!
            let w = Tensor.randomNormal([d], mean: 1, std: 0.5, using: &g)
            let b = Tensor.randomNormal([d], using: &g)
            let (y, mean, rstd) = LayerNorm.forward(x, weight: w, bias: b, eps: Float(eps))
            XCTAssertEqual(y.shape, shape)
            XCTAssertEqual(mean.shape, Array(shape.dropLast()))
            XCTAssertEqual(rstd.shape, Array(shape.dropLast()))
            let ref = naive(x, w, b, eps: eps)
            for i in 0..<y.count { XCTAssertEqual(Double(y.scalars[i]), ref.y[i], accuracy: 1e-5, "y[\(i)] for \(shape)") }
            for r in 0..<mean.count {
                XCTAssertEqual(Double(mean.scalars[r]), ref.mean[r], accuracy: 1e-6)
                XCTAssertEqual(Double(rstd.scalars[r]), ref.rstd[r], accuracy: 1e-5 * ref.rstd[r])
            }
        }
    }

    func testConstantRowIsFinite() {
        let x = Tensor(repeating: 3, shape: [2, 5])
        let w = Tensor(repeating: 1, shape: [5]), b = Tensor(repeating: 0.25, shape: [5])
        let (y, _, rstd) = LayerNorm.forward(x, weight: w, bias: b)
        XCTAssertTrue(rstd.scalars.allSatisfy { $0.isFinite })
        for v in y.scalars { XCTAssertEqual(v, 0.25, accuracy: 1e-6) }
    }

    func testGradients() {
        var g = SeededGenerator(seed: 2)
        for shape in [[2, 3, 7], [5, 13], [6, 3]] {
            let d = shape.last!
            let x = Tensor.randomNormal(shape, std: 1.5, using: &g)
            let w = Tensor.randomNormal([d], mean: 1, std: 0.5, using: &g)
            let b = Tensor.randomNormal([d], using: &g)
            let errors = GradientCheck.relativeErrors(
                inputs: [x, w, b], step: 1e-2,
                forward: { LayerNorm.forward($0[0], weight: $0[1], bias: $0[2]).output },
                backward: { dy, xs in
                    let f = LayerNorm.forward(xs[0], weight: xs[1], bias: xs[2])
                    let grads = LayerNorm.backward(dy, input: xs[0], weight: xs[1], mean: f.mean, rstd: f.rstd)
                    return [grads.input, grads.weight, grads.bias]
                })
            assertSmall(errors, "layer norm \(shape)")
        }
    }

    /// Enough rows that the backward reduces the parameter gradients over several chunks.
    func testManyRowsMatchNaive() {
        var g = SeededGenerator(seed: 3)
        let rows = 700, d = 50
        let x = Tensor.randomNormal([rows, d], std: 2, using: &g)
        let w = Tensor.randomNormal([d], mean: 1, std: 0.5, using: &g)
        let b = Tensor.randomNormal([d], using: &g)
        let dy = Tensor.randomNormal([rows, d], using: &g)
        let f = LayerNorm.forward(x, weight: w, bias: b)
        let ref = naive(x, w, b, eps: 1e-5)
        let ys = f.output.scalars
        for i in 0..<ys.count { XCTAssertEqual(Double(ys[i]), ref.y[i], accuracy: 1e-5) }
        let grads = LayerNorm.backward(dy, input: x, weight: w, mean: f.mean, rstd: f.rstd)
        let xs = x.scalars, gs = dy.scalars, ws = w.scalars
        var dw = [Double](repeating: 0, count: d), db = [Double](repeating: 0, count: d)
        var dx = [Double](repeating: 0, count: rows * d)
        for r in 0..<rows {
            let xhat = (0..<d).map { (Double(xs[r * d + $0]) - ref.mean[r]) * ref.rstd[r] }
            let gw = (0..<d).map { Double(gs[r * d + $0]) * Double(ws[$0]) }
            let a = gw.reduce(0, +) / Double(d)
            let c = zip(gw, xhat).map { $0 * $1 }.reduce(0, +) / Double(d)
            for j in 0..<d {
                dw[j] += Double(gs[r * d + j]) * xhat[j]
                db[j] += Double(gs[r * d + j])
                dx[r * d + j] = ref.rstd[r] * (gw[j] - a - xhat[j] * c)
            }
        }
        for j in 0..<d {
            XCTAssertEqual(Double(grads.weight.scalars[j]), dw[j], accuracy: 1e-3)
            XCTAssertEqual(Double(grads.bias.scalars[j]), db[j], accuracy: 1e-3)
        }
        let dxs = grads.input.scalars
        for i in 0..<dxs.count { XCTAssertEqual(Double(dxs[i]), dx[i], accuracy: 1e-4) }
    }
}
