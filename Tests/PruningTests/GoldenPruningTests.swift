import Experiments
import XCTest
import TestSupport
import Foundation
import NN
import Models
import Tensor
@testable import Pruning

/// Structural pruning parity with Torch-Pruning 1.6.1 on the golden cases: the pruned state dict
/// (exact), MACs, parameters, steps, the pruning history and the pruned logits.
final class GoldenPruningTests: XCTestCase {
    /// All ResNet-18 cases share one seed, so one copy of their input state dict serves them all.
    static func inputPath(_ name: String) -> String {
        name.hasPrefix("resnet18_c28_w025") ? "golden/resnet18_c28_w025_l2_global_r050/input.safetensors"
                                            : "golden/\(name)/input.safetensors"
    }

    /// Builds, loads and prunes a golden case; returns the model, the pruner and its outcome.
    static func prune(_ name: String) throws -> (Model, Pruner, Pruner.Outcome, [String: Any]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("golden/\(name)/case.json")))
        let spec = try ModelSpec.parse(data, source: name)
        let model = try spec.build()
        try model.load(try Fixtures.safetensors(inputPath(name)))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let config = try PruningConfig.parse(json["pruning"] as! [String: Any])
        let pruner = try Pruner(model: model, config: config)
        let outcome = try pruner.run()
        return (model, pruner, outcome, json)
    }

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (model, pruner, outcome, json) = try Self.prune(name)
        let expected = json["expected"] as! [String: Any]

        XCTAssertEqual(outcome.macsAfter, expected["macs_after"] as? Int, "\(name): MACs", file: file, line: line)
        XCTAssertEqual(outcome.paramsAfter, expected["params_after"] as? Int, "\(name): params", file: file, line: line)
        XCTAssertEqual(outcome.steps, expected["steps_taken"] as? Int, "\(name): steps", file: file, line: line)

        // Pruning history, entry by entry.
        let history = (expected["pruning_history"] as! [[Any]]).map {
            PruningRecord(root: $0[0] as! String, isOut: $0[1] as! Bool, indices: $0[2] as! [Int])
        }
        XCTAssertEqual(pruner.history.count, history.count, "\(name): history length", file: file, line: line)
        if let k = zip(pruner.history, history).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("\(name): history entry \(k) differs: got \(pruner.history[k]), expected \(history[k])", file: file, line: line)
        }

        // Every tensor of the pruned state dict equals the reference exactly.
        let reference = try Fixtures.safetensors("golden/\(name)/expected.safetensors")
        let st = model.stateDict()
        XCTAssertEqual(Set(st.floats.keys), Set(reference.floats.keys), "\(name): state-dict names (safetensors files store them sorted)", file: file, line: line)
        var mismatches: [String] = []
        for key in reference.order {
            guard let want = reference.floats[key], let got = st.floats[key] else { mismatches.append("\(key): missing"); continue }
            if got.shape != want.shape { mismatches.append("\(key): shape \(got.shape), expected \(want.shape)"); continue }
            if got.scalars != want.scalars { mismatches.append("\(key): values differ") }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(name): \(mismatches.count) tensors differ: \(mismatches.prefix(8).joined(separator: "; "))",
                      file: file, line: line)

        // Pruned logits.
        let io = try Fixtures.safetensors("golden/\(name)/io.safetensors")
        let x = try XCTUnwrap(io.floats["x"]), want = try XCTUnwrap(io.floats["logits_after"])
        let logits = model(ChannelsLast.fromNCHW(x))
        XCTAssertEqual(logits.shape, want.shape, file: file, line: line)
        let scale = want.scalars.map(abs).max()!
        let worst = zip(logits.scalars, want.scalars).map { abs($0 - $1) / max(scale, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): logits differ by \(worst) relative", file: file, line: line)
    }

    func testResNet18L1Local() throws { try check("resnet18_c28_w025_l1_local_r050") }
    func testResNet18L2Local() throws { try check("resnet18_c28_w025_l2_local_r050") }
    func testResNet18L2Global() throws { try check("resnet18_c28_w025_l2_global_r050") }
    func testResNet18BNScaleGlobal() throws { try check("resnet18_c28_w025_bnscale_global_r050") }
    func testResNet18L2GlobalSpeedup2() throws { try check("resnet18_c28_w025_l2_global_speedup2") }
    func testVGG19BNL2Global() throws { try check("vgg19bn_c28_w025_l2_global_r050") }

    /// A pruned checkpoint reopens (spec + replayed history) with identical state and counts.
    func testPrunedCheckpointRoundTrip() throws {
        let name = "resnet18_c28_w025_l2_global_r050"
        let (model, pruner, _, json) = try Self.prune(name)
        let spec = try ModelSpec.parse(try JSONSerialization.data(withJSONObject: json["model"]!), source: name)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PrunedCheckpoint.save(model, spec: spec, history: pruner.history, to: path)
        let (reopened, reopenedSpec, history) = try PrunedCheckpoint.load(path)
        XCTAssertEqual(reopenedSpec, spec)
        XCTAssertEqual(history, pruner.history)
        XCTAssertEqual(try reopened.counts(), try model.counts())
        let a = model.stateDict(), b = reopened.stateDict()
        for key in a.order where a.floats[key] != nil { XCTAssertEqual(a.floats[key]?.scalars, b.floats[key]?.scalars, key) }
        XCTAssertEqual(PrunedCheckpoint.widths(reopened), PrunedCheckpoint.widths(model))
    }

    /// ResNet-18 (ImageNet variant, fc ignored) has 12 groups; the stem group has 16 items in
    /// Torch-Pruning's trace (pseudo-ops included); here it has every prunable layer of them.
    func testResNet18GroupCountAndOrder() throws {
        let model = ResNetBuilder(depth: .resnet18, variant: .imagenet, width: 0.25, inputChannels: 3, resolution: 32, classes: 10).build()
        let graph = try DependencyGraph(model: model)
        let groups = graph.allGroups(ignoring: ["fc"])
        XCTAssertEqual(groups.count, 12)
        XCTAssertEqual(groups.map { graph.name($0.rootNode) }.prefix(4),
                       ["layer4.0.downsample.0", "layer3.0.downsample.0", "layer2.0.downsample.0", "conv1"])
        let stem = try XCTUnwrap(groups.first { graph.name($0.rootNode) == "conv1" })
        let layers = Set(stem.items.filter { $0.target.node >= 0 && graph.channels($0.target) != nil }.map { "\(graph.name($0.target.node)):\($0.target.side)" })
        XCTAssertEqual(layers, ["conv1:out", "bn1:out", "layer1.0.conv1:in", "layer1.0.bn2:out", "layer1.1.conv1:in", "layer1.1.bn2:out",
                                "layer2.0.downsample.0:in", "layer2.0.conv1:in", "layer1.1.conv2:out", "layer1.0.conv2:out"])
    }
}
