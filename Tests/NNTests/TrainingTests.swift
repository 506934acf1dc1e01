import XCTest
import Models
import NN
import Tensor

/// Optimizers, schedules and end-to-end determinism.
final class TrainingTests: XCTestCase {
    private func train(seed: UInt64, steps: Int) -> Model {
        let m = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 8, classes: 3).build()
        ModelInit.initialize(m, seed: seed)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randomNormal([8, 8, 8, 1], using: &g)
        let y: [Int32] = [0, 1, 2, 0, 1, 2, 0, 1]
        var opt = SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
        var ctx = ForwardContext(training: true, seed: seed)
        for _ in 0..<steps {
            m.zeroGradients()
            let logits = m.forward(x, context: &ctx)
            m.backward(CrossEntropy.lossAndGradient(logits: logits, targets: y).gradient)
            opt.step(m.namedParameters)
        }
        return m
    }

    func testSameSeedGivesBitIdenticalWeights() throws {
        let a = try train(seed: 1, steps: 5).stateDict().encoded()
        let b = try train(seed: 1, steps: 5).stateDict().encoded()
        let c = try train(seed: 2, steps: 5).stateDict().encoded()
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    func testTrainingReducesLossOnAFixedBatch() {
        let m = train(seed: 1, steps: 0)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randomNormal([8, 8, 8, 1], using: &g)
        let y: [Int32] = [0, 1, 2, 0, 1, 2, 0, 1]
        var ctx = ForwardContext(training: true)
        let before = CrossEntropy.lossAndGradient(logits: m.forward(x, context: &ctx), targets: y).loss
        let trained = train(seed: 1, steps: 30)
        let after = CrossEntropy.lossAndGradient(logits: trained.forward(x, context: &ctx), targets: y).loss
        XCTAssertLessThan(after, before * 0.5)
    }

    func testSGDMatchesTorchFormulas() {
        // One parameter, two steps, by hand: d = g + wd p; buf = d, then m buf + d; nesterov d + m buf.
        let p = Parameter(Tensor(shape: [1], values: [1]))
        var opt = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        p.grad = Tensor(shape: [1], values: [0.5])
        opt.step([("p", p)])
        var d: Float = 0.5 + 0.01 * 1, buf = d, value: Float = 1 - 0.1 * (d + 0.9 * buf)
        XCTAssertEqual(p.value.scalars[0], value, accuracy: 1e-7)
        opt.step([("p", p)])
        d = 0.5 + 0.01 * value; buf = 0.9 * buf + d; value -= 0.1 * (d + 0.9 * buf)
        XCTAssertEqual(p.value.scalars[0], value, accuracy: 1e-7)
    }

    func testAdamWMatchesTorchFormulas() {
        let p = Parameter(Tensor(shape: [1], values: [2]))
        var opt = AdamW(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        p.grad = Tensor(shape: [1], values: [0.3])
        opt.step([("p", p)])
        let m = 0.1 * 0.3, v = 0.001 * 0.09
        let expected = 2 * (1 - 0.01 * 0.1) - 0.01 * (m / 0.1) / ((v / 0.001).squareRoot() + 1e-8)
        XCTAssertEqual(Double(p.value.scalars[0]), expected, accuracy: 1e-6)
    }

    func testCrossEntropyWithLabelSmoothingMatchesDefinition() {
        let logits = Tensor(shape: [2, 3], values: [1, 2, 3, -1, 0.5, 0])
        let (loss, grad) = CrossEntropy.lossAndGradient(logits: logits, targets: [2, 0], labelSmoothing: 0.1)
        var expected = 0.0
        for (row, t) in [([1.0, 2, 3], 2), ([-1.0, 0.5, 0], 0)] {
            let lse = log(row.map { exp($0) }.reduce(0, +))
            let nll = lse - row[t]
            let smooth = row.map { lse - $0 }.reduce(0, +) / 3
            expected += 0.9 * nll + 0.1 * smooth
        }
        XCTAssertEqual(loss, expected / 2, accuracy: 1e-6)
        // Gradient rows sum to zero.
        XCTAssertEqual(Double(grad.scalars[0..<3].reduce(0, +)), 0, accuracy: 1e-6)
    }

    func testSchedules() {
        let cos = CosineWarmupSchedule(base: 1, totalSteps: 110, warmupSteps: 10, minimum: 0)
        XCTAssertEqual(cos.learningRate(step: 0), 0.01, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(step: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(step: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(step: 110), 0, accuracy: 1e-6)
        let ms = MultiStepSchedule(base: 1, milestones: [5, 8], gamma: 0.1)
        XCTAssertEqual(ms.learningRate(step: 4), 1)
        XCTAssertEqual(ms.learningRate(step: 5), 0.1, accuracy: 1e-7)
        XCTAssertEqual(ms.learningRate(step: 9), 0.01, accuracy: 1e-8)
    }

    func testGradientClippingScalesToMaxNorm() {
        let a = Parameter(Tensor(zeros: [2])), b = Parameter(Tensor(zeros: [1]))
        a.grad = Tensor(shape: [2], values: [3, 0]); b.grad = Tensor(shape: [1], values: [4])
        let norm = clipGradientNorm([("a", a), ("b", b)], maxNorm: 1)
        XCTAssertEqual(norm, 5, accuracy: 1e-9)
        XCTAssertEqual(a.grad!.scalars[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad!.scalars[0], 0.8, accuracy: 1e-5)
    }
}

extension TrainingTests {
    func testAdamWCanExemptVectorsAndTokensFromDecay() {
        let matrix = Parameter(Tensor(repeating: 1, shape: [2, 2])), bias = Parameter(Tensor(repeating: 1, shape: [2]))
        let token = Parameter(Tensor(repeating: 1, shape: [1, 1, 2]))
        for p in [matrix, bias, token] { p.grad = p.value.zerosLike() }
        var opt = AdamW(learningRate: 0.1, weightDecay: 0.5, decayMatricesOnly: true)
        opt.step([("fc.weight", matrix), ("fc.bias", bias), ("cls_token", token)])
        XCTAssertEqual(matrix.value.scalars[0], 0.95, accuracy: 1e-6)
        XCTAssertEqual(bias.value.scalars[0], 1)
        XCTAssertEqual(token.value.scalars[0], 1)
    }
}
