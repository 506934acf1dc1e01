import XCTest
import NN
import Tensor
@testable import Pruning

/// Channel concat, channel split (slices) and grouped convolution in the dependency graph
/// (§4.2, §4.3, §4.5, §4.7 of the pruning semantics).
final class ChannelOpsPruningTests: XCTestCase {
    typealias P = PruningPropertyTests

    // MARK: - Layers

    /// Concat and slice forward values, and their backward against central differences of
    /// L = Σ w·y for a fixed random w.
    func testConcatAndSliceForwardAndGradients() {
        var g = SeededGenerator(seed: 5)
        func random(_ shape: [Int]) -> Tensor { Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in g.nextNormal() }) }
        let a = random([2, 3, 2, 3]), b = random([2, 3, 2, 2])
        let concat = ConcatLayer()
        XCTAssertEqual(try concat.outputShape([a.shape, b.shape]), [2, 3, 2, 5])
        XCTAssertThrowsError(try concat.outputShape([[2, 3, 2, 3], [2, 3, 3, 2]]))
        var ctx = ForwardContext(training: true)
        let y = concat.forward([a, b], context: &ctx)
        XCTAssertEqual(y.shape, [2, 3, 2, 5])
        // Channel c < 3 comes from a, else b (channels-last: last axis).
        let (ys, as_, bs) = (y.scalars, a.scalars, b.scalars)
        for p in 0..<12 {
            for c in 0..<5 { XCTAssertEqual(ys[p * 5 + c], c < 3 ? as_[p * 3 + c] : bs[p * 2 + c - 3]) }
        }
        let wy = random(y.shape)
        let grads = concat.backward(wy, needsInputGradient: [true, true])
        for (k, x) in [a, b].enumerated() {
            checkGradient(grads[k]!, of: { xs in
                var c = ForwardContext(training: false)
                let inputs = k == 0 ? [xs, b] : [a, xs]
                return Self.dot(concat.forward(inputs, context: &c), wy)
            }, at: x)
        }

        let pieces = SliceChannelsLayer.split(sizes: [2, 4, 1])
        XCTAssertEqual(pieces.map(\.start), [0, 2, 6])
        let x = random([2, 2, 2, 7])
        for s in pieces {
            XCTAssertEqual(try s.outputShape([x.shape]), [2, 2, 2, s.size])
            var c = ForwardContext(training: true)
            let out = s.forward([x], context: &c)
            let xs = x.scalars, os = out.scalars
            for p in 0..<8 { for j in 0..<s.size { XCTAssertEqual(os[p * s.size + j], xs[p * 7 + s.start + j]) } }
            let w = random(out.shape)
            let gx = s.backward(w, needsInputGradient: [true])[0]!
            checkGradient(gx, of: { xs in
                var c = ForwardContext(training: false)
                return Self.dot(s.forward([xs], context: &c), w)
            }, at: x)
        }
        XCTAssertThrowsError(try SliceChannelsLayer(start: 5, size: 3).outputShape([[1, 1, 1, 7]]))
        // Removal shifts and shrinks the range.
        let s = SliceChannelsLayer(start: 3, size: 4)
        s.remove(inputChannels: [0, 2, 3, 6, 9])
        XCTAssertEqual([s.start, s.size], [1, 2])
    }

    static func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    func checkGradient(_ analytic: Tensor, of f: (Tensor) -> Double, at x: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(analytic.shape, x.shape, file: file, line: line)
        let h: Float = 1e-2
        let base = x.scalars, ga = analytic.scalars
        for i in 0..<base.count {
            var plus = base, minus = base
            plus[i] += h; minus[i] -= h
            let numeric = (f(Tensor(shape: x.shape, values: plus)) - f(Tensor(shape: x.shape, values: minus))) / Double(2 * h)
            XCTAssertEqual(Double(ga[i]), numeric, accuracy: 1e-3, "component \(i)", file: file, line: line)
        }
    }

    // MARK: - Helpers

    /// Zeroes the out weights (and bias) of conv/linear out items and γ/β of batch norms, for every
    /// item of `group`: the group's channels become dead.
    static func zeroOut(_ group: Group, _ model: Model) {
        for item in group.items where item.target.node >= 0 {
            let layer = model.nodes[item.target.node].layer
            if let conv = layer as? Conv2d, item.target.side == .out {
                conv.weight.value = P.zeroing(conv.weight.value, rows: item.indices)
                if let b = conv.bias { b.value = P.zeroing(b.value, rows: item.indices) }
            } else if let linear = layer as? LinearLayer, item.target.side == .out {
                linear.weight.value = P.zeroing(linear.weight.value, rows: item.indices)
                if let b = linear.bias { b.value = P.zeroing(b.value, rows: item.indices) }
            } else if let bn = layer as? BatchNorm2d {
                bn.weight.value = P.zeroing(bn.weight.value, rows: item.indices)
                bn.bias.value = P.zeroing(bn.bias.value, rows: item.indices)
            }
        }
    }

    static func node(_ model: Model, _ name: String) -> Int { model.nodes.firstIndex { $0.name == name }! }
    static func conv(_ model: Model, _ name: String) -> Conv2d { model.node(named: name)!.layer as! Conv2d }
    static func item(_ g: Group, _ graph: DependencyGraph, _ name: String, _ side: ChannelSide) -> [Int]? {
        g.items.first { $0.target.node >= 0 && graph.name($0.target.node) == name && $0.target.side == side }?.indices
    }

    // MARK: - Concat

    /// Two conv branches (4 and 6 channels) concatenated into a 1x1 conv, pooled, classified.
    static func inception() -> Model {
        var b = GraphBuilder(inputShape: [3, 6, 6])
        var a = b.add("a.conv", Conv2d(.init(inChannels: 3, outChannels: 4, kernel: 1)), b.input)
        a = b.add("a.relu", ReLULayer(), b.add("a.bn", BatchNorm2d(channels: 4), a))
        var c = b.add("b.conv", Conv2d(.init(inChannels: 3, outChannels: 6, kernel: 3, padding: 1)), b.input)
        c = b.add("b.relu", ReLULayer(), b.add("b.bn", BatchNorm2d(channels: 6), c))
        var x = b.add("cat", ConcatLayer(), a, c)
        x = b.add("head.conv", Conv2d(.init(inChannels: 10, outChannels: 8, kernel: 1)), x)
        x = b.add("head.relu", ReLULayer(), b.add("head.bn", BatchNorm2d(channels: 8), x))
        x = b.add("pool", AdaptiveAvgPool2d(flatten: true), x)
        x = b.add("fc", LinearLayer(inFeatures: 8, outFeatures: 5), x)
        return b.build(output: x)
    }

    func testConcatCouplesBranchesAtOffsets() throws {
        let model = Self.inception()
        P.randomize(model, seed: 1)
        let graph = try DependencyGraph(model: model)
        XCTAssertEqual(graph.roles[Self.node(model, "cat")], .concat)
        let (a, bc, head) = (Self.node(model, "a.conv"), Self.node(model, "b.conv"), Self.node(model, "head.conv"))

        // Branch b's channels sit after branch a's 4 in the head's input.
        let gb = graph.group(root: PruningTarget(node: bc, side: .out), indices: [1, 4])
        XCTAssertEqual(Self.item(gb, graph, "head.conv", .in), [5, 8])
        XCTAssertEqual(Self.item(gb, graph, "b.bn", .out), [1, 4])
        XCTAssertNil(Self.item(gb, graph, "a.conv", .out))
        let ga = graph.group(root: PruningTarget(node: a, side: .out), indices: [0, 3])
        XCTAssertEqual(Self.item(ga, graph, "head.conv", .in), [0, 3])

        // From the consumer's columns back to both branches (§10.5 two-branch case, conv form).
        let gh = graph.group(root: PruningTarget(node: head, side: .in), indices: [0, 2, 5, 9])
        XCTAssertEqual(Self.item(gh, graph, "a.conv", .out), [0, 2])
        XCTAssertEqual(Self.item(gh, graph, "b.conv", .out), [1, 5])
        XCTAssertEqual(Set(gh.items[0].rootIndices), [0, 2, 5, 9])

        // All groups: the concat does not merge the two branches.
        let roots = graph.allGroups(ignoring: ["fc"]).map { graph.name($0.root.node) }
        XCTAssertEqual(Set(roots), ["a.conv", "b.conv", "head.conv"])

        // Zero the chosen channels, prune them: eval logits unchanged, offsets follow.
        let x = P.input(model, seed: 2)
        Self.zeroOut(gh, model)
        let before = model(x)
        XCTAssertTrue(graph.isValid(gh))
        _ = graph.apply(gh)
        XCTAssertEqual(Self.conv(model, "a.conv").geometry.outChannels, 2)
        XCTAssertEqual(Self.conv(model, "b.conv").geometry.outChannels, 4)
        XCTAssertEqual(Self.conv(model, "head.conv").geometry.inChannels, 6)
        P.assertClose(model(x), before, "concat: pruned dead channels")
        // Offsets are recomputed from current sizes: branch b now starts at 2.
        let gb2 = graph.group(root: PruningTarget(node: bc, side: .out), indices: [0, 3])
        XCTAssertEqual(Self.item(gb2, graph, "head.conv", .in), [2, 5])
    }

    /// §10.5: two Linear branches (32 outputs each) concatenated into fc3; pruning fc3 inputs
    /// {0, 2, 4, 48} removes fc1 {0, 2, 4} and fc2 {16}.
    func testTwoLinearBranchesConcatenated() throws {
        var b = GraphBuilder(inputShape: [8, 1, 1])
        let x0 = b.add("pool", AdaptiveAvgPool2d(flatten: true, functional: true), b.input)
        let h1 = b.add("fc1", LinearLayer(inFeatures: 8, outFeatures: 32), x0)
        let h2 = b.add("fc2", LinearLayer(inFeatures: 8, outFeatures: 32), x0)
        let out = b.add("fc3", LinearLayer(inFeatures: 64, outFeatures: 10), b.add("cat", ConcatLayer(), h1, h2))
        let model = b.build(output: out)
        let graph = try DependencyGraph(model: model)
        let g = graph.group(root: PruningTarget(node: Self.node(model, "fc3"), side: .in), indices: [0, 2, 4, 48])
        XCTAssertEqual(Self.item(g, graph, "fc1", .out), [0, 2, 4])
        XCTAssertEqual(Self.item(g, graph, "fc2", .out), [16])
        _ = graph.apply(g)
        let l = { (n: String) in model.node(named: n)!.layer as! LinearLayer }
        XCTAssertEqual([l("fc1").outFeatures, l("fc2").outFeatures, l("fc3").inFeatures], [29, 31, 60])
    }

    /// §10.5: three nested concats over blocks of 10/20/30/60 channels; local pruning at 0.5 in
    /// 5 steps halves every block.
    func testNestedConcatsLocalPruning() throws {
        var b = GraphBuilder(inputShape: [3, 4, 4])
        let widths = [10, 20, 30, 60]
        let blocks = widths.enumerated().map { (i, w) in
            b.add("block\(i).relu", ReLULayer(), b.add("block\(i).bn", BatchNorm2d(channels: w),
                  b.add("block\(i).conv", Conv2d(.init(inChannels: 3, outChannels: w, kernel: 1)), b.input)))
        }
        let c1 = b.add("cat1", ConcatLayer(), blocks[0], blocks[1])
        let c2 = b.add("cat2", ConcatLayer(), c1, blocks[2])
        let c3 = b.add("cat3", ConcatLayer(), blocks[3], c2)
        let y = b.add("head", Conv2d(.init(inChannels: 120, outChannels: 4, kernel: 1)), c3)
        let pooled = b.add("pool", AdaptiveAvgPool2d(flatten: true), y)
        let model = b.build(output: pooled)
        P.randomize(model, seed: 4)
        let pruner = try Pruner(model: model, config: PruningConfig(importance: .random, globalPruning: false, pruningRatio: 0.5,
                                                                      iterativeSteps: 5, ignoredLayers: ["head"]))
        let x = P.input(model, seed: 5)
        for _ in 0..<5 {
            try pruner.step()
            XCTAssertNoThrow(try model.shapes())
            XCTAssertTrue(model(x).scalars.allSatisfy(\.isFinite))
        }
        XCTAssertEqual(widths.indices.map { Self.conv(model, "block\($0).conv").geometry.outChannels }, [5, 10, 15, 30])
        XCTAssertEqual(Self.conv(model, "head").geometry.inChannels, 60)
    }

    func testInceptionGlobalL2Pruning() throws {
        let model = Self.inception()
        P.randomize(model, seed: 3)
        let macs = try model.counts().macs
        let pruner = try Pruner(model: model, config: PruningConfig(importance: .l2, globalPruning: true, pruningRatio: 0.5,
                                                                      ignoredLayers: ["fc"]))
        try pruner.step()
        XCTAssertFalse(pruner.history.isEmpty)
        XCTAssertNoThrow(try model.shapes())
        let widths = ["a.conv", "b.conv"].map { Self.conv(model, $0).geometry.outChannels }
        XCTAssertEqual(Self.conv(model, "head.conv").geometry.inChannels, widths.reduce(0, +))
        XCTAssertLessThan(try model.counts().macs, macs)
        let logits = model(P.input(model, seed: 4))
        XCTAssertEqual(logits.shape, [2, 5])
        XCTAssertTrue(logits.scalars.allSatisfy(\.isFinite))
        // The history replays onto a fresh copy with the same shapes.
        let fresh = Self.inception()
        try DependencyGraph(model: fresh).replay(pruner.history)
        XCTAssertEqual(try fresh.shapes(), try model.shapes())
    }

    // MARK: - Split

    /// A stem conv (8 channels) split 3/5 into two convs, joined by add or concat.
    static func splitModel(concat: Bool) -> Model {
        var b = GraphBuilder(inputShape: [3, 5, 5])
        var x = b.add("stem.conv", Conv2d(.init(inChannels: 3, outChannels: 8, kernel: 1)), b.input)
        x = b.add("stem.relu", ReLULayer(), b.add("stem.bn", BatchNorm2d(channels: 8), x))
        let pieces = SliceChannelsLayer.split(sizes: [3, 5])
        let s0 = b.add("split.0", pieces[0], x), s1 = b.add("split.1", pieces[1], x)
        let p = b.add("p.conv", Conv2d(.init(inChannels: 3, outChannels: 4, kernel: 3, padding: 1)), s0)
        let q = b.add("q.conv", Conv2d(.init(inChannels: 5, outChannels: 4, kernel: 1)), s1)
        let j = concat ? b.add("join", ConcatLayer(), p, q) : b.add("join", AddLayer(), p, q)
        let y = b.add("pool", AdaptiveAvgPool2d(flatten: true), j)
        let logits = b.add("fc", LinearLayer(inFeatures: concat ? 8 : 4, outFeatures: 3), y)
        return b.build(output: logits)
    }

    func testSplitOffsetsFollowPruning() throws {
        for concat in [false, true] {
            let model = Self.splitModel(concat: concat)
            P.randomize(model, seed: 6)
            let graph = try DependencyGraph(model: model)
            let stem = PruningTarget(node: Self.node(model, "stem.conv"), side: .out)
            let slice = { (n: String) in model.node(named: n)!.layer as! SliceChannelsLayer }
            let x = P.input(model, seed: 7)

            // Step 1: stem channels {1, 4} are piece 0's 1 and piece 1's 1.
            let g1 = graph.group(root: stem, indices: [1, 4])
            XCTAssertEqual(Self.item(g1, graph, "split.0", .out), [1])
            XCTAssertEqual(Self.item(g1, graph, "split.1", .out), [1])
            XCTAssertEqual(Self.item(g1, graph, "p.conv", .in), [1])
            XCTAssertEqual(Self.item(g1, graph, "q.conv", .in), [1])
            Self.zeroOut(g1, model)
            var before = model(x)
            _ = graph.apply(g1)
            XCTAssertEqual([slice("split.0").start, slice("split.0").size, slice("split.1").start, slice("split.1").size], [0, 2, 2, 4])
            XCTAssertEqual([Self.conv(model, "p.conv").geometry.inChannels, Self.conv(model, "q.conv").geometry.inChannels], [2, 4])
            P.assertClose(model(x), before, "split step 1 (concat \(concat))")

            // Step 2, with offsets from the new sizes: stem {2, 5} are both in piece 1 (0 and 3).
            let g2 = graph.group(root: stem, indices: [2, 5])
            XCTAssertNil(Self.item(g2, graph, "split.0", .out))
            XCTAssertEqual(Self.item(g2, graph, "q.conv", .in), [0, 3])
            Self.zeroOut(g2, model)
            before = model(x)
            _ = graph.apply(g2)
            XCTAssertEqual([slice("split.0").start, slice("split.0").size, slice("split.1").start, slice("split.1").size], [0, 2, 2, 2])
            XCTAssertEqual(Self.conv(model, "stem.conv").geometry.outChannels, 4)
            XCTAssertEqual(Self.conv(model, "q.conv").geometry.inChannels, 2)
            P.assertClose(model(x), before, "split step 2 (concat \(concat))")

            // Back from a consumer: q's input 1 is stem channel 2 + 1.
            let gq = graph.group(root: PruningTarget(node: Self.node(model, "q.conv"), side: .in), indices: [1])
            XCTAssertEqual(Self.item(gq, graph, "stem.conv", .out), [3])
            // A slice may not be emptied.
            XCTAssertFalse(graph.isValid(graph.group(root: stem, indices: [0, 1])))

            // The join: add couples p and q outputs; concat offsets q by p's width.
            let gp = graph.group(root: PruningTarget(node: Self.node(model, "q.conv"), side: .out), indices: [1])
            if concat {
                XCTAssertNil(Self.item(gp, graph, "p.conv", .out))
                XCTAssertEqual(Self.item(gp, graph, "fc", .in), [5])
            } else {
                XCTAssertEqual(Self.item(gp, graph, "p.conv", .out), [1])
                XCTAssertEqual(Self.item(gp, graph, "fc", .in), [1])
            }

            // A pruner run on top keeps shapes consistent.
            let pruner = try Pruner(model: model, config: PruningConfig(importance: .l2, globalPruning: false, pruningRatio: 0.5,
                                                                          iterativeSteps: 2, ignoredLayers: ["fc"]))
            try pruner.step(); try pruner.step()
            XCTAssertNoThrow(try model.shapes())
            XCTAssertTrue(model(x).scalars.allSatisfy(\.isFinite))
            XCTAssertEqual(slice("split.0").start, 0)
            XCTAssertEqual(slice("split.1").start, slice("split.0").size)
            XCTAssertEqual(slice("split.0").size + slice("split.1").size, Self.conv(model, "stem.conv").geometry.outChannels)
        }
    }

    // MARK: - Grouped convolution

    /// c1 (4 → w1) → BN → ReLU → grouped 3x3 conv (w1 → w2, `groups`) → BN → ReLU → c3 (w2 → w3)
    /// → pool → fc.
    static func groupedModel(groups: Int, w1: Int = 8, w2: Int = 8, w3: Int = 6) -> Model {
        var b = GraphBuilder(inputShape: [4, 5, 5])
        var x = b.add("c1", Conv2d(.init(inChannels: 4, outChannels: w1, kernel: 1)), b.input)
        x = b.add("relu1", ReLULayer(), b.add("bn1", BatchNorm2d(channels: w1), x))
        x = b.add("gconv", Conv2d(.init(inChannels: w1, outChannels: w2, kernel: 3, padding: 1, groups: groups, bias: true)), x)
        x = b.add("relu2", ReLULayer(), b.add("bn2", BatchNorm2d(channels: w2), x))
        x = b.add("c3", Conv2d(.init(inChannels: w2, outChannels: w3, kernel: 1)), x)
        x = b.add("pool", AdaptiveAvgPool2d(flatten: true), x)
        let logits = b.add("fc", LinearLayer(inFeatures: w3, outFeatures: 3), x)
        return b.build(output: logits)
    }

    /// Whether `removed` (positions in a layer of `c` channels) is the same relative set in each
    /// of `groups` blocks.
    static func isSymmetric(_ removed: [Int], channels c: Int, groups: Int) -> Bool {
        let w = c / groups, s = Set(removed)
        return s.allSatisfy { i in (0..<groups).allSatisfy { s.contains(i % w + $0 * w) } }
    }

    func testGroupedConvGroupsAndZeroedPruning() throws {
        for groups in [2, 4] {
            let model = Self.groupedModel(groups: groups)
            P.randomize(model, seed: 8)
            let graph = try DependencyGraph(model: model)
            let (c1, gc) = (Self.node(model, "c1"), Self.node(model, "gconv"))
            XCTAssertEqual(graph.roles[gc], .conv)
            // In and out of the grouped conv are in different groups, both with grouping = groups.
            let gIn = graph.group(root: PruningTarget(node: c1, side: .out), indices: Array(0..<8))
            let gOut = graph.group(root: PruningTarget(node: gc, side: .out), indices: Array(0..<8))
            XCTAssertNotNil(Self.item(gIn, graph, "gconv", .in))
            XCTAssertNil(Self.item(gIn, graph, "gconv", .out))
            XCTAssertNil(Self.item(gOut, graph, "gconv", .in))
            XCTAssertNotNil(Self.item(gOut, graph, "c3", .in))
            XCTAssertEqual(graph.channelGroups(gIn), groups)
            XCTAssertEqual(graph.channelGroups(gOut), groups)
            XCTAssertEqual(Set(graph.allGroups(ignoring: ["fc"]).map { graph.name($0.root.node) }), ["c1", "gconv", "c3"])
            // Scores of the in-side group are finite and of full length.
            XCTAssertEqual(GroupMagnitude.l2().scores(of: gIn, in: graph)?.count, 8)

            // Zero relative channel 0 of every conv group on both sides, prune: logits unchanged.
            let w = 8 / groups
            let rel = (0..<groups).map { $0 * w }
            let x = P.input(model, seed: 9)
            let pIn = graph.group(root: PruningTarget(node: c1, side: .out), indices: rel)
            let pOut = graph.group(root: PruningTarget(node: gc, side: .out), indices: rel.map { $0 + w - 1 })
            Self.zeroOut(pIn, model)
            Self.zeroOut(pOut, model)
            let before = model(x)
            _ = graph.apply(pIn)
            _ = graph.apply(pOut)
            let g = Self.conv(model, "gconv").geometry
            XCTAssertEqual([g.inChannels, g.outChannels, g.groups], [8 - groups, 8 - groups, groups])
            XCTAssertEqual(Self.conv(model, "gconv").weight.value.shape, [8 - groups, (8 - groups) / groups, 3, 3])
            P.assertClose(model(x), before, "grouped conv (groups \(groups)): pruned dead channels")
            // MACs and parameters equal a fresh model built at the pruned widths.
            let fresh = Self.groupedModel(groups: groups, w1: 8 - groups, w2: 8 - groups)
            XCTAssertEqual(try model.counts(), try fresh.counts())
        }
    }

    func testGroupedConvPrunerRemovesSameRelativeChannels() throws {
        for groups in [2, 4] {
            for global in [false, true] {
                let model = Self.groupedModel(groups: groups, w1: 16, w2: 16)
                P.randomize(model, seed: 10)
                let x = P.input(model, seed: 11)
                let pruner = try Pruner(model: model, config: PruningConfig(importance: .l2, globalPruning: global, pruningRatio: 0.5,
                                                                              iterativeSteps: 2, ignoredLayers: ["fc"]))
                var widths = ["c1": 16, "gconv": 16]
                for _ in 0..<2 {
                    for r in try pruner.step() where r.root != "c3" {
                        XCTAssertTrue(Self.isSymmetric(r.indices, channels: widths[r.root]!, groups: groups),
                                      "groups \(groups) global \(global): \(r.root) removed \(r.indices)")
                        widths[r.root]! -= r.indices.count
                    }
                }
                let g = Self.conv(model, "gconv").geometry
                XCTAssertEqual(g.groups, groups)
                XCTAssertEqual(g.inChannels, Self.conv(model, "c1").geometry.outChannels)
                XCTAssertEqual(g.inChannels % groups, 0)
                XCTAssertEqual(g.outChannels % groups, 0)
                XCTAssertLessThan(g.outChannels, 16)
                XCTAssertNoThrow(try model.shapes())
                XCTAssertTrue(model(x).scalars.allSatisfy(\.isFinite))
                let fresh = Self.groupedModel(groups: groups, w1: g.inChannels, w2: g.outChannels,
                                              w3: Self.conv(model, "c3").geometry.outChannels)
                XCTAssertEqual(try model.counts().macs, try fresh.counts().macs)
                XCTAssertEqual(try model.counts().parameters, try fresh.counts().parameters)
            }
        }
    }

    /// Regularizers accept grouped convs: the in side uses only the first len/G indices (§8.2),
    /// and every gradient stays finite.
    func testRegularizersOnGroupedConv() throws {
        let model = Self.groupedModel(groups: 4)
        P.randomize(model, seed: 12)
        let graph = try DependencyGraph(model: model)
        let gIn = graph.group(root: PruningTarget(node: Self.node(model, "c1"), side: .out), indices: Array(0..<8))
        let slices = RegularizerSlices.slices(of: gIn, in: graph, kinds: [.convLinear, .batchNorm])
        let gconv = Self.conv(model, "gconv")
        let columns = try XCTUnwrap(slices.first { $0.parameter === gconv.weight })
        XCTAssertEqual(columns.indices, [0, 1])
        XCTAssertEqual(columns.roots, [0, 1])
        // Regularizers only update parameters that already have a gradient.
        for (_, p) in model.namedParameters { p.grad = Tensor(zeros: p.value.shape) }
        GroupNormRegularizer(graph: graph, lambda: 1e-3, ignoredLayers: ["fc"]).regularize()
        GroupLassoRegularizer(graph: graph, lambda: 1e-3, ignoredLayers: ["fc"]).regularize()
        BNScaleRegularizer(graph: graph, lambda: 1e-3, groupLasso: true, ignoredLayers: ["fc"]).regularize()
        for (name, p) in model.namedState {
            if let g = p.grad { XCTAssertTrue(g.scalars.allSatisfy(\.isFinite), name) }
        }
        XCTAssertTrue(gconv.weight.grad!.scalars.contains { $0 != 0 })
    }

    /// A depthwise conv (groups = in = out) is still pass-through and shrinks groups.
    func testDepthwiseStaysPassThrough() throws {
        let model = Self.groupedModel(groups: 8)
        let graph = try DependencyGraph(model: model)
        let gc = Self.node(model, "gconv")
        XCTAssertEqual(graph.roles[gc], .depthwiseConv)
        let g = graph.group(root: PruningTarget(node: Self.node(model, "c1"), side: .out), indices: [1, 2])
        XCTAssertNotNil(Self.item(g, graph, "c3", .in))
        _ = graph.apply(g)
        XCTAssertEqual(Self.conv(model, "gconv").geometry.groups, 6)
    }
}
