import XCTest
@testable import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class AttentionGradientTests: XCTestCase {
    /// Naive double-precision attention straight from timm's code: split the packed qkv with
    /// reshape(N, L, 3, H, Dh).permute(2, 0, 3, 1, 4), softmax(q k^T * scale) v, heads concatenated.
    private func naive(_ qkv: Tensor, heads: Int, scale: Double) -> (out: [Double], probs: [Double]) {
        let n = qkv.shape[0], l = qkv.shape[1], c3 = qkv.shape[2], c = c3 / 3, dh = c / heads
        let x = qkv.scalars.map(Double.init)
        func at(_ b: Int, _ t: Int, _ which: Int, _ h: Int, _ d: Int) -> Double {
            x[b * l * c3 + t * c3 + which * c + h * dh + d]
        }
        var out = [Double](repeating: 0, count: n * l * c)
        var probs = [Double](repeating: 0, count: n * heads * l * l)
        for b in 0..<n {
            for h in 0..<heads {
                for i in 0..<l {
                    var logits = [Double](repeating: 0, count: l)
                    for j in 0..<l {
                        var s = 0.0
                        for d in 0..<dh { s += at(b, i, 0, h, d) * at(b, j, 1, h, d) }
                        logits[j] = s * scale
                    }
                    let m = logits.max()!
                    let e = logits.map { exp($0 - m) }
                    let z = e.reduce(0, +)
                    for j in 0..<l { probs[((b * heads + h) * l + i) * l + j] = e[j] / z }
                    for d in 0..<dh {
                        var s = 0.0
                        for j in 0..<l { s += e[j] / z * at(b, j, 2, h, d) }
                        out[(b * l + i) * c + h * dh + d] = s
                    }
                }
            }
        }
        return (out, probs)
    }

    func testForwardMatchesNaive() {
        var g = SeededGenerator(seed: 40)
        for (n, l, heads, dh, scale) in [(2, 5, 2, 3, nil), (3, 4, 3, 2, nil), (1, 7, 1, 5, Float(0.7)), (2, 1, 2, 4, nil)]
            as [(Int, Int, Int, Int, Float?)] {
            let qkv = Tensor.randomNormal([n, l, 3 * heads * dh], using: &g)
            let (out, probs) = Attention.forward(qkv: qkv, heads: heads, scale: scale)
            XCTAssertEqual(out.shape, [n, l, heads * dh])
            XCTAssertEqual(probs.shape, [n, heads, l, l])
            let ref = naive(qkv, heads: heads, scale: Double(scale ?? 1 / Float(dh).squareRoot()))
            let os = out.scalars, ps = probs.scalars
            for i in 0..<os.count { XCTAssertEqual(Double(os[i]), ref.out[i], accuracy: 1e-5, "out[\(i)]") }
            for i in 0..<ps.count { XCTAssertEqual(Double(ps[i]), ref.probs[i], accuracy: 1e-6, "probs[\(i)]") }
        }
    }

    func testGradient() {
        var g = SeededGenerator(seed: 41)
        for (n, l, heads, dh, scale) in [(2, 5, 2, 3, nil), (3, 4, 3, 2, nil), (1, 6, 1, 5, Float(0.4))]
            as [(Int, Int, Int, Int, Float?)] {
            let qkv = Tensor.randomNormal([n, l, 3 * heads * dh], using: &g)
            let errors = GradientCheck.relativeErrors(
                inputs: [qkv], step: 1e-2,
                forward: { Attention.forward(qkv: $0[0], heads: heads, scale: scale).output },
                backward: { dy, xs in
                    let p = Attention.forward(qkv: xs[0], heads: heads, scale: scale).probabilities
                    return [Attention.backward(dy, qkv: xs[0], probabilities: p, heads: heads, scale: scale)]
                })
            for (i, e) in errors.enumerated() {
                XCTAssertLessThan(e, 1e-3, "attention N\(n) L\(l) H\(heads) Dh\(dh): input \(i) error \(e)")
            }
        }
    }
}
