import NN
import Tensor
import XCTest

/// The YOLOv8 head's DFL decoding: a hand-computed case and finite differences.
final class DetectHeadTests: XCTestCase {
    private func inputs(seed: UInt64) -> [Tensor] {
        var g = SeededGenerator(seed: seed)
        return [Tensor.randomNormal([2, 4, 4, 64], using: &g), Tensor.randomNormal([2, 4, 4, 3], using: &g),
                Tensor.randomNormal([2, 2, 2, 64], using: &g), Tensor.randomNormal([2, 2, 2, 3], using: &g)]
    }

    func testUniformBinsDecodeToTheAnchorCentre() throws {
        let head = DetectDecodeLayer(classes: 3, strides: [8, 16])
        let zeros = [Tensor(zeros: [1, 4, 4, 64]), Tensor(zeros: [1, 4, 4, 3]), Tensor(zeros: [1, 2, 2, 64]), Tensor(zeros: [1, 2, 2, 3])]
        XCTAssertEqual(try head.outputShape(zeros.map(\.shape)), [1, 20, 7])
        var context = ForwardContext(training: false)
        let y = head.forward(zeros, context: &context).scalars
        // Anchor 5 of level 0 is (x 1.5, y 1.5); every side's distance is the mean bin, 7.5.
        let centre: [Float] = [12, 12, 120, 120, 0.5, 0.5, 0.5]
        XCTAssertEqual(Array(y[35..<42]), centre)
        // The first anchor of level 1 (stride 16) is (0.5, 0.5).
        let first: [Float] = [8, 8, 240, 240]
        XCTAssertEqual(Array(y[112..<116]), first)
        XCTAssertEqual(head.macs(inputShapes: zeros.map(\.shape), outputShape: [1, 20, 7]), 16 * 4 * 20)
    }

    func testGradientsMatchFiniteDifferences() {
        let head = DetectDecodeLayer(classes: 3, strides: [8, 16])
        let errors = GradientCheck.relativeErrors(inputs: inputs(seed: 4), step: 1e-2, forward: { xs in
            var context = ForwardContext(training: true)
            return head.forward(xs, context: &context)
        }, backward: { g, xs in
            var context = ForwardContext(training: true)
            _ = head.forward(xs, context: &context)
            return head.backward(g, needsInputGradient: [true, true, true, true])
        })
        for (i, e) in errors.enumerated() { XCTAssertLessThan(e, 2e-3, "input \(i)") }
        XCTAssertNil(head.dflWeight.grad)
    }

    func testSiLUAndUpsampleLayers() {
        var g = SeededGenerator(seed: 9)
        let x = Tensor.randomNormal([2, 3, 3, 4], using: &g)
        for layer in [SiLULayer() as any Layer, UpsampleNearestLayer(scale: 2)] {
            let errors = GradientCheck.relativeErrors(inputs: [x], forward: { xs in
                var context = ForwardContext(training: true)
                return layer.forward(xs, context: &context)
            }, backward: { grad, xs in
                var context = ForwardContext(training: true)
                _ = layer.forward(xs, context: &context)
                return layer.backward(grad, needsInputGradient: [true])
            })
            XCTAssertLessThan(errors[0], 2e-3, layer.kind)
        }
        XCTAssertEqual(UpsampleNearestLayer(scale: 2).macs(inputShapes: [[1, 3, 3, 4]], outputShape: [1, 6, 6, 4]), 144)
    }
}
