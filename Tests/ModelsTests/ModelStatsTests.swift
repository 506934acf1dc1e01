import Experiments
import XCTest
import TestSupport
import Foundation
import Models
import NN

/// Every CNN configuration of Tests/Fixtures/golden/model_stats.json: names, shapes and order of the
/// state dict, and parameter and MAC counts (total and per module), exactly.
final class ModelStatsTests: XCTestCase {
    nonisolated(unsafe) static let stats: [[String: Any]] = try! Fixtures.json("golden/model_stats.json")["models"] as! [[String: Any]]

    private func entry(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(Self.stats.first { $0["name"] as? String == name }, "no entry \(name)")
    }

    private func build(_ e: [String: Any]) throws -> Model {
        let arch = e["arch"] as! String, variant = Variant(rawValue: e["variant"] as! String)!
        let width = e["width"] as! Double, shape = e["input_shape"] as! [Int], classes = e["num_classes"] as! Int
        switch arch {
        case "resnet18", "resnet50":
            return ResNetBuilder(depth: arch == "resnet18" ? .resnet18 : .resnet50, variant: variant, width: width,
                                 inputChannels: shape[0], resolution: shape[1], classes: classes).build()
        case "vgg19_bn":
            return VGGBuilder(variant: variant, width: width, inputChannels: shape[0], resolution: shape[1], classes: classes).build()
        default:
            throw XCTSkip("\(arch) is covered elsewhere")
        }
    }

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let e = try entry(name)
        let model = try build(e)
        let st = model.stateDict()
        let reference = (e["state_dict"] as! [[String: Any]]).map { ($0["name"] as! String, $0["shape"] as! [Int]) }
        XCTAssertEqual(st.order, reference.map(\.0), "\(name): state-dict names or order", file: file, line: line)
        for (n, shape) in reference {
            XCTAssertEqual(st.floats[n]?.shape ?? st.integers[n]?.shape, shape, "\(name): \(n)", file: file, line: line)
        }
        let counts = try model.counts()
        XCTAssertEqual(counts.parameters, e["params"] as? Int, "\(name): parameters", file: file, line: line)
        XCTAssertEqual(counts.macs, e["macs"] as? Int, "\(name): MACs", file: file, line: line)
        let expected = e["layer_macs"] as! [String: Int]
        let ours = Dictionary(uniqueKeysWithValues: counts.layerMACs.map { ($0.name, $0.macs) })
        XCTAssertEqual(ours, expected, "\(name): per-layer MACs", file: file, line: line)
    }

    func testResNet18CIFAR100() throws { try check("resnet18_cifar100") }
    func testResNet50CIFAR100() throws { try check("resnet50_cifar100") }
    func testVGG19BNCIFAR100() throws { try check("vgg19_bn_cifar100") }
    func testResNet18CIFARWidthQuarterGray28() throws { try check("resnet18_cifar_w0.25_gray28") }
    func testVGG19BNCIFARWidthQuarterGray28() throws { try check("vgg19_bn_cifar_w0.25_gray28") }
    func testResNet50CIFARWidthQuarter() throws { try check("resnet50_cifar_w0.25") }
    func testResNet18ImageNet() throws { try check("resnet18_imagenet") }
    func testResNet50ImageNet() throws { try check("resnet50_imagenet") }
    func testVGG19BNImageNet() throws { try check("vgg19_bn_imagenet") }
}
