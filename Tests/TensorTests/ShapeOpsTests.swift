import XCTest
@testable import Tensor

final class ShapeOpsTests: XCTestCase {

    /// Row-major multi-index of a flat index.
    private func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rem = flat
        var idx = [Int](repeating: 0, count: shape.count)
        for k in stride(from: shape.count - 1, through: 0, by: -1) {
            idx[k] = rem % shape[k]
            rem /= shape[k]
        }
        return idx
    }

    private func flatIndex(_ idx: [Int], _ shape: [Int]) -> Int {
        zip(idx, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    // MARK: Concat / split

    func testConcatMatchesNaiveOnEveryAxis() {
        var g = SeededGenerator(seed: 70)
        let base = [2, 3, 4]
        for axis in [0, 1, 2, -1, -3] {
            let ax = axis < 0 ? axis + 3 : axis
            let sizes = [1, 3, 2]
            let xs = sizes.map { s -> Tensor in
                var shape = base
                shape[ax] = s
                return Tensor.randomNormal(shape, using: &g)
            }
            let y = Concat.forward(xs, axis: axis)
            var expectedShape = base
            expectedShape[ax] = 6
            XCTAssertEqual(y.shape, expectedShape)
            let ys = y.scalars
            for i in 0..<y.count {
                var idx = multiIndex(i, y.shape)
                var piece = 0
                while idx[ax] >= sizes[piece] { idx[ax] -= sizes[piece]; piece += 1 }
                XCTAssertEqual(ys[i], xs[piece].scalars[flatIndex(idx, xs[piece].shape)], "axis \(axis) element \(i)")
            }
            // Split inverts concat.
            let parts = Split.forward(y, sizes: sizes, axis: axis)
            for (p, x) in zip(parts, xs) {
                XCTAssertEqual(p.shape, x.shape)
                XCTAssertEqual(p.scalars, x.scalars)
            }
            // Concat backward is split.
            let back = Concat.backward(y, sizes: sizes, axis: axis)
            for (p, x) in zip(back, xs) { XCTAssertEqual(p.scalars, x.scalars) }
        }
    }

    func testSplitEqualPartsAndZeroSizedPiece() {
        var g = SeededGenerator(seed: 71)
        let x = Tensor.randomNormal([3, 6, 5], using: &g)
        let parts = Split.forward(x, parts: 3, axis: 1)
        XCTAssertEqual(parts.map(\.shape), [[3, 2, 5], [3, 2, 5], [3, 2, 5]])
        XCTAssertEqual(Concat.forward(parts, axis: 1).scalars, x.scalars)
        let withEmpty = Split.forward(x, sizes: [0, 5], axis: 2)
        XCTAssertEqual(withEmpty[0].shape, [3, 6, 0])
        XCTAssertEqual(withEmpty[1].scalars, x.scalars)
        let uneven = Split.forward(x, sizes: [1, 4], axis: 2)
        XCTAssertEqual(uneven[0].scalars, x.scalars.enumerated().filter { $0.offset % 5 == 0 }.map(\.element))
        XCTAssertEqual(uneven[1].scalars, x.scalars.enumerated().filter { $0.offset % 5 != 0 }.map(\.element))
    }

    func testSplitBackwardTreatsNilAsZeros() {
        var g = SeededGenerator(seed: 72)
        let a = Tensor.randomNormal([2, 2, 3], using: &g)
        let c = Tensor.randomNormal([2, 1, 3], using: &g)
        let dx = Split.backward([a, nil, c], inputShape: [2, 5, 3], sizes: [2, 2, 1], axis: 1)
        let expected = Concat.forward([a, Tensor(zeros: [2, 2, 3]), c], axis: 1)
        XCTAssertEqual(dx.shape, [2, 5, 3])
        XCTAssertEqual(dx.scalars, expected.scalars)
    }

    func testConcatGradient() {
        var g = SeededGenerator(seed: 73)
        let a = Tensor.randomNormal([2, 3, 5], using: &g)
        let b = Tensor.randomNormal([2, 4, 5], using: &g)
        let c = Tensor.randomNormal([2, 1, 5], using: &g)
        let errors = GradientCheck.relativeErrors(
            inputs: [a, b, c], forward: { Concat.forward($0, axis: 1) },
            backward: { dy, _ in Concat.backward(dy, sizes: [3, 4, 1], axis: 1) })
        assertSmall(errors, "concat")
    }

    func testSplitGradient() {
        var g = SeededGenerator(seed: 74)
        let x = Tensor.randomNormal([3, 5, 7], using: &g)
        let sizes = [2, 4, 1]
        // Flatten the pieces (in reverse order) into one vector so every piece reaches the loss.
        let errors = GradientCheck.relativeErrors(
            inputs: [x],
            forward: { xs in
                let parts = Split.forward(xs[0], sizes: sizes, axis: -1)
                return Concat.forward(parts.reversed().map { $0.reshaped([-1]) }, axis: 0)
            },
            backward: { dy, xs in
                let counts = sizes.map { 3 * 5 * $0 }
                let flat = Split.forward(dy, sizes: counts.reversed(), axis: 0)
                let grads: [Tensor?] = zip(flat.reversed(), sizes).map { $0.0.reshaped([3, 5, $0.1]) }
                return [Split.backward(grads, inputShape: xs[0].shape, sizes: sizes, axis: -1)]
            })
        assertSmall(errors, "split")
    }

    // MARK: Permute

    private func naivePermute(_ x: Tensor, _ axes: [Int]) -> [Float] {
        let outShape = axes.map { x.shape[$0] }
        let xs = x.scalars
        return (0..<x.count).map { i in
            let o = multiIndex(i, outShape)
            var src = [Int](repeating: 0, count: axes.count)
            for (k, a) in axes.enumerated() { src[a] = o[k] }
            return xs[flatIndex(src, x.shape)]
        }
    }

    func testPermuteMatchesNaiveAndRoundTrips() {
        var g = SeededGenerator(seed: 75)
        let cases: [([Int], [Int])] = [
            ([2, 3, 4, 5], [0, 3, 1, 2]),   // NHWC -> NCHW
            ([2, 3, 4, 5], [0, 2, 3, 1]),   // NCHW -> NHWC
            ([2, 3, 4, 5], [3, 2, 1, 0]),
            ([2, 3, 4, 5], [1, 0, 2, 3]),
            ([2, 3, 4, 5], [0, 1, 2, 3]),   // identity
            ([1, 3, 1, 5], [2, 0, 3, 1]),   // unit axes
            ([3, 1, 5], [2, 1, 0]),
            ([7, 5], [1, 0]),
            ([4, 2, 3, 2, 3], [2, 0, 4, 1, 3]),
            ([2, 3, 5, 2, 3, 2], [2, 0, 1, 3, 5, 4]),
        ]
        for (shape, axes) in cases {
            let x = Tensor.randomNormal(shape, using: &g)
            let y = Permute.forward(x, axes: axes)
            XCTAssertEqual(y.shape, axes.map { shape[$0] })
            XCTAssertEqual(y.scalars, naivePermute(x, axes), "permute \(shape) by \(axes)")
            let back = Permute.backward(y, axes: axes)
            XCTAssertEqual(back.shape, shape)
            XCTAssertEqual(back.scalars, x.scalars)
        }
        XCTAssertEqual(Permute.inverse([2, 0, 3, 1]), [1, 3, 0, 2])
    }

    func testPermuteGradient() {
        var g = SeededGenerator(seed: 76)
        let x = Tensor.randomNormal([2, 3, 5, 4], using: &g)
        let axes = [0, 3, 1, 2]
        let errors = GradientCheck.relativeErrors(
            inputs: [x], forward: { Permute.forward($0[0], axes: axes) },
            backward: { dy, _ in [Permute.backward(dy, axes: axes)] })
        assertSmall(errors, "permute")
    }

    func testFlatten() {
        let x = Tensor(zeros: [2, 3, 4, 5])
        XCTAssertEqual(Flatten.forward(x).shape, [2, 60])
        XCTAssertEqual(Flatten.forward(x, startAxis: 1, endAxis: 2).shape, [2, 12, 5])
        XCTAssertEqual(Flatten.forward(x, startAxis: 0, endAxis: -2).shape, [24, 5])
        XCTAssertEqual(Flatten.forward(x, startAxis: 2, endAxis: 2).shape, [2, 3, 4, 5])
        XCTAssertEqual(Flatten.backward(Tensor(zeros: [2, 60]), inputShape: [2, 3, 4, 5]).shape, [2, 3, 4, 5])
    }

    /// Enough rows for several parallel chunks (and odometers that start mid-tensor).
    func testLargeShapesMatchNaive() {
        var g = SeededGenerator(seed: 77)
        let x = Tensor.randomNormal([4, 64, 33, 16], using: &g)
        for axes in [[0, 3, 1, 2], [0, 2, 3, 1], [2, 1, 3, 0]] {
            XCTAssertEqual(Permute.forward(x, axes: axes).scalars, naivePermute(x, axes), "permute by \(axes)")
        }
        let a = Tensor.randomNormal([3000, 4], using: &g), b = Tensor.randomNormal([3000, 7], using: &g)
        let y = Concat.forward([a, b], axis: 1), ys = y.scalars
        let as_ = a.scalars, bs = b.scalars
        for r in 0..<3000 {
            for j in 0..<4 { XCTAssertEqual(ys[r * 11 + j], as_[r * 4 + j]) }
            for j in 0..<7 { XCTAssertEqual(ys[r * 11 + 4 + j], bs[r * 7 + j]) }
        }
        let parts = Split.forward(y, sizes: [4, 7], axis: 1)
        XCTAssertEqual(parts[0].scalars, as_)
        XCTAssertEqual(parts[1].scalars, bs)
    }
}
