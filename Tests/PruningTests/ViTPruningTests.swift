import Experiments
import Foundation
import XCTest
import NN
import Models
import Tensor
@testable import Pruning

/// Structural pruning of timm ViTs (§4.6, §4.8, §7.2–7.3) on `vit_tiny_c32` with seeded weights.
final class ViTPruningTests: XCTestCase {
    static let spec: ModelSpec = {
        var s = ModelSpec(arch: "vit", inputShape: [3, 32, 32], numClasses: 10)
        s.patchSize = 4; s.embedDim = 96; s.depth = 4; s.numHeads = 3; s.mlpHidden = 384
        return s
    }()

    static func makeModel(seed: UInt64 = 11) -> Model {
        let model = ViTBuilder.vitTinyC32.build()
        PruningPropertyTests.randomize(model, seed: seed)
        return model
    }

    static func node(_ model: Model, _ name: String) -> Int { model.nodes.firstIndex { $0.name == name }! }

    static func attentions(_ model: Model) -> [AttentionLayer] { model.nodes.compactMap { $0.layer as? AttentionLayer } }

    /// Total MACs of a (pruned) ViT from its layer shapes, with the project's attention rule
    /// (proj's actual shape), written out independently of the layers' own counters.
    static func expectedMACs(_ model: Model) -> Int {
        let b = ViTBuilder.vitTinyC32
        let patch = model.nodes[node(model, "patch_embed.proj")].layer as! Conv2d
        let d = patch.geometry.outChannels, l = b.patches + 1
        var macs = b.patchSize * b.patchSize * b.inputChannels * d * b.patches + d * b.patches
        for i in 0..<b.depth {
            let a = model.nodes[node(model, "blocks.\(i).attn")].layer as! AttentionLayer
            let fc1 = model.nodes[node(model, "blocks.\(i).mlp.fc1")].layer as! LinearLayer
            let fc2 = model.nodes[node(model, "blocks.\(i).mlp.fc2")].layer as! LinearLayer
            let q = a.numHeads * a.headDim, h = a.numHeads
            macs += 2 * (l * d * 2)                                                     // norm1, norm2
            macs += l * q + 3 * l * d * q + 3 * l * q + h * (2 * l * l * (q / h) + l * l)  // qkv, attention
            macs += l * q * d + l * d                                                   // proj q -> d
            macs += l * d * fc1.outFeatures + fc1.outFeatures                           // fc1
            macs += l * fc1.outFeatures                                                 // GELU
            macs += l * fc2.inFeatures * fc2.outFeatures + fc2.outFeatures              // fc2
        }
        let head = model.nodes[node(model, "head")].layer as! LinearLayer
        macs += l * d * 2 + d * head.outFeatures + head.outFeatures
        return macs
    }

    func testUnprunedMACsMatchGolden() throws {
        let model = Self.makeModel()
        XCTAssertEqual(try model.counts().macs, 32_690_326)
        XCTAssertEqual(Self.expectedMACs(model), 32_690_326)
    }

    /// One hidden-dimension group holding every LayerNorm, cls_token, pos_embed, the patch
    /// embedding, every attention's qkv in / proj out, every fc1 in / fc2 out and head in; one
    /// attention-inner group (grouped by heads) and one MLP group per block.
    func testGroupsAndMembership() throws {
        let model = Self.makeModel()
        let graph = try DependencyGraph(model: model)
        let groups = graph.allGroups(ignoring: ["head"])
        XCTAssertEqual(groups.count, 1 + 2 * 4)
        XCTAssertEqual(graph.allGroups(ignoring: []).count, 2 + 2 * 4)

        let hidden = groups.filter { $0.items.count > 10 }
        XCTAssertEqual(hidden.count, 1)
        let members = Set(hidden[0].items.filter { $0.target.node >= 0 }.map { "\(graph.name($0.target.node)):\($0.target.side)" })
        var expected: Set<String> = ["_cls_token:out", "_pos_embed:out", "patch_embed.proj:out", "norm:out", "head:in"]
        for i in 0..<4 {
            expected.formUnion(["blocks.\(i).norm1:out", "blocks.\(i).norm2:out", "blocks.\(i).attn:in", "blocks.\(i).attn:out",
                                "blocks.\(i).mlp.fc1:in", "blocks.\(i).mlp.fc2:out"])
        }
        let withChannels = Set(hidden[0].items.filter { $0.target.node >= 0 && graph.channels($0.target) != nil }
            .map { "\(graph.name($0.target.node)):\($0.target.side)" })
        XCTAssertEqual(withChannels, expected)
        XCTAssertTrue(members.isSuperset(of: expected))
        for item in hidden[0].items { XCTAssertEqual(item.indices, Array(0..<96)) }
        XCTAssertEqual(graph.channelGroups(hidden[0]), 1)

        for i in 0..<4 {
            let attn = Self.node(model, "blocks.\(i).attn")
            let inner = groups.filter { $0.root == PruningTarget(node: attn, side: .inner) }
            XCTAssertEqual(inner.count, 1)
            XCTAssertEqual(inner.first?.items.count, 1)
            XCTAssertEqual(inner.first.map { graph.channelGroups($0) }, 3)
            XCTAssertEqual(inner.first.flatMap { graph.channels($0.root) }, 96)
            let fc1 = Self.node(model, "blocks.\(i).mlp.fc1"), fc2 = Self.node(model, "blocks.\(i).mlp.fc2")
            let mlp = groups.filter { $0.root == PruningTarget(node: fc1, side: .out) }
            XCTAssertEqual(mlp.count, 1)
            XCTAssertEqual(Set(mlp.first?.items.compactMap { graph.channels($0.target) == nil ? nil : $0.target } ?? []),
                           [PruningTarget(node: fc1, side: .out), PruningTarget(node: fc2, side: .in)])
        }
    }

    func testEveryCriterionScoresViTGroups() throws {
        let model = Self.makeModel()
        let graph = try DependencyGraph(model: model)
        let criteria: [any ImportanceCriterion] = [GroupMagnitude.l1(), GroupMagnitude.l2(), GroupMagnitude.lamp(), FPGMImportance(),
                                                   RandomImportance(seed: 1), GroupMagnitude.l2(reduction: .max, normalizer: .gaussian, bias: true)]
        for criterion in criteria {
            for g in graph.allGroups(ignoring: []) {
                guard let s = criterion.scores(of: g, in: graph) else {
                    XCTFail("\(criterion.name) declined \(graph.name(g.rootNode)) \(g.root.side)"); continue
                }
                XCTAssertEqual(s.count, graph.channels(g.root))
                XCTAssertTrue(s.allSatisfy(\.isFinite), "\(criterion.name) \(graph.name(g.rootNode))")
            }
        }
        // The LayerNorm contributes |w|^p: scaling one norm weight up raises that channel's score.
        let hidden = graph.allGroups(ignoring: ["head"]).first { $0.items.count > 10 }!
        let before = GroupMagnitude.l2(normalizer: .none).scores(of: hidden, in: graph)!
        let norm = model.nodes[Self.node(model, "norm")].layer as! LayerNormLayer
        var w = norm.weight.value.scalars
        w[5] += 10
        norm.weight.value = Tensor(shape: [96], values: w)
        let after = GroupMagnitude.l2(normalizer: .none).scores(of: hidden, in: graph)!
        XCTAssertGreaterThan(after[5], before[5])
        XCTAssertEqual(after[6], before[6])
    }

    /// L2, global, ratio 0.5, one step, head ignored.
    func testL2GlobalHalf() throws {
        let model = Self.makeModel()
        let x = PruningPropertyTests.input(model, seed: 5)
        let config = PruningConfig(importance: .l2, globalPruning: true, pruningRatio: 0.5, ignoredLayers: ["head"])
        let pruner = try Pruner(model: model, config: config)
        let macs0 = try model.counts().macs
        let records = try pruner.step()
        XCTAssertFalse(records.isEmpty)
        let y = model(x)
        XCTAssertEqual(y.shape, [2, 10])
        XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
        let macs = try model.counts().macs
        XCTAssertLessThan(macs, macs0)
        XCTAssertEqual(macs, Self.expectedMACs(model))

        let d = (model.nodes[Self.node(model, "patch_embed.proj")].layer as! Conv2d).geometry.outChannels
        XCTAssertLessThan(d, 96)
        let norm = model.nodes[Self.node(model, "norm")].layer as! LayerNormLayer
        XCTAssertEqual(norm.features, d)
        XCTAssertEqual(model.namedState.first { $0.name == "cls_token" }?.parameter.value.shape, [1, 1, d])
        XCTAssertEqual(model.namedState.first { $0.name == "pos_embed" }?.parameter.value.shape, [1, 65, d])
        var reduced = false
        for a in Self.attentions(model) {
            XCTAssertEqual(a.numHeads, 3)
            XCTAssertEqual(a.qkvWeight.value.shape, [3 * 3 * a.headDim, d])
            XCTAssertEqual(a.qkvBias?.value.shape, [9 * a.headDim])
            XCTAssertEqual(a.projWeight.value.shape, [d, 3 * a.headDim])
            XCTAssertEqual(a.scale, Attention.defaultScale(32), "the logit scale is timm's construction-time value")
            if a.headDim < 32 { reduced = true }
        }
        XCTAssertTrue(reduced, "some head dims pruned")
        // Global invariant: about half of all scored positions remain (hidden 96, 4x32 head dims, 4x384 MLP).
        let heads = Self.attentions(model).map(\.headDim).reduce(0, +)
        let mlp = (0..<4).map { (model.nodes[Self.node(model, "blocks.\($0).mlp.fc1")].layer as! LinearLayer).outFeatures }.reduce(0, +)
        XCTAssertLessThanOrEqual(d + heads + mlp, (96 + 4 * 32 + 4 * 384) / 2)
        print("vit_tiny_c32 l2 global 0.5: hidden \(d), head dims \(Self.attentions(model).map(\.headDim)), MLP \(mlp / 4) avg; "
              + "MACs \(macs0) -> \(macs)")
        XCTAssertFalse(pruner.history.isEmpty)
    }

    /// Zeroed channels of an attention-inner group (same relative dims in every head: qkv rows
    /// and bias) and of an MLP group (fc1 rows and bias) are dead; pruning them leaves the logits
    /// unchanged. The attention scale must stay as constructed for this to hold.
    func testPruningDeadAttentionAndMLPChannelsKeepsLogits() throws {
        let model = Self.makeModel()
        let graph = try DependencyGraph(model: model)
        let x = PruningPropertyTests.input(model, seed: 9)
        let attnNode = Self.node(model, "blocks.1.attn"), fc1Node = Self.node(model, "blocks.2.mlp.fc1")
        let attn = model.nodes[attnNode].layer as! AttentionLayer
        let relative = [0, 7, 31]
        let innerIdx = (0..<3).flatMap { h in relative.map { h * 32 + $0 } }
        let rows = (0..<3).flatMap { b in innerIdx.map { b * 96 + $0 } }
        attn.qkvWeight.value = PruningPropertyTests.zeroing(attn.qkvWeight.value, rows: rows)
        attn.qkvBias!.value = PruningPropertyTests.zeroing(attn.qkvBias!.value, rows: rows)
        let fc1 = model.nodes[fc1Node].layer as! LinearLayer
        let mlpIdx = [1, 100, 383]
        fc1.weight.value = PruningPropertyTests.zeroing(fc1.weight.value, rows: mlpIdx)
        fc1.bias!.value = PruningPropertyTests.zeroing(fc1.bias!.value, rows: mlpIdx)
        let before = model(x)

        let inner = graph.group(root: PruningTarget(node: attnNode, side: .inner), indices: innerIdx)
        let mlp = graph.group(root: PruningTarget(node: fc1Node, side: .out), indices: mlpIdx)
        XCTAssertTrue(graph.isValid(inner) && graph.isValid(mlp))
        let r1 = graph.apply(inner), r2 = graph.apply(mlp)
        XCTAssertEqual(r1, PruningRecord(root: "blocks.1.attn.proj", isOut: false, indices: innerIdx))
        XCTAssertEqual(r2.root, "blocks.2.mlp.fc1")
        XCTAssertEqual(attn.headDim, 29)
        XCTAssertEqual(attn.numHeads, 3)
        XCTAssertEqual(fc1.outFeatures, 381)
        PruningPropertyTests.assertClose(model(x), before, "pruned dead attention and MLP channels", tolerance: 1e-5)
        XCTAssertEqual(try model.counts().macs, Self.expectedMACs(model))
    }

    /// Pruning hidden channels: LayerNorm statistics run over the kept features, so the function
    /// changes even for dead channels; instead every pruned tensor must equal the original one
    /// indexed with the kept channels on each shrunk axis, and the model must still run.
    func testHiddenGroupRemovesTheSameChannelsEverywhere() throws {
        let model = Self.makeModel()
        let graph = try DependencyGraph(model: model)
        let original = Dictionary(uniqueKeysWithValues: model.namedState.map { ($0.name, $0.parameter.value) })
        let hidden = graph.allGroups(ignoring: []).first { $0.items.count > 10 }!
        let removed = [0, 3, 50, 95]
        let kept = (0..<96).filter { !removed.contains($0) }
        let g = graph.group(root: hidden.root, indices: removed)
        XCTAssertTrue(graph.isValid(g))
        _ = graph.apply(g)
        var shrunk = 0
        for (name, p) in model.namedState {
            let old = original[name]!
            var expected = old
            for axis in 0..<old.rank where old.shape[axis] != p.value.shape[axis] {
                XCTAssertEqual(old.shape[axis], 96, name)
                expected = expected.gathering(axis: axis, kept)
            }
            if expected.shape != old.shape { shrunk += 1 }
            XCTAssertEqual(p.value.shape, expected.shape, name)
            XCTAssertEqual(p.value.scalars, expected.scalars, name)
        }
        // cls, pos, patch w+b, 4 x (norm1 w+b, qkv w, proj w+b, norm2 w+b, fc1 w, fc2 w+b), norm w+b, head w.
        XCTAssertEqual(shrunk, 2 + 2 + 4 * 10 + 2 + 1)
        let y = model(PruningPropertyTests.input(model, seed: 2))
        XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
        XCTAssertEqual(try model.counts().macs, Self.expectedMACs(model))
    }

    /// A pruned ViT checkpoint reopens through history replay with identical state and logits.
    func testPrunedCheckpointRoundTrip() throws {
        let model = Self.makeModel()
        let config = PruningConfig(importance: .l2, globalPruning: true, pruningRatio: 0.5, iterativeSteps: 2, ignoredLayers: ["head"])
        let pruner = try Pruner(model: model, config: config)
        try pruner.step(); try pruner.step()
        XCTAssertTrue(pruner.history.contains { $0.root.hasSuffix(".attn.proj") && !$0.isOut })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-vit-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PrunedCheckpoint.save(model, spec: Self.spec, history: pruner.history, to: path)
        let (reopened, spec, history) = try PrunedCheckpoint.load(path)
        XCTAssertEqual(spec, Self.spec)
        XCTAssertEqual(history, pruner.history)
        XCTAssertEqual(try reopened.counts(), try model.counts())
        XCTAssertEqual(Self.attentions(reopened).map(\.headDim), Self.attentions(model).map(\.headDim))
        let x = PruningPropertyTests.input(model, seed: 4)
        XCTAssertEqual(reopened(x).scalars, model(x).scalars)
    }

    /// Replay refuses an attention record that would remove different dims in different heads.
    func testReplayRejectsAsymmetricHeadDims() throws {
        let graph = try DependencyGraph(model: Self.makeModel())
        XCTAssertThrowsError(try graph.replay([PruningRecord(root: "blocks.0.attn.proj", isOut: false, indices: [0, 33])]))
        XCTAssertNoThrow(try graph.replay([PruningRecord(root: "blocks.0.attn.proj", isOut: false, indices: [1, 33, 65])]))
        XCTAssertEqual(Self.attentions(graph.model)[0].headDim, 31)
    }

    /// The ViT keys of a golden `pruning` object are accepted; head pruning is refused.
    func testConfigAcceptsViTKeys() throws {
        let object: [String: Any] = ["importance": "l2", "pruning_ratio": 0.5, "global_pruning": true, "ignored_layers": ["head"],
                                     "num_heads": ["blocks.0.attn.qkv": 3], "prune_num_heads": false, "prune_head_dims": true,
                                     "unwrapped_parameters_auto_detected": [["cls_token", 2], ["pos_embed", 2]]]
        let config = try PruningConfig.parse(object)
        XCTAssertEqual(config.ignoredLayers, ["head"])
        var heads = object
        heads["prune_num_heads"] = true
        XCTAssertThrowsError(try PruningConfig.parse(heads)) { XCTAssertTrue(String(describing: $0).contains("'prune_num_heads'")) }
        var other = object
        other["unwrapped_parameters_auto_detected"] = [["mask_token", 2]]
        XCTAssertThrowsError(try PruningConfig.parse(other))
    }

    /// Progressive global L2 pruning to a 2x MAC speed-up (head ignored).
    func testSpeedup2() throws {
        let model = Self.makeModel()
        var config = PruningConfig(importance: .l2, globalPruning: true, pruningRatio: 1.0, targetSpeedup: 2,
                                   iterativeSteps: 100, ignoredLayers: ["head"])
        config.roundTo = nil
        let pruner = try Pruner(model: model, config: config)
        let outcome = try pruner.run()
        XCTAssertGreaterThanOrEqual(outcome.speedup, 2)
        XCTAssertLessThan(outcome.speedup, 2.5)
        XCTAssertEqual(outcome.macsAfter, Self.expectedMACs(model))
        for a in Self.attentions(model) { XCTAssertEqual(a.numHeads, 3) }
        let y = model(PruningPropertyTests.input(model, seed: 1))
        XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
        let d = (model.nodes[Self.node(model, "patch_embed.proj")].layer as! Conv2d).geometry.outChannels
        print("vit_tiny_c32 l2 global 2x: hidden \(d), \(outcome.macsBefore) -> \(outcome.macsAfter) MACs (\(outcome.speedup)x) in \(outcome.steps) steps; "
              + "params \(outcome.paramsBefore) -> \(outcome.paramsAfter); head dims \(Self.attentions(model).map(\.headDim))")
    }
}
