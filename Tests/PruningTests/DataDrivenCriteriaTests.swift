import Experiments
import XCTest
import NN
import Models
import Tensor
@testable import Pruning

/// The data-driven criteria (taylor, hessian, obdc, cp, thinet, hrank) on tiny CIFAR models
/// (width 1/16, 1×16×16 inputs) with seeded random calibration batches.
final class DataDrivenCriteriaTests: XCTestCase {
    static let classes = 5

    static func models() -> [(name: String, classifier: String, make: () -> Model)] {
        [("resnet18", "linear", {
            let m = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 16, classes: classes).build()
            PruningPropertyTests.randomize(m, seed: 11)
            return m
         }),
         ("vgg19_bn", "classifier", {
            let m = VGGBuilder(variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 16, classes: classes).build()
            PruningPropertyTests.randomize(m, seed: 12)
            return m
         })]
    }

    static func batches(_ model: Model, count: Int = 2, size: Int = 4, seed: UInt64 = 5) -> [CalibrationBatch] {
        var g = SeededGenerator(seed: seed, stream: 3)
        let s = model.inputShape
        return (0..<count).map { _ in
            let images = Tensor(shape: [size, s[1], s[2], s[0]], values: (0..<(size * s[0] * s[1] * s[2])).map { _ in g.nextNormal() })
            return CalibrationBatch(images: images, labels: (0..<size).map { _ in Int32(g.nextInt(below: classes)) })
        }
    }

    static func criteria(seed: UInt64 = 7) -> [any ImportanceCriterion] {
        Criterion.allCases.filter(\.needsCalibration).map { key in
            var c = PruningConfig(importance: key, globalPruning: true, pruningRatio: 0.3)
            c.seed = seed
            return c.makeCriterion()
        }
    }

    /// Scores of every group (nil entries kept), after one prepare.
    static func allScores(_ criterion: any ImportanceCriterion, _ model: Model, classifier: String) throws -> [[Float]?] {
        let graph = try DependencyGraph(model: model)
        criterion.prepare(graph: graph, batches: batches(model))
        defer { criterion.releaseCalibration() }
        return graph.allGroups(ignoring: [classifier]).map { criterion.scores(of: $0, in: graph) }
    }

    func testEveryCriterionScoresEveryGroupFinitely() throws {
        for (name, classifier, make) in Self.models() {
            let model = make()
            let graph = try DependencyGraph(model: model)
            let groups = graph.allGroups(ignoring: [classifier])
            XCTAssertFalse(groups.isEmpty)
            for criterion in Self.criteria() {
                XCTAssertTrue(criterion.needsCalibration)
                criterion.prepare(graph: graph, batches: Self.batches(model))
                for g in groups {
                    guard let s = criterion.scores(of: g, in: graph) else {
                        XCTFail("\(name) \(criterion.name): no score for group \(graph.name(g.rootNode))"); continue
                    }
                    XCTAssertEqual(s.count, graph.channels(g.root), "\(name) \(criterion.name) \(graph.name(g.rootNode))")
                    XCTAssertTrue(s.allSatisfy { $0.isFinite && $0 >= 0 }, "\(name) \(criterion.name) \(graph.name(g.rootNode)): \(s)")
                }
                criterion.releaseCalibration()
            }
        }
    }

    func testSameSeedSameScores() throws {
        for (name, classifier, make) in Self.models() {
            for (a, b) in zip(Self.criteria(seed: 3), Self.criteria(seed: 3)) {
                let sa = try Self.allScores(a, make(), classifier: classifier)
                let sb = try Self.allScores(b, make(), classifier: classifier)
                XCTAssertEqual(sa.count, sb.count)
                for (x, y) in zip(sa, sb) { XCTAssertEqual(x, y, "\(name) \(a.name)") }
            }
        }
    }

    /// The model's own eval-mode gradient (Model.backward with frozen statistics) of the mean
    /// cross-entropy, summed over `batches`, per parameter name.
    static func modelGradients(_ model: Model, _ batches: [CalibrationBatch]) -> [String: Tensor] {
        model.zeroGradients()
        for b in batches {
            var ctx = ForwardContext(training: true, frozenStatistics: true)
            let logits = model.forward(b.images, context: &ctx)
            model.backward(CrossEntropy.lossAndGradient(logits: logits, targets: b.labels).gradient)
        }
        var out: [String: Tensor] = [:]
        for (n, p) in model.namedParameters { if let g = p.grad { out[n] = g } }
        model.zeroGradients()
        return out
    }

    /// Σ over the group's items of Σ_slice term(w, g), scattered on root channels (reduction sum,
    /// no normalization), written out directly from the layers.
    static func handScores(_ group: Group, _ graph: DependencyGraph, _ grads: [String: Tensor],
                           _ term: (Float, Float) -> Float) -> [Float] {
        var s = [Float](repeating: 0, count: graph.channels(group.root)!)
        for item in group.items where item.target.node >= 0 {
            let node = graph.model.nodes[item.target.node]
            let w: Tensor
            switch node.layer {
            case let c as Conv2d: w = c.weight.value
            case let l as LinearLayer: w = l.weight.value
            case let b as BatchNorm2d: w = b.weight.value
            default: continue
            }
            let g = grads[node.name + ".weight"]!
            let shape = w.shape, wv = w.scalars, gv = g.scalars
            let inner = shape.count > 2 ? shape[2...].reduce(1, *) : 1
            for (i, r) in zip(item.indices, item.rootIndices) {
                var acc: Float = 0
                if shape.count == 1 {
                    acc = term(wv[i], gv[i])
                } else if item.target.side == .out {
                    for k in 0..<(shape[1] * inner) { let e = i * shape[1] * inner + k; acc += term(wv[e], gv[e]) }
                } else {
                    for o in 0..<shape[0] { for k in 0..<inner { let e = (o * shape[1] + i) * inner + k; acc += term(wv[e], gv[e]) } }
                }
                s[r] += acc
            }
        }
        return s
    }

    static func assertClose(_ a: [Float], _ b: [Float], rtol: Float, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let scale = max(b.map(abs).max() ?? 0, 1e-30)
        for (x, y) in zip(a, b) where abs(x - y) > rtol * scale {
            XCTFail("\(message): \(a) vs \(b)", file: file, line: line); return
        }
    }

    func testTaylorEqualsHandFormulaOnOneBatch() throws {
        for (name, classifier, make) in Self.models() {
            let model = make()
            let graph = try DependencyGraph(model: model)
            let batch = Array(Self.batches(model).prefix(1))
            let grads = Self.modelGradients(model, batch)
            let taylor = TaylorImportance(reduction: .sum, normalizer: .none)
            taylor.prepare(graph: graph, batches: batch)
            for g in graph.allGroups(ignoring: [classifier]) {
                let expected = Self.handScores(g, graph, grads) { abs($0 * $1) }
                Self.assertClose(taylor.scores(of: g, in: graph)!, expected, rtol: 1e-4, "\(name) taylor \(graph.name(g.rootNode))")
            }
            // The default criterion is the mean-normalized, mean-reduced version of the same.
            let d = TaylorImportance()
            d.prepare(graph: graph, batches: batch)
            let g0 = graph.allGroups(ignoring: [classifier])[0]
            let raw = taylor.scores(of: g0, in: graph)!
            let mean = raw.reduce(0, +) / Float(raw.count)
            Self.assertClose(d.scores(of: g0, in: graph)!, raw.map { $0 / mean }, rtol: 1e-4, "\(name) taylor default")
        }
    }

    func testHessianIsMeanOfPerSampleSquaredGradients() throws {
        for (name, classifier, make) in Self.models() {
            let model = make()
            let graph = try DependencyGraph(model: model)
            let batches = Self.batches(model)
            // Explicit loop: one forward/backward per sample of the first batch (second batch unused).
            let first = batches[0], n = first.labels.count
            var h: [String: [Float]] = [:]
            for s in 0..<n {
                // Sample s twice (mean loss = ℓ_s), as batch-1 weight gradients trip oneDNN.
                let one = CalibrationBatch(images: first.images.gathering(axis: 0, [s, s]), labels: [first.labels[s], first.labels[s]])
                for (k, g) in Self.modelGradients(model, [one]) {
                    let sq = g.scalars.map { $0 * $0 / Float(n) }
                    h[k] = h[k].map { zip($0, sq).map { $0 + $1 } } ?? sq
                }
            }
            let hTensors = Dictionary(uniqueKeysWithValues: h.map { k, v in
                (k, Tensor(shape: model.namedParameters.first { $0.name == k }!.parameter.value.shape, values: v))
            })
            let hessian = HessianImportance(reduction: .sum, normalizer: .none)
            hessian.prepare(graph: graph, batches: batches)
            for g in graph.allGroups(ignoring: [classifier]) {
                let expected = Self.handScores(g, graph, hTensors) { $0 * $0 * $1 }
                Self.assertClose(hessian.scores(of: g, in: graph)!, expected, rtol: 1e-4, "\(name) hessian \(graph.name(g.rootNode))")
            }
        }
    }

    /// The frozen-statistics backward (batch norm with running statistics) against central
    /// differences of the evaluation-mode loss.
    func testFrozenStatisticsGradientMatchesFiniteDifferences() throws {
        // A well-scaled model (Kaiming init) with non-trivial batch-norm state, so the loss is
        // smooth enough for central differences.
        let model = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 16, classes: Self.classes).build()
        ModelInit.initialize(model, seed: 4)
        var r = SeededGenerator(seed: 21)
        for (name, p) in model.namedState where p.value.rank == 1 {
            let n = p.value.count
            let v: [Float] = name.hasSuffix("running_var") || name.hasSuffix(".weight") ? (0..<n).map { _ in 0.5 + r.nextUniform() }
                : (0..<n).map { _ in 0.2 * r.nextNormal() }
            p.value = Tensor(shape: [n], values: v)
        }
        let batch = Self.batches(model)[0]
        let grads = Self.modelGradients(model, [batch])
        func loss() -> Double { CrossEntropy.lossAndGradient(logits: model(batch.images), targets: batch.labels).loss }
        // Aggregate relative error over probed elements, as ModelFiniteDifferences does (single
        // elements can sit near a ReLU kink).
        for name in ["bn1.weight", "conv1.weight", "layer2.0.bn2.weight", "layer2.0.shortcut.1.weight", "layer3.1.conv1.weight"] {
            let p = model.namedParameters.first { $0.name == name }!.parameter
            let g = grads[name]!.scalars
            var diff = 0.0, norm = 0.0
            for e in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 12)) {
                let old = p.value.scalars, step: Float = 5e-4
                var v = old; v[e] += step; p.value = Tensor(shape: p.value.shape, values: v)
                let up = loss()
                v[e] = old[e] - step; p.value = Tensor(shape: p.value.shape, values: v)
                let down = loss()
                p.value = Tensor(shape: p.value.shape, values: old)
                let numeric = (up - down) / Double(2 * step)
                diff += (numeric - Double(g[e])) * (numeric - Double(g[e])); norm += numeric * numeric
            }
            XCTAssertGreaterThan(norm, 0, name)
            XCTAssertLessThan((diff / norm).squareRoot(), 0.05, name)
        }
    }

    func testOBDCFisherIsPerSampleSquaredGradientOfSampledLabels() throws {
        let (_, classifier, make) = Self.models()[0]
        let model = make()
        let graph = try DependencyGraph(model: model)
        let batches = Self.batches(model)
        let obdc = OBDCImportance(seed: 9, reduction: .sum, normalizer: .none)
        obdc.prepare(graph: graph, batches: batches)
        // Explicit: the same sampled labels, one single-sample backward per sample.
        var generator = SeededGenerator(seed: 9 &+ 1 &* 0x9E37_79B9_7F4A_7C15, stream: 0x0BDC)
        var f: [String: [Float]] = [:]
        for b in batches {
            let labels = OBDCImportance.sampleLabels(model(b.images), &generator)
            for s in 0..<labels.count {
                let one = CalibrationBatch(images: b.images.gathering(axis: 0, [s, s]), labels: [labels[s], labels[s]])
                for (k, g) in Self.modelGradients(model, [one]) where k.hasSuffix(".weight") && g.rank > 1 {
                    let sq = g.scalars.map { $0 * $0 / Float(batches.count) }
                    f[k] = f[k].map { zip($0, sq).map { $0 + $1 } } ?? sq
                }
            }
        }
        for (node, fisher) in obdc.fisher {
            let name = graph.model.nodes[node].name + ".weight"
            Self.assertClose(fisher.scalars, f[name]!, rtol: 1e-3, "obdc F \(name)")
        }
        XCTAssertNil(obdc.fisher[graph.model.nodes.firstIndex { $0.name == classifier }!], "classifier skipped")
        XCTAssertFalse(obdc.fisher.isEmpty)
    }

    func testMatrixRank() {
        // Rank 2: the sum of two outer products; rank 0; full rank identity.
        let u1: [Double] = [1, 2, 3, 4, 5], v1: [Double] = [1, -1, 2], u2: [Double] = [0, 1, 0, 1, 3], v2: [Double] = [2, 0, 1]
        var a = [Double](repeating: 0, count: 15)
        for i in 0..<5 { for j in 0..<3 { a[i * 3 + j] = u1[i] * v1[j] + u2[i] * v2[j] } }
        XCTAssertEqual(HRankImportance.matrixRank(a, rows: 5, cols: 3), 2)
        XCTAssertEqual(HRankImportance.matrixRank(a.enumerated().map { i, _ in a[(i % 5) * 3 + i / 5] }, rows: 3, cols: 5), 2)
        XCTAssertEqual(HRankImportance.matrixRank([Double](repeating: 0, count: 16), rows: 4, cols: 4), 0)
        XCTAssertEqual(HRankImportance.matrixRank((0..<16).map { $0 % 5 == 0 ? 1 : 0 }, rows: 4, cols: 4), 4)
        let solver = SingularValueSolver(rows: 2, cols: 2)
        solver.compute(rowMajor: [3, 0, 0, 4])
        let sv = solver.values.sorted()
        XCTAssertEqual(sv[0], 3, accuracy: 1e-12); XCTAssertEqual(sv[1], 4, accuracy: 1e-12)
    }

    func testCPAndThiNetOnOrthogonalColumns() {
        // Orthogonal columns with squared norms 4, 1, 9, 0: y = Z·1, G = diag(norms), M = 4.
        let norms: [Double] = [4, 1, 9, 0]
        var g = [Double](repeating: 0, count: 16)
        for k in 0..<4 { g[k * 4 + k] = norms[k] }
        // LASSO: β_k enters at λ = ‖z_k‖²/M, so the score is ‖z_k‖² / max.
        XCTAssertEqual(CPImportance.entryScores(gram: g, rows: 4, channels: 4), [4 / 9, 1 / 9, 1, 0])
        // ThiNet: removal order 3, 1, 0, 2 with errors 0, 1/4, 5/4, 14/4.
        XCTAssertEqual(ThiNetImportance.greedyScores(gram: g, rows: 4, channels: 4), [1.25, 0.25, 3.5, 0])
        // Correlated columns: a duplicate of a column enters and everything stays finite.
        let z: [[Double]] = [[1, 0, 1], [0, 1, 0], [1, 1, 1], [2, 0, 2]]   // rows; column 2 = column 0
        var gc = [Double](repeating: 0, count: 9)
        for r in z { for i in 0..<3 { for j in 0..<3 { gc[i * 3 + j] += r[i] * r[j] } } }
        let s = CPImportance.entryScores(gram: gc, rows: 4, channels: 3)
        XCTAssertTrue(s.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(s)")
        XCTAssertEqual(s.max(), 1)
    }

    /// CP's LARS entry points against coordinate-descent LASSO solutions just above and below
    /// each channel's entry λ, on random correlated columns.
    func testCPEntryMatchesCoordinateDescentLasso() {
        var r = SeededGenerator(seed: 8)
        for trial in 0..<4 {
            let m = 12, c = 5
            let z = (0..<(m * c)).map { _ in Double(r.nextNormal()) + (trial % 2 == 0 ? 0 : 0.5) }   // shifted: correlated columns
            var g = [Double](repeating: 0, count: c * c)
            for row in 0..<m { for i in 0..<c { for j in 0..<c { g[i * c + j] += z[row * c + i] * z[row * c + j] } } }
            let zy = (0..<c).map { i in (0..<c).reduce(0.0) { $0 + g[i * c + $1] } }
            let lambdaMax = zy.map(abs).max()! / Double(m)
            func lasso(_ lambda: Double) -> [Double] {
                var b = [Double](repeating: 0, count: c)
                for _ in 0..<20000 {
                    var change = 0.0
                    for k in 0..<c {
                        var rho = zy[k]
                        for j in 0..<c where j != k { rho -= g[k * c + j] * b[j] }
                        let t = Double(m) * lambda
                        let nb = rho > t ? (rho - t) / g[k * c + k] : (rho < -t ? (rho + t) / g[k * c + k] : 0)
                        change = max(change, abs(nb - b[k])); b[k] = nb
                    }
                    if change < 1e-13 { break }
                }
                return b
            }
            let scores = CPImportance.entryScores(gram: g, rows: m, channels: c)
            XCTAssertEqual(scores.max(), 1)
            for k in 0..<c where scores[k] > 0.02 {
                let entry = Double(scores[k]) * lambdaMax
                if scores[k] < 1 { XCTAssertEqual(lasso(entry * 1.01)[k], 0, "trial \(trial) channel \(k) above entry") }
                XCTAssertNotEqual(lasso(entry * 0.99)[k], 0, "trial \(trial) channel \(k) below entry")
            }
        }
    }

    func testPruningStepWithEachCriterion() throws {
        for (name, classifier, make) in Self.models() {
            for key in Criterion.allCases.filter(\.needsCalibration) {
                let model = make()
                let before = model.parameterCount
                var config = PruningConfig(importance: key, globalPruning: key.rawValue.count % 2 == 0, pruningRatio: 0.4,
                                           iterativeSteps: 2, ignoredLayers: [classifier])
                config.seed = 1
                let pruner = try Pruner(model: model, config: config)
                XCTAssertThrowsError(try pruner.run(), "\(key) without calibration")
                var seen: [Int] = []
                pruner.calibration = { step in seen.append(step); return Self.batches(model, seed: UInt64(step)) }
                try pruner.step()
                try pruner.step()
                XCTAssertEqual(seen, [1, 2])
                XCTAssertLessThan(model.parameterCount, before, "\(name) \(key)")
                let out = model(Self.batches(model)[0].images)
                XCTAssertEqual(out.shape, [4, Self.classes])
                XCTAssertTrue(out.scalars.allSatisfy(\.isFinite), "\(name) \(key)")
                XCTAssertTrue(model.namedParameters.allSatisfy { $0.parameter.grad == nil }, "gradients cleared")
            }
        }
    }

    /// Taylor and OBD-Hessian also score ViT groups (layer norm, attention qkv/proj slices); CP
    /// and ThiNet score every ViT group except attention-inner ones (no observable consumer).
    func testViTCriteria() throws {
        for key: Criterion in [.taylor, .hessian, .cp, .thinet] {
            let model = ViTPruningTests.makeModel()
            let graph = try DependencyGraph(model: model)
            let criterion = PruningConfig(importance: key, globalPruning: true, pruningRatio: 0.3).makeCriterion()
            criterion.prepare(graph: graph, batches: Self.batches(model, count: 1, size: 2))
            let groups = graph.allGroups(ignoring: ["head"])
            XCTAssertFalse(groups.isEmpty)
            for g in groups {
                let inner = g.items.contains { $0.target.side == .inner }
                if inner && (key == .cp || key == .thinet) {
                    XCTAssertNil(criterion.scores(of: g, in: graph)); continue
                }
                let s = try XCTUnwrap(criterion.scores(of: g, in: graph), "\(key) \(graph.name(g.rootNode))")
                XCTAssertEqual(s.count, graph.channels(g.root))
                XCTAssertTrue(s.allSatisfy { $0.isFinite && $0 >= 0 }, "\(key) \(graph.name(g.rootNode)): \(s)")
            }
            let pruner = try Pruner(model: model, config: PruningConfig(importance: key, globalPruning: true, pruningRatio: 0.3, ignoredLayers: ["head"]))
            pruner.calibration = { _ in Self.batches(model, count: 1, size: 2) }
            XCTAssertFalse(try pruner.step().isEmpty)
            XCTAssertTrue(model(Self.batches(model, count: 1, size: 2)[0].images).scalars.allSatisfy(\.isFinite))
        }
    }

    func testConfigAcceptsDataDrivenKeys() throws {
        for key in ["taylor", "hessian", "obdc", "cp", "thinet", "hrank"] {
            let c = try PruningConfig.parse(["importance": key, "pruning_ratio": 0.5])
            XCTAssertEqual(c.makeCriterion().name, key)
            XCTAssertTrue(c.makeCriterion().needsCalibration)
        }
        XCTAssertFalse(try PruningConfig.parse(["importance": "l1", "pruning_ratio": 0.5]).makeCriterion().needsCalibration)
    }
}
