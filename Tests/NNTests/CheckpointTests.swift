import XCTest
import Foundation
import Models
import NN
import Tensor

final class CheckpointTests: XCTestCase {
    func testSavedModelReloadsWithIdenticalLogits() throws {
        let m = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.125, inputChannels: 1, resolution: 16, classes: 5).build()
        ModelInit.initialize(m, seed: 9)
        var g = SeededGenerator(seed: 1)
        let x = Tensor.randomNormal([3, 16, 16, 1], using: &g)
        // A training step so running statistics and counters are not the initial ones.
        var ctx = ForwardContext(training: true)
        _ = m.forward(x, context: &ctx)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.stateDict().write(to: path)
        let fresh = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.125, inputChannels: 1, resolution: 16, classes: 5).build()
        try fresh.load(try SafeTensors.read(path))
        XCTAssertEqual(fresh(x).scalars, m(x).scalars)
        XCTAssertEqual((fresh.node(named: "bn1")?.layer as? BatchNorm2d)?.numBatchesTracked, 1)
    }

    func testTruncatedAndCorruptFilesGiveClearErrors() throws {
        let m = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.0625, inputChannels: 1, resolution: 8, classes: 3).build()
        let bytes = try m.stateDict().encoded()
        XCTAssertThrowsError(try SafeTensors.decode(bytes.prefix(bytes.count - 10), path: "x.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("x.safetensors") && "\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(bytes.prefix(5), path: "y.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("y.safetensors"), "\(e)")
        }
        var garbage = bytes
        garbage.replaceSubrange(8..<16, with: Array(repeating: UInt8(ascii: "#"), count: 8))
        XCTAssertThrowsError(try SafeTensors.decode(garbage, path: "z.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("not a JSON object"), "\(e)")
        }
        XCTAssertThrowsError(try SafeTensors.read("/nonexistent/w.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/w.safetensors"), "\(e)")
        }
    }
}
