import XCTest
import TestSupport
import Foundation
import Models
import NN
import Tensor

/// timm's VisionTransformer against the golden `model_stats.json` (Torch-Pruning 1.6.1, timm
/// 1.0.31): state-dict layout, parameter and MAC counts; whole-model gradients against finite
/// differences; checkpoint round trip.
final class ViTTests: XCTestCase {
    /// One ViT entry of model_stats.json.
    private struct Entry {
        let name: String
        let builder: ViTBuilder
        let stateDict: [(name: String, shape: [Int], kind: String)]
        let params: Int
        let macs: Int
        let layerMACs: [String: Int]
    }

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden/model_stats.json")

    private func entry(_ name: String) throws -> Entry {
        let data = try Data(contentsOf: Self.fixtures)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try XCTUnwrap(root["models"] as? [[String: Any]])
        let m = try XCTUnwrap(models.first { $0["name"] as? String == name }, "no entry \(name)")
        func int(_ key: String) throws -> Int { try XCTUnwrap(m[key] as? Int, "\(name).\(key)") }
        let input = try XCTUnwrap(m["input_shape"] as? [Int])
        XCTAssertEqual(input[1], input[2])
        let builder = ViTBuilder(imageSize: input[1], patchSize: try int("patch_size"), inputChannels: input[0],
                                 embedDim: try int("embed_dim"), depth: try int("depth"), heads: try int("num_heads"),
                                 mlpHidden: try int("mlp_hidden"), classes: try int("num_classes"))
        XCTAssertEqual(builder.embedDim / builder.heads, try int("head_dim"))
        let sd = try XCTUnwrap(m["state_dict"] as? [[String: Any]]).map {
            ($0["name"] as! String, $0["shape"] as! [Int], $0["kind"] as! String)
        }
        return Entry(name: name, builder: builder, stateDict: sd, params: try int("params"), macs: try int("macs"),
                     layerMACs: try XCTUnwrap(m["layer_macs"] as? [String: Int]))
    }

    private func checkAgainstStats(_ name: String, preset: ViTBuilder) throws {
        let e = try entry(name)
        // The preset is the entry's configuration.
        XCTAssertEqual([preset.imageSize, preset.patchSize, preset.inputChannels, preset.embedDim, preset.depth,
                        preset.heads, preset.mlpHidden, preset.classes],
                       [e.builder.imageSize, e.builder.patchSize, e.builder.inputChannels, e.builder.embedDim,
                        e.builder.depth, e.builder.heads, e.builder.mlpHidden, e.builder.classes], name)
        let model = preset.build()
        let st = model.stateDict()
        XCTAssertEqual(st.order, e.stateDict.map(\.name), "\(name): state-dict names and order")
        XCTAssertTrue(st.integers.isEmpty, "\(name): a ViT has no num_batches_tracked")
        for (n, shape, kind) in e.stateDict {
            XCTAssertEqual(st.floats[n]?.shape, shape, "\(name): \(n)")
            XCTAssertEqual(kind, "parameter", "\(name): \(n)")
        }
        XCTAssertEqual(model.namedParameters.map(\.name), e.stateDict.map(\.name), name)
        XCTAssertEqual(model.parameterCount, e.params, name)
        let counts = try model.counts()
        XCTAssertEqual(counts.parameters, e.params, name)
        XCTAssertEqual(counts.macs, e.macs, name)
        let ours = Dictionary(uniqueKeysWithValues: counts.layerMACs.map { ($0.name, $0.macs) })
        XCTAssertEqual(ours, e.layerMACs, name)
        for (layer, macs) in e.layerMACs where ours[layer] != macs {
            XCTFail("\(name): \(layer) has \(ours[layer].map(String.init) ?? "no entry"), expected \(macs)")
        }
        XCTAssertEqual(try model.outputShape(batch: 2), [2, e.builder.classes], name)
    }

    func testViTSmallPatch16MatchesModelStats() throws {
        try checkAgainstStats("vit_small_patch16_224", preset: .vitSmallPatch16())
    }

    func testViTTinyC32MatchesModelStats() throws {
        try checkAgainstStats("vit_tiny_c32", preset: .vitTinyC32)
    }

    func testFashionMNISTSizedViT() throws {
        // The `vit_tiny` training model: 1x28x28, patch 4 -> 7x7 tokens plus the class token.
        let m = ViTBuilder(imageSize: 28, patchSize: 4, inputChannels: 1, embedDim: 96, depth: 4, heads: 3,
                           mlpHidden: 384, classes: 10).build()
        XCTAssertEqual(m.namedParameters.first { $0.name == "pos_embed" }?.parameter.value.shape, [1, 50, 96])
        XCTAssertEqual(try m.outputShape(batch: 3), [3, 10])
        ModelInit.initialize(m, seed: 1)
        var g = SeededGenerator(seed: 2)
        let y = m(Tensor.randomNormal([3, 28, 28, 1], using: &g))
        XCTAssertEqual(y.shape, [3, 10])
        XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
    }

    /// vit_tiny_c32 with well-scaled random weights (timm's std-0.02 init gives gradients too
    /// small to difference in float32): weights normal with std 1/sqrt(fan_in), layer norm weights
    /// near 1, biases and embeddings of order 0.1-0.5.
    private func tinyViT() -> Model {
        let m = ViTBuilder.vitTinyC32.build()
        var g = SeededGenerator(seed: 5)
        for (name, p) in m.namedParameters {
            let shape = p.value.shape
            if name.hasSuffix(".bias") {
                p.value = .randomNormal(shape, std: 0.1, using: &g)
            } else if name == "cls_token" || name == "pos_embed" {
                p.value = .randomNormal(shape, std: 0.5, using: &g)
            } else if shape.count == 1 {
                p.value = .randomNormal(shape, mean: 1, std: 0.1, using: &g)
            } else {
                let fanIn = p.value.count / shape[0]
                p.value = .randomNormal(shape, std: 1 / Float(Double(fanIn).squareRoot()), using: &g)
            }
        }
        return m
    }


    func testWholeModelGradientsMatchFiniteDifferences() throws {
        let m = tinyViT()
        var g = SeededGenerator(seed: 7)
        let x = Tensor.randomNormal([2, 32, 32, 3], using: &g)
        let y: [Int32] = [3, 8]
        let names = ["blocks.1.attn.qkv.weight", "blocks.2.attn.proj.weight", "blocks.0.attn.qkv.bias",
                     "blocks.2.mlp.fc1.weight", "blocks.0.norm1.weight", "cls_token", "pos_embed",
                     "patch_embed.proj.weight", "norm.bias", "head.weight"]
        // The float32 forward's rounding dominates the error here, not truncation (no batch
        // norm): measured worst 0.053 at step 3e-4, 0.012 at 1e-3, 0.005 at 3e-3, 0.0016 at 1e-2.
        for (name, r) in ModelFiniteDifferences.relativeErrors(model: m, x: x, y: y, parameters: names, step: 1e-2) {
            XCTAssertGreaterThan(r.norm, 0, name)
            XCTAssertLessThan(r.error, 1e-2, name)
        }
    }

    func testCheckpointRoundTripGivesIdenticalLogits() throws {
        let m = ViTBuilder.vitTinyC32.build()
        ModelInit.initialize(m, seed: 3)
        var g = SeededGenerator(seed: 4)
        let x = Tensor.randomNormal([2, 32, 32, 3], using: &g)
        let decoded = try SafeTensors.decode(try m.stateDict().encoded())
        let fresh = ViTBuilder.vitTinyC32.build()
        try fresh.load(decoded)
        for (a, b) in zip(m.namedState, fresh.namedState) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.parameter.value.scalars, b.parameter.value.scalars, a.name)
        }
        let logits = m(x)
        XCTAssertEqual(fresh(x).scalars, logits.scalars)
        // The initialisation is not degenerate: different images give different logits.
        XCTAssertNotEqual(Array(logits.scalars[0..<10]), Array(logits.scalars[10..<20]))
    }
}
