import Models
import NN
import TestSupport
import Tensor
import XCTest

/// YOLOv8 against Ultralytics' models as Torch-Pruning counts them (Tests/Fixtures/detection/model_stats.json:
/// n, s, m at 640, n at 128, 10 classes at 96, a gray 64x64 input and a width-0.125 model).
final class YOLOv8Tests: XCTestCase {
    func testEveryFixtureModelHasUltralyticsParametersMACsAndStateDict() throws {
        let models = try Fixtures.json("detection/model_stats.json")["models"] as! [[String: Any]]
        XCTAssertEqual(models.count, 7)
        for m in models {
            let name = m["name"] as! String, input = m["input_shape"] as! [Int]
            let builder = YOLOv8Builder(depth: m["depth_multiple"] as! Double, width: m["width_multiple"] as! Double,
                                        maxChannels: m["max_channels"] as! Int, classes: m["num_classes"] as! Int,
                                        inputChannels: input[0], resolution: input[1])
            let model = builder.build()
            let counts = try model.counts()
            XCTAssertEqual(counts.parameters, m["params"] as! Int, name)
            XCTAssertEqual(counts.macs, m["macs"] as! Int, name)
            let expectedLayers = m["layer_macs"] as! [String: Int]
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: counts.layerMACs.map { ($0.name, $0.macs) }), expectedLayers, name)
            let state = model.stateDict()
            let expectedState = m["state_dict"] as! [[String: Any]]
            XCTAssertEqual(Set(state.order), Set(expectedState.map { $0["name"] as! String }), name)
            XCTAssertEqual(state.order.count, expectedState.count, name)
            for e in expectedState {
                let key = e["name"] as! String, shape = e["shape"] as! [Int]
                if let t = state.floats[key] { XCTAssertEqual(t.shape, shape, "\(name) \(key)") }
                else { XCTAssertEqual(state.integers[key]?.shape, shape, "\(name) \(key)") }
            }
            let anchors = [8, 16, 32].reduce(0) { $0 + (input[1] / $1) * (input[2] / $1) }
            XCTAssertEqual(try model.outputShape(batch: 2), [2, anchors, 4 + (m["num_classes"] as! Int)], name)
        }
    }

    /// Ultralytics' eval forward on a seeded width-0.125 model (weights and input from the fixture):
    /// the decoded boxes and scores to 1e-4 relative.
    func testForwardMatchesUltralytics() throws {
        let model = YOLOv8Builder(depth: 0.33, width: 0.125, maxChannels: 512, classes: 10, resolution: 128).build()
        try model.load(try Fixtures.safetensors("detection/forward/input.safetensors"))
        let x = try XCTUnwrap(try Fixtures.safetensors("detection/forward/x.safetensors").floats["x"])
        let expected = try XCTUnwrap(try Fixtures.safetensors("detection/forward/io.safetensors").floats["pred"])
        XCTAssertEqual(expected.shape, [2, 14, 336])
        let y = model(ChannelsLast.fromNCHW(x))
        XCTAssertEqual(y.shape, [2, 336, 14])
        let got = y.scalars, want = expected.scalars
        var worst = 0.0
        for n in 0..<2 { for a in 0..<336 { for k in 0..<14 {
            let g = Double(got[(n * 336 + a) * 14 + k]), w = Double(want[(n * 14 + k) * 336 + a])
            worst = max(worst, abs(g - w) / max(abs(w), 1))
        } } }
        XCTAssertLessThan(worst, 1e-4)
    }
}
