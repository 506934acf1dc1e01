import Tensor
import XCTest
@testable import Data

final class TransformTests: XCTestCase {
    private func apply(_ config: TransformConfig, _ d: Dataset, index: Int = 0, seed: UInt64 = 1) throws -> Tensor {
        let t = try ImageTransform(config, channels: d.channels, height: d.height, width: d.width)
        var g = SeededGenerator(seed: seed)
        return t.apply(to: d, index: index, generator: &g)
    }

    func testNormalisationAndChannelsLastLayout() throws {
        // Channel c of pixel (y, x) holds 10c + 2y + x.
        let pixels: [UInt8] = (0..<3).flatMap { c in (0..<4).map { UInt8(10 * c + $0) } }
        let d = try Dataset(name: "rgb", pixels: pixels, labels: [0], channels: 3, height: 2, width: 2, classCount: 1)
        let mean: [Float] = [0.1, 0.2, 0.3], std: [Float] = [0.5, 0.25, 2]
        let out = try apply(TransformConfig(mean: mean, std: std), d)
        XCTAssertEqual(out.shape, [2, 2, 3])
        for y in 0..<2 { for x in 0..<2 { for c in 0..<3 {
            let expected = (Float(10 * c + 2 * y + x) / 255 - mean[c]) / std[c]
            XCTAssertEqual(out[y, x, c], expected, accuracy: 1e-6)
        } } }
        // Fashion-MNIST constants: black maps to -mean/std, white to (1-mean)/std.
        let grey = try Dataset(name: "g", pixels: [0, 255, 0, 255], labels: [0], channels: 1, height: 2, width: 2,
                               classCount: 1)
        let f = try apply(.fashionMNIST(augment: false), grey)
        XCTAssertEqual(f[0, 0, 0], -0.2860 / 0.3530, accuracy: 1e-5)
        XCTAssertEqual(f[0, 1, 0], (1 - 0.2860) / 0.3530, accuracy: 1e-5)
    }

    func testChannelReplicationAndResize() throws {
        let d = try Dataset(name: "g", pixels: [0, 255, 255, 0], labels: [0], channels: 1, height: 2, width: 2,
                            classCount: 1)
        let rep = try apply(TransformConfig(outputChannels: 3), d)
        XCTAssertEqual(rep.shape, [2, 2, 3])
        XCTAssertEqual(rep.scalars, [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0])

        let nearest = try apply(TransformConfig(resize: .init(height: 4, width: 4, mode: .nearest)), d)
        XCTAssertEqual(nearest.scalars, [0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0])

        // Half-pixel bilinear (PyTorch align_corners=False): a row [0, 1] becomes [0, .25, .75, 1].
        let bilinear = try apply(TransformConfig(resize: .init(height: 4, width: 4), outputChannels: 3), d)
        XCTAssertEqual(bilinear.shape, [4, 4, 3])
        let row0 = (0..<4).map { bilinear[0, $0, 2] }
        XCTAssertEqual(row0, [0, 0.25, 0.75, 1])
        XCTAssertEqual(bilinear[1, 1, 0], 0.25 * 0.75 + 0.75 * 0.25 + 0, accuracy: 1e-6)  // mixes all four
        XCTAssertEqual(bilinear[1, 1, 0], bilinear[1, 1, 1])

        let upsampled = try apply(.fashionMNIST(augment: true, resizeTo: 64, outputChannels: 3),
                                  try syntheticDataset(count: 1, height: 28, width: 28))
        XCTAssertEqual(upsampled.shape, [64, 64, 3])
    }

    func testCropAndFlipAreShiftsAndMirrors() throws {
        let d = try Dataset(name: "g", pixels: (1...9).map { UInt8($0) }, labels: [0], channels: 1, height: 3,
                            width: 3, classCount: 1)
        func img(_ t: Tensor) -> [[Float]] { (0..<3).map { y in (0..<3).map { x in (t[y, x, 0] * 255).rounded() } } }
        func shifted(_ dy: Int, _ dx: Int, flip: Bool) -> [[Float]] {
            (0..<3).map { y in (0..<3).map { x in
                let sy = y + dy, sx = (flip ? 2 - x : x) + dx
                return sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? Float(sy * 3 + sx + 1) : 0
            } }
        }
        var seen = Set<String>()
        for seed in 0..<200 as Range<UInt64> {
            let out = img(try apply(TransformConfig(cropPadding: 1, horizontalFlip: true), d, seed: seed))
            var match: String?
            for dy in -1...1 { for dx in -1...1 { for flip in [false, true] where shifted(dy, dx, flip: flip) == out {
                match = "\(dy),\(dx),\(flip)"
            } } }
            XCTAssertNotNil(match, "seed \(seed) gave \(out)")
            if let match { seen.insert(match) }
        }
        XCTAssertEqual(seen.count, 18, "every offset and flip should occur")
        // No augmentation: the image itself.
        XCTAssertEqual(img(try apply(TransformConfig(), d)), shifted(0, 0, flip: false))
    }

    func testDeterministicGivenGenerator() throws {
        let d = try syntheticDataset(count: 5, channels: 3, height: 32, width: 32)
        let config = TransformConfig.cifar10(augment: true)
        XCTAssertEqual(try apply(config, d, index: 2, seed: 9).scalars, try apply(config, d, index: 2, seed: 9).scalars)
        let variants = Set(try (0..<20 as Range<UInt64>).map { try apply(config, d, index: 2, seed: $0).scalars })
        XCTAssertGreaterThan(variants.count, 10)
    }

    func testInvalidConfigurations() throws {
        let d = try syntheticDataset(count: 1, channels: 3)
        for bad in [TransformConfig(mean: [0, 0]), TransformConfig(std: [0]), TransformConfig(cropPadding: -1),
                    TransformConfig(outputChannels: 1), TransformConfig(resize: .init(height: 0, width: 4))] {
            assertDatasetError(try ImageTransform(bad, channels: d.channels, height: d.height, width: d.width),
                               contains: ["invalid"])
        }
        assertDatasetError(try BatchLoader(dataset: d, batchSize: 0, shuffle: false), contains: ["batch size"])
    }
}
