import Foundation
import NN
import Tensor
import TestSupport
import XCTest
@testable import Data
@testable import Imaging

/// The real-data path against the golden fixtures made with torchvision and Pillow
/// (Tests/Fixtures/data): decoding, ImageFolder order, eval and ViT crops, RandomResizedCrop's
/// deterministic cases and the normalised tensor, all exact.
final class ImageGoldenTests: XCTestCase {
    static let folder = Fixtures.path("data/imagefolder")

    private func golden() throws -> (SafeTensors, [[String: Any]]) {
        let st = try Fixtures.safetensors("data/expected.safetensors")
        let samples = try Fixtures.json("data/expected.json")["samples"] as! [[String: Any]]
        return (st, samples)
    }

    private func expectedImage(_ st: SafeTensors, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> RGBImage {
        let entry = try XCTUnwrap(st.integers[key], "no \(key) in the golden file", file: file, line: line)
        XCTAssertEqual(entry.shape.count, 3, file: file, line: line)
        return RGBImage(width: entry.shape[1], height: entry.shape[0], pixels: entry.values.map { UInt8($0) })
    }

    private func assertSame(_ got: RGBImage, _ want: RGBImage, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual([got.height, got.width], [want.height, want.width], "\(what): size", file: file, line: line)
        guard got.pixels.count == want.pixels.count else { return }
        let diffs = zip(got.pixels, want.pixels).filter { $0 != $1 }.count
        let maxDiff = zip(got.pixels, want.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        XCTAssertEqual(diffs, 0, "\(what): \(diffs) bytes differ, max |diff| \(maxDiff)", file: file, line: line)
    }

    func testImageFolderListsClassesSamplesAndLabelsInTorchvisionOrder() throws {
        let (st, samples) = try golden()
        let folder = try ImageFolder(root: Self.folder)
        XCTAssertEqual(folder.classes, ["Goldfish", "n01440764", "n01443537"])
        XCTAssertEqual(folder.samples.map { String($0.path.dropFirst(Self.folder.count + 1)) },
                       samples.map { $0["path"] as! String })
        XCTAssertEqual(folder.samples.map { Int64($0.label) }, st.integers["labels"]!.values)
        XCTAssertEqual(folder.skipped, ["n01440764/notes.txt"])
    }

    func testDecodedRGBEqualsPillowOnEveryFile() throws {
        let (st, samples) = try golden()
        for (i, sample) in samples.enumerated() {
            let path = Self.folder + "/" + (sample["path"] as! String)
            let got = try ImageDecoder.decode(contentsOf: path)
            assertSame(got, try expectedImage(st, String(format: "decoded/%02d", i)), sample["path"] as! String)
        }
    }

    func testEvalAndViTCropsEqualTorchvisionExactly() throws {
        let (st, samples) = try golden()
        var g = SeededGenerator(seed: 0)
        for (i, sample) in samples.enumerated() {
            let image = try ImageDecoder.decode(contentsOf: Self.folder + "/" + (sample["path"] as! String))
            assertSame(ImagePipeline.imagenetEval.geometry(image, generator: &g),
                       try expectedImage(st, String(format: "eval_u8/%02d", i)), "eval \(sample["path"]!)")
            if st.integers[String(format: "vit_eval_u8/%02d", i)] != nil {
                assertSame(ImagePipeline.vitEval.geometry(image, generator: &g),
                           try expectedImage(st, String(format: "vit_eval_u8/%02d", i)), "vit eval \(sample["path"]!)")
            }
            let hw = sample["resize256_hw"] as! [Int]
            let size = ImageGeometry.shorterSideSize(height: image.height, width: image.width, to: 256)
            XCTAssertEqual([size.height, size.width], hw, "Resize(256) of \(sample["path"]!)")
            let tl = sample["center_crop_top_left"] as! [Int]
            let origin = ImageGeometry.centerCropOrigin(height: hw[0], width: hw[1], cropHeight: 224, cropWidth: 224)
            XCTAssertEqual([origin.top, origin.left], tl)
        }
    }

    func testNormalizedTensorIsBitIdenticalToTorchvision() throws {
        let (st, samples) = try golden()
        let image = try ImageDecoder.decode(contentsOf: Self.folder + "/" + (samples[0]["path"] as! String))
        var g = SeededGenerator(seed: 0)
        let crop = ImagePipeline.imagenetEval.geometry(image, generator: &g)
        var hwc = [Float](repeating: 0, count: 224 * 224 * 3)
        hwc.withUnsafeMutableBufferPointer { ImagePipeline.imagenetEval.normalize(crop, into: $0.baseAddress!) }
        let want = try XCTUnwrap(st.floats["eval/00"])
        XCTAssertEqual(want.shape, [3, 224, 224])
        let w = want.scalars
        var mismatches = 0
        for c in 0..<3 { for p in 0..<(224 * 224) where hwc[p * 3 + c].bitPattern != w[c * 224 * 224 + p].bitPattern { mismatches += 1 } }
        XCTAssertEqual(mismatches, 0)
    }

    func testRandomResizedCropDeterministicCases() throws {
        let (st, samples) = try golden()
        let wide = try ImageDecoder.decode(contentsOf: Self.folder + "/" + (samples[3]["path"] as! String))
        for seed in 0..<20 as Range<UInt64> {
            var g = SeededGenerator(seed: seed)
            let box = ImageGeometry.randomResizedCropBox(height: wide.height, width: wide.width, scale: 0.9...1, using: &g)
            XCTAssertEqual(box, .init(top: 0, left: 192, height: 72, width: 96))
        }
        let fallback = ImageGeometry.resizedCrop(wide, box: .init(top: 0, left: 192, height: 72, width: 96), height: 224, width: 224)
        assertSame(fallback, try expectedImage(st, "rrc_u8/wide_fallback"), "wide fallback")
        let first = try ImageDecoder.decode(contentsOf: Self.folder + "/" + (samples[0]["path"] as! String))
        let fixed = ImageGeometry.resizedCrop(first, box: .init(top: 10, left: 20, height: 150, width: 170), height: 112, width: 96)
        assertSame(fixed, try expectedImage(st, "rrc_u8/fixed_params"), "fixed-parameter resized_crop")
    }

    func testRandomResizedCropBoxesFitAndFollowTheSeed() {
        for seed in 0..<200 as Range<UInt64> {
            var a = SeededGenerator(seed: seed), b = SeededGenerator(seed: seed)
            let box = ImageGeometry.randomResizedCropBox(height: 300, width: 400, using: &a)
            XCTAssertEqual(box, ImageGeometry.randomResizedCropBox(height: 300, width: 400, using: &b))
            XCTAssert(box.top >= 0 && box.left >= 0 && box.top + box.height <= 300 && box.left + box.width <= 400, "\(box)")
            let area = Double(box.height * box.width) / 120_000
            XCTAssert(area >= 0.07 && area <= 1.01, "area fraction \(area)")
        }
    }
}
