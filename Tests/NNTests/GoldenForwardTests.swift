import Experiments
import XCTest
import TestSupport
import NN
import Models
import Tensor

/// Forward parity with PyTorch on the golden cases (Torch-Pruning's CIFAR ResNet-18).
final class GoldenForwardTests: XCTestCase {
    /// Builds the model a golden case describes (its `model` object).
    static func model(forCase dir: String) throws -> Model {
        let m = try Fixtures.json("\(dir)/case.json")["model"] as! [String: Any]
        let arch = m["arch"] as! String, width = m["width"] as! Double
        let shape = m["input_shape"] as! [Int], classes = m["num_classes"] as! Int
        let variant = Variant(rawValue: m["variant"] as! String)!
        switch arch {
        case "resnet18": return ResNetBuilder(depth: .resnet18, variant: variant, width: width, inputChannels: shape[0],
                                              resolution: shape[1], classes: classes).build()
        case "vgg19_bn": return VGGBuilder(variant: variant, width: width, inputChannels: shape[0], resolution: shape[1],
                                           classes: classes).build()
        default: throw XCTSkip("no builder for \(arch) yet")
        }
    }

    private func checkLogitsBefore(_ dir: String) throws {
        let model = try Self.model(forCase: dir)
        try model.load(try Fixtures.safetensors("\(dir)/input.safetensors"))
        let io = try Fixtures.safetensors("\(dir)/io.safetensors")
        let x = try XCTUnwrap(io.floats["x"]), expected = try XCTUnwrap(io.floats["logits_before"])
        let logits = model(ChannelsLast.fromNCHW(x))
        XCTAssertEqual(logits.shape, expected.shape)
        let scale = expected.scalars.map(abs).max()!
        for (a, b) in zip(logits.scalars, expected.scalars) {
            XCTAssertEqual(a, b, accuracy: 1e-4 * max(scale, abs(b)), "\(dir): logit differs")
        }
    }

    func testResNet18CifarLogitsMatchPyTorch() throws { try checkLogitsBefore("golden/resnet18_c28_w025_l2_global_r050") }
    func testVGG19BNCifarLogitsMatchPyTorch() throws { try checkLogitsBefore("golden/vgg19bn_c28_w025_l2_global_r050") }

    func testStateDictNamesShapesAndOrderMatchTheReference() throws {
        let stats = try Fixtures.json("golden/model_stats.json")
        let entry = try XCTUnwrap((stats["models"] as! [[String: Any]]).first { $0["name"] as? String == "resnet18_cifar_w0.25_gray28" })
        let reference = (entry["state_dict"] as! [[String: Any]]).map { ($0["name"] as! String, $0["shape"] as! [Int]) }
        let model = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.25, inputChannels: 1,
                                  resolution: 28, classes: 10).build()
        let st = model.stateDict()
        XCTAssertEqual(st.order, reference.map(\.0))
        for (name, shape) in reference {
            XCTAssertEqual(st.floats[name]?.shape ?? st.integers[name]?.shape, shape, name)
        }
        XCTAssertEqual(model.parameterCount, entry["params"] as? Int)
    }

    func testMisfittingStateDictListsEveryProblem() throws {
        let model = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.25, inputChannels: 1,
                                  resolution: 28, classes: 10).build()
        var st = model.stateDict()
        st.floats["conv1.weight"] = Tensor(zeros: [3, 3])
        st.floats["linear.bias"] = nil
        st.order.removeAll { $0 == "linear.bias" }
        st.set("extra.weight", Tensor(zeros: [1]))
        XCTAssertThrowsError(try model.load(st)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("missing 1: linear.bias"), text)
            XCTAssertTrue(text.contains("unexpected 1: extra.weight"), text)
            XCTAssertTrue(text.contains("conv1.weight: [3, 3]"), text)
        }
    }
}
