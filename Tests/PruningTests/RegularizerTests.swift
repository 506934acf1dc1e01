import Experiments
import XCTest
import Data
import Models
import NN
import Tensor
@testable import Pruning

/// The sparsity regularizers (pruning-semantics.md §8): their added gradients against naive
/// closed forms, GrowingReg's growth, and a short sparse training on Fashion-MNIST showing each
/// one sparsifies what it targets.
final class RegularizerTests: XCTestCase {
    // MARK: - A naive reference of the group slices and closed forms

    /// One regularized slice set, found independently of `RegularizerSlices`.
    struct NaiveSlice { let p: Parameter; let axis: Int; let indices: [Int]; let roots: [Int] }

    static func naiveSlices(_ g: Group, _ graph: DependencyGraph, convLinear: Bool = true, bn: Bool = true) -> [NaiveSlice] {
        var out: [NaiveSlice] = []
        for item in g.items where item.target.node >= 0 {
            let layer = graph.model.nodes[item.target.node].layer
            if let c = layer as? Conv2d, convLinear {
                out.append(NaiveSlice(p: c.weight, axis: item.target.side == .out ? 0 : 1, indices: item.indices, roots: item.rootIndices))
            } else if let l = layer as? LinearLayer, convLinear {
                out.append(NaiveSlice(p: l.weight, axis: item.target.side == .out ? 0 : 1, indices: item.indices, roots: item.rootIndices))
            } else if let b = layer as? BatchNorm2d, bn {
                out.append(NaiveSlice(p: b.weight, axis: 0, indices: item.indices, roots: item.rootIndices))
            }
        }
        return out
    }

    /// For each element of `p`, its slice index along `axis` (row for 0, column for 1).
    static func sliceIndex(_ p: Parameter, _ e: Int, _ axis: Int) -> Int {
        let s = p.value.shape
        if s.count == 1 { return e }
        let inner = s.dropFirst(2).reduce(1, *)
        return axis == 0 ? e / (s[1] * inner) : (e / inner) % s[1]
    }

    /// Σθ² per root channel over the slices, and the number of slices (the mean's divisor).
    static func sumSquares(_ slices: [NaiveSlice], channels: Int) -> (sums: [Float], n: Int) {
        var sums = [Float](repeating: 0, count: channels)
        for s in slices {
            let root = Dictionary(uniqueKeysWithValues: zip(s.indices, s.roots))
            for (e, v) in s.p.value.scalars.enumerated() {
                if let r = root[sliceIndex(s.p, e, s.axis)] { sums[r] += v * v }
            }
        }
        return (sums, slices.count)
    }

    /// Adds `c[root] · θ` to `expected[p]` over every slice.
    static func addExpected(_ expected: inout [ObjectIdentifier: [Float]], _ slices: [NaiveSlice], _ c: [Float]) {
        for s in slices {
            let root = Dictionary(uniqueKeysWithValues: zip(s.indices, s.roots))
            var e = expected[ObjectIdentifier(s.p)] ?? [Float](repeating: 0, count: s.p.value.count)
            for (k, v) in s.p.value.scalars.enumerated() {
                if let r = root[sliceIndex(s.p, k, s.axis)] { e[k] += c[r] * v }
            }
            expected[ObjectIdentifier(s.p)] = e
        }
    }

    static let ignored: Set<String> = ["linear"]

    /// A tiny CIFAR ResNet-18 with random weights (γ of both signs) and zero gradients.
    static func tinyModel(seed: UInt64 = 3) -> Model {
        let model = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 8, classes: 10).build()
        var g = SeededGenerator(seed: seed)
        for (name, p) in model.namedState {
            let n = p.value.count
            let values: [Float] = name.hasSuffix("running_var") ? (0..<n).map { _ in 0.5 + g.nextUniform() }
                : (0..<n).map { _ in g.nextNormal() * 0.3 }
            p.value = Tensor(shape: p.value.shape, values: values)
        }
        zeroGradients(model)
        return model
    }

    static func zeroGradients(_ model: Model) {
        for (_, p) in model.namedParameters { p.grad = Tensor(zeros: p.value.shape) }
    }

    /// Every parameter's gradient equals `expected` (zero where absent), to float tolerance.
    static func assertGradients(_ model: Model, _ expected: [ObjectIdentifier: [Float]], _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        var checked = 0
        for (name, p) in model.namedParameters {
            let got = p.grad!.scalars
            let want = expected[ObjectIdentifier(p)] ?? [Float](repeating: 0, count: got.count)
            let scale = max(want.map(abs).max() ?? 0, 1e-12)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale + 1e-12, "\(what): \(name)", file: file, line: line)
            if want.contains(where: { $0 != 0 }) { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 10, "\(what): too few parameters regularized", file: file, line: line)
    }

    // MARK: - (1) closed forms

    func testBNScaleAddsLambdaSignGamma() throws {
        let model = Self.tinyModel()
        let reg = BNScaleRegularizer(graph: try DependencyGraph(model: model), lambda: 1e-3)
        reg.regularize()
        var expected: [ObjectIdentifier: [Float]] = [:]
        for node in model.nodes.dropFirst() {
            guard let bn = node.layer as? BatchNorm2d else { continue }
            expected[ObjectIdentifier(bn.weight)] = bn.weight.value.scalars.map { $0 > 0 ? 1e-3 : ($0 < 0 ? -1e-3 : 0) }
        }
        Self.assertGradients(model, expected, "bnscale")
        XCTAssertEqual(reg.timing.calls, 1)
        XCTAssertGreaterThan(reg.timing.totalSeconds, 0)

        // Only parameters that have a gradient are updated; ignored BatchNorms are left alone.
        Self.zeroGradients(model)
        let bn1 = model.node(named: "bn1")!.layer as! BatchNorm2d
        bn1.weight.grad = nil
        let ignoring = BNScaleRegularizer(graph: try DependencyGraph(model: model), lambda: 1e-3, ignoredLayers: ["layer1"])
        ignoring.regularize()
        XCTAssertNil(bn1.weight.grad)
        let inLayer1 = model.node(named: "layer1.0.bn1")!.layer as! BatchNorm2d
        XCTAssertEqual(inLayer1.weight.grad!.scalars, [Float](repeating: 0, count: inLayer1.channels))
        let inLayer2 = model.node(named: "layer2.0.bn1")!.layer as! BatchNorm2d
        XCTAssertEqual(inLayer2.weight.grad!.scalars.map(abs), [Float](repeating: 1e-3, count: inLayer2.channels))
    }

    func testBNScaleGroupLassoAddsGammaOverGroupNorm() throws {
        let model = Self.tinyModel()
        let graph = try DependencyGraph(model: model)
        let reg = BNScaleRegularizer(graph: graph, lambda: 1e-3, groupLasso: true, ignoredLayers: Self.ignored)
        reg.regularize()
        var expected: [ObjectIdentifier: [Float]] = [:]
        for g in graph.allGroups(ignoring: Self.ignored) {
            let slices = Self.naiveSlices(g, graph, convLinear: false)
            if slices.isEmpty { continue }
            let (sums, n) = Self.sumSquares(slices, channels: graph.channels(g.root)!)
            Self.addExpected(&expected, slices, sums.map { 1e-3 / ($0 / Float(n) + 1e-9).squareRoot() })
        }
        Self.assertGradients(model, expected, "bnscale group lasso")
    }

    func testGroupLassoAddsWeightOverCoupledGroupNorm() throws {
        let model = Self.tinyModel()
        let graph = try DependencyGraph(model: model)
        let reg = GroupLassoRegularizer(graph: graph, lambda: 1e-3, ignoredLayers: Self.ignored)
        reg.regularize()
        var expected: [ObjectIdentifier: [Float]] = [:]
        let groups = graph.allGroups(ignoring: Self.ignored)
        XCTAssertEqual(groups.count, 12)
        for g in groups {
            let slices = Self.naiveSlices(g, graph)
            let (sums, n) = Self.sumSquares(slices, channels: graph.channels(g.root)!)
            Self.addExpected(&expected, slices, sums.map { 1e-3 / ($0 / Float(n) + 1e-9).squareRoot() })
        }
        Self.assertGradients(model, expected, "group lasso")
        // The classifier's input columns belong to the last stage's group and are regularized.
        let fc = model.node(named: "linear")!.layer as! LinearLayer
        XCTAssertTrue(fc.weight.grad!.scalars.contains { $0 != 0 })
    }

    /// GroupNorm with the mean (default) and max normalizers: γ is the same, as it is min–max.
    func testGroupNormAddsAdaptiveStrengthTimesWeight() throws {
        for normalizer in [ScoreNormalizer.mean, .max] {
            let model = Self.tinyModel()
            let graph = try DependencyGraph(model: model)
            let reg = GroupNormRegularizer(graph: graph, lambda: 1e-3, criterion: GroupMagnitude.l2(normalizer: normalizer),
                                           ignoredLayers: Self.ignored)
            reg.regularize()
            var expected: [ObjectIdentifier: [Float]] = [:]
            for g in graph.allGroups(ignoring: Self.ignored) {
                let slices = Self.naiveSlices(g, graph)
                let (sums, n) = Self.sumSquares(slices, channels: graph.channels(g.root)!)
                let scores = sums.map { $0 / Float(n) }, mean = scores.reduce(0, +) / Float(scores.count)
                let imp = scores.map { ($0 / mean).squareRoot() }
                let hi = imp.max()!, lo = imp.min()!
                let gamma = imp.map { Float(pow(16.0, Double((hi - $0) / (hi - lo)))) }
                XCTAssertEqual(gamma.max()!, 16, accuracy: 1e-3); XCTAssertEqual(gamma.min()!, 1, accuracy: 1e-6)
                Self.addExpected(&expected, slices, gamma.map { 1e-3 * $0 })
            }
            Self.assertGradients(model, expected, "groupnorm \(normalizer)")
        }
    }

    /// Equal scores (here: every out row of a 1-channel group identical) give γ = 1, not NaN.
    func testGroupNormEqualScoresGiveBaseStrength() throws {
        let model = Self.tinyModel()
        let graph = try DependencyGraph(model: model)
        let reg = GroupNormRegularizer(graph: graph, lambda: 1e-3, ignoredLayers: Self.ignored)
        // Make every channel of the first per-block group identical: all its coupled weights equal.
        let g = graph.allGroups(ignoring: Self.ignored).first { graph.name($0.rootNode) == "layer1.0.conv1" }!
        for s in Self.naiveSlices(g, graph) { s.p.value = Tensor(repeating: 0.5, shape: s.p.value.shape) }
        XCTAssertEqual(reg.strengths(g), [Float](repeating: 1, count: graph.channels(g.root)!))
        reg.regularize()
        for (_, p) in model.namedParameters { XCTAssertFalse(p.grad!.scalars.contains { $0.isNaN }) }
    }

    /// ViT: the group lasso regularizes exactly the slices MagnitudeL2 scores (attention qkv/proj
    /// as Linears, LayerNorm γ): Σ ∇·θ over all parameters equals λ Σ_g Σ_k n_g·s_k/√(s_k + 10⁻⁹).
    /// GroupNorm leaves LayerNorm alone.
    func testViTGroupLassoCoversScoredSlices() throws {
        let model = ViTBuilder(imageSize: 8, patchSize: 4, inputChannels: 1, embedDim: 12, depth: 2, heads: 2,
                               mlpHidden: 16, classes: 5).build()
        var gen = SeededGenerator(seed: 9)
        for (_, p) in model.namedState {
            p.value = Tensor(shape: p.value.shape, values: (0..<p.value.count).map { _ in gen.nextNormal() * 0.3 })
        }
        Self.zeroGradients(model)
        let graph = try DependencyGraph(model: model)
        let lambda: Float = 1e-3
        GroupLassoRegularizer(graph: graph, lambda: lambda, ignoredLayers: ["head"]).regularize()
        var expected = 0.0
        for g in graph.allGroups(ignoring: ["head"]) {
            let n = Scoring.magnitudeContributions(g, graph, p: 2, kinds: [.convLinear, .batchNorm, .layerNorm], bias: false).count
            let s = GroupMagnitude.l2(normalizer: .none).scores(of: g, in: graph)!
            expected += s.reduce(0.0) { $0 + Double(lambda) * Double(n) * Double($1) / Double(($1 + 1e-9).squareRoot()) }
        }
        var got = 0.0, layerNormGrad = 0.0
        for (name, p) in model.namedParameters {
            let d = zip(p.grad!.scalars, p.value.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            got += d
            if (graph.model.node(named: String(name.split(separator: ".").dropLast().joined(separator: ".")))?.layer is LayerNormLayer) {
                layerNormGrad += abs(d)
            }
        }
        XCTAssertEqual(got, expected, accuracy: 1e-4 * expected)
        XCTAssertGreaterThan(layerNormGrad, 0, "LayerNorm γ is part of the group lasso")
        let attention = model.nodes.compactMap { $0.layer as? AttentionLayer }.first!
        for p in [attention.qkvWeight, attention.projWeight] { XCTAssertTrue(p.grad!.scalars.contains { $0 != 0 }) }

        Self.zeroGradients(model)
        GroupNormRegularizer(graph: graph, lambda: lambda, ignoredLayers: ["head"]).regularize()
        for node in model.nodes {
            guard let ln = node.layer as? LayerNormLayer else { continue }
            XCTAssertTrue(ln.weight.grad!.scalars.allSatisfy { $0 == 0 }, "GroupNorm does not regularize LayerNorm")
        }
        XCTAssertTrue(attention.qkvWeight.grad!.scalars.contains { $0 != 0 })
    }

    /// The row keys build the benchmark's regularizers with their defaults; the classifier is found.
    func testRegistryRegularizersAndClassifier() throws {
        let model = Self.tinyModel()
        XCTAssertEqual(SparsityRegularizers.classifierLayers(of: model, classes: 10), ["linear"])
        let made = try Regularizer.allCases.map { try SparsityRegularizers.make($0, model: model) }
        XCTAssertEqual(made.map(\.name), ["bnscale", "bnscale_group_lasso", "groupnorm", "growingreg", "grouplasso"])
        XCTAssertEqual(made.map(\.lambda), [1e-5, 1e-5, 1e-4, 1e-5, 1e-4])
        XCTAssertEqual((made[3] as! GrowingRegRegularizer).delta, 1e-4, "the benchmark's δ")
        XCTAssertNil(Regularizer(rawValue: "l2"), "a criterion row has no regularizer")
    }

    // MARK: - (3) GrowingReg grows

    func testGrowingRegPenaltyGrowsPerEpoch() throws {
        let model = Self.tinyModel()
        let graph = try DependencyGraph(model: model)
        let lambda: Float = 1e-5, delta: Float = 1e-4
        let reg = GrowingRegRegularizer(graph: graph, lambda: lambda, delta: delta, ignoredLayers: Self.ignored)
        let groups = graph.allGroups(ignoring: Self.ignored)
        XCTAssertEqual(reg.strengths.count, groups.count)

        // Standardized unimportance per group (weights stay fixed: no training here).
        let unimportance: [[Float]] = groups.map { g in
            let (sums, n) = Self.sumSquares(Self.naiveSlices(g, graph), channels: graph.channels(g.root)!)
            let scores = sums.map { $0 / Float(n) }, mean = scores.reduce(0, +) / Float(scores.count)
            let s = scores.map { $0 / mean }
            return s.map { (s.max()! - $0) / (s.max()! - s.min()! + 1e-8) }
        }
        var previousWeakest: Float = 0
        for epoch in 0...3 {
            if epoch > 0 { reg.epochEnded() }
            for (gi, u) in unimportance.enumerated() {
                for (k, x) in u.enumerated() {
                    XCTAssertEqual(reg.strengths[gi][k], lambda + Float(epoch) * delta * x, accuracy: 1e-3 * delta,
                                   "epoch \(epoch), group \(gi), channel \(k)")
                }
            }
            // The added gradient: λ_{g,root(i)}·θ, so the weakest channel's penalty grows by δ a call.
            Self.zeroGradients(model)
            reg.regularize()
            var expected: [ObjectIdentifier: [Float]] = [:]
            for (gi, g) in groups.enumerated() { Self.addExpected(&expected, Self.naiveSlices(g, graph), reg.strengths[gi]) }
            Self.assertGradients(model, expected, "growingreg epoch \(epoch)")
            let weakest = reg.strengths[0].max()!
            XCTAssertEqual(weakest, lambda + Float(epoch) * delta, accuracy: 1e-9)
            if epoch > 0 { XCTAssertGreaterThan(weakest, previousWeakest) }
            XCTAssertEqual(reg.strengths[0].min()!, lambda, accuracy: 1e-9, "the most important channel keeps λ")
            previousWeakest = weakest
        }
        XCTAssertEqual(reg.timing.calls, 4)
        reg.updateGroups()
        XCTAssertTrue(reg.strengths.allSatisfy { $0.allSatisfy { $0 == lambda } }, "update_regularizer resets λ")
    }

    // MARK: - (2) sparse training on Fashion-MNIST

    /// Per group, the norm of each root channel over all its coupled weights (√Σθ²).
    static func channelNorms(_ graph: DependencyGraph) -> [[Float]] {
        graph.allGroups(ignoring: ignored).map { g in
            Scoring.reduce(Scoring.magnitudeContributions(g, graph, p: 2, kinds: [.convLinear, .batchNorm], bias: false), .sum)!
                .map { $0.squareRoot() }
        }
    }

    /// Mean over groups of (lower-quartile channel norm / median channel norm): how far the weak
    /// channels of each group have been pushed below the typical one.
    static func quartileRatio(_ norms: [[Float]]) -> Double {
        let ratios = norms.filter { $0.count >= 4 }.map { n -> Double in
            let s = n.sorted()
            return Double(s[s.count / 4]) / Double(max(s[s.count / 2], 1e-12))
        }
        return ratios.reduce(0, +) / Double(ratios.count)
    }

    struct SparseRun {
        var meanAbsGamma: Double, smallGammaFraction: Double, quartileRatio: Double, accuracy: Double
        var regularizeMs: Double
    }

    /// Trains a width-1/16 CIFAR ResNet-18 on 1x16x16 Fashion-MNIST (the first 2,048 training
    /// images, bilinear resize) with SGD (lr 0.05, momentum 0.9, weight decay 0) for `steps`
    /// batches of 32, with `regularizer` (nil: none) applied after every backward;
    /// GrowingReg's per-epoch update runs every 16 steps (a pseudo-epoch). Same seed, data order and
    /// initialization for every run.
    static func sparseTrain(_ data: Dataset, regularizer: Regularizer?, lambda: Float, delta: Float = 0, steps: Int) throws -> SparseRun {
        let model = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 16, classes: 10).build()
        ModelInit.initialize(model, seed: 11)
        let reg = try regularizer.map {
            try SparsityRegularizers.make($0, model: model, ignoredLayers: ignored, lambda: lambda, delta: delta)
        }
        let loader = try BatchLoader(dataset: data, batchSize: 32, shuffle: true, seed: 5,
                                     transform: .fashionMNIST(augment: false, resizeTo: 16), dropLast: true, prefetch: false)
        var optimizer = SGD(learningRate: 0.05, momentum: 0.9)
        var context = ForwardContext(training: true, seed: 5)
        var step = 0, epoch = 0
        while step < steps {
            for batch in loader.epoch(epoch) where step < steps {
                model.zeroGradients()
                let logits = model.forward(batch.images, context: &context)
                let (_, grad) = CrossEntropy.lossAndGradient(logits: logits, targets: batch.labels)
                model.backward(grad)
                reg?.regularize()
                optimizer.step(model.namedParameters)
                step += 1
                if step % 16 == 0 { reg?.epochEnded() }
            }
            epoch += 1
        }
        // Accuracy on the training subset's first 512 images (eval mode): the runs still learn.
        let eval = try BatchLoader(dataset: data.prefix(512), batchSize: 128, shuffle: false,
                                   transform: .fashionMNIST(augment: false, resizeTo: 16), prefetch: false)
        var correct = 0, eval0 = ForwardContext(training: false)
        for batch in eval.epoch(0) {
            correct += Accuracy.correct(logits: model.forward(batch.images, context: &eval0), targets: batch.labels)
        }
        let gammas = model.nodes.compactMap { ($0.layer as? BatchNorm2d)?.weight.value.scalars }.flatMap { $0 }.map { abs(Double($0)) }
        let graph = try DependencyGraph(model: model)
        return SparseRun(meanAbsGamma: gammas.reduce(0, +) / Double(gammas.count),
                         smallGammaFraction: Double(gammas.filter { $0 < 0.05 }.count) / Double(gammas.count),
                         quartileRatio: quartileRatio(channelNorms(graph)), accuracy: Double(correct) / 512,
                         regularizeMs: (reg?.timing.meanSeconds ?? 0) * 1000)
    }

    /// Each regularizer visibly sparsifies what it targets, compared with no regularizer. λ is far
    /// larger than the benchmark's (5·10⁻⁴ on CIFAR, over 100 epochs) so that the effect shows
    /// within 300 steps: BNScale 10⁻², its group lasso 10⁻², GroupNorm 2·10⁻³, GrowingReg λ 10⁻⁴
    /// with δ 3·10⁻³ every 16 steps, group lasso 7·10⁻³. Typical numbers (debug build, ~20 s):
    /// no regularizer mean|γ| 1.00, 0% of |γ| < 0.05, lower-quartile/median channel norm 0.96,
    /// accuracy 0.83; BNScale 0.16, 30%, 0.94, 0.62; BNScale group lasso 0.15, 27%, 0.95, 0.67;
    /// GroupNorm 0.49, 9%, 0.68, 0.78; GrowingReg 0.23, 15%, 0.55, 0.64; group lasso 0.20, 17%,
    /// 0.56, 0.55.
    func testEachRegularizerSparsifiesOnFashionMNIST() throws {
        let data: Dataset
        do { data = try FashionMNIST.load(split: .train).prefix(2048) } catch {
            throw XCTSkip("Fashion-MNIST is not installed (\(error))")
        }
        let steps = 300
        let clock = ContinuousClock.now
        let none = try Self.sparseTrain(data, regularizer: nil, lambda: 0, steps: steps)
        let slim = try Self.sparseTrain(data, regularizer: .slim, lambda: 1e-2, steps: steps)
        let groupSlim = try Self.sparseTrain(data, regularizer: .groupSlim, lambda: 1e-2, steps: steps)
        let groupNorm = try Self.sparseTrain(data, regularizer: .groupSL, lambda: 2e-3, steps: steps)
        let growing = try Self.sparseTrain(data, regularizer: .growingReg, lambda: 1e-4, delta: 3e-3, steps: steps)
        let lasso = try Self.sparseTrain(data, regularizer: .l2Lasso, lambda: 7e-3, steps: steps)
        for (name, r) in [("none", none), ("slim", slim), ("group_slim", groupSlim), ("group_sl", groupNorm),
                          ("growing_reg", growing), ("l2_lasso", lasso)] {
            func f(_ x: Double, _ d: Int = 3) -> String { String(format: "%.\(d)f", x) }
            print("sparse \(name): mean|γ| \(f(r.meanAbsGamma, 4))  |γ|<0.05 \(f(r.smallGammaFraction))  "
                  + "q25/median \(f(r.quartileRatio))  acc \(f(r.accuracy))  reg \(f(r.regularizeMs)) ms/call")
        }
        print("sparse training total \(ContinuousClock.now - clock)")

        // BNScale (L1 on γ): γ's shrink and many reach ~0.
        XCTAssertLessThan(slim.meanAbsGamma, 0.5 * none.meanAbsGamma)
        XCTAssertGreaterThan(slim.smallGammaFraction, none.smallGammaFraction + 0.15)
        XCTAssertLessThan(groupSlim.meanAbsGamma, 0.5 * none.meanAbsGamma)
        XCTAssertGreaterThan(groupSlim.smallGammaFraction, none.smallGammaFraction + 0.15)
        // Group regularizers: the weak quarter of each group's channels is pushed down relative to
        // the median channel.
        XCTAssertLessThan(groupNorm.quartileRatio, 0.8 * none.quartileRatio)
        XCTAssertLessThan(growing.quartileRatio, 0.8 * none.quartileRatio)
        XCTAssertLessThan(lasso.quartileRatio, 0.8 * none.quartileRatio)
    }
}
