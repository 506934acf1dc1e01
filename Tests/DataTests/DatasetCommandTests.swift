import Foundation
import NN
import TestSupport
import XCTest

/// `prunebench dataset` as a user runs it.
final class DatasetCommandTests: XCTestCase {
    func testImageFolderDumpMatchesTorchvisionAndPreviewIsWritten() throws {
        let dir = try makeTemporaryDirectory(self)
        let dump = dir + "/x.safetensors", preview = dir + "/grid.png"
        let r = try Prunebench.run(["dataset", "--format", "imagefolder", "--root", Fixtures.path("data/imagefolder"),
                                    "--transform", "imagenet-eval", "--dump", dump, "--preview", preview])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssert(r.stdout.contains("samples: 13   classes: 3"), r.stdout)
        XCTAssert(r.stdout.contains("checked: 13 files, 0 failed"), r.stdout)
        let got = try SafeTensors.read(dump)
        let x = try XCTUnwrap(got.floats["x"])
        XCTAssertEqual(x.shape, [13, 3, 224, 224])
        let golden = try Fixtures.safetensors("data/expected.safetensors")
        XCTAssertEqual(got.integers["y"]!.values, golden.integers["labels"]!.values)
        // Sample 0 bit for bit against torchvision's normalised tensor; every sample from its exact uint8 crop.
        let want0 = golden.floats["eval/00"]!.scalars, xs = x.scalars
        XCTAssertEqual(Array(xs[0 ..< 3 * 224 * 224]).map(\.bitPattern), want0.map(\.bitPattern))
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        for i in 0..<13 {
            let crop = golden.integers[String(format: "eval_u8/%02d", i)]!.values
            var worst: Float = 0
            for c in 0..<3 { for p in 0..<(224 * 224) {
                let expected = (Float(crop[p * 3 + c]) / 255 - mean[c]) / std[c]
                worst = max(worst, abs(xs[(i * 3 + c) * 224 * 224 + p] - expected))
            } }
            XCTAssertEqual(worst, 0, "sample \(i)")
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: preview))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    func testABrokenFileIsNamedAndTheExitCodeIsOne() throws {
        let dir = try makeTemporaryDirectory(self)
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/cat", withIntermediateDirectories: true)
        let good = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("data/imagefolder/Goldfish/img_01_rgb420_q90.jpg")))
        try good.write(to: URL(fileURLWithPath: dir + "/cat/a.jpg"))
        try good.prefix(good.count / 3).write(to: URL(fileURLWithPath: dir + "/cat/b.jpg"))
        let r = try Prunebench.run(["dataset", "--format", "imagefolder", "--root", dir])
        XCTAssertEqual(r.status, 1)
        XCTAssert(r.stdout.contains("checked: 2 files, 1 failed"), r.stdout)
        XCTAssert(r.stdout.contains("\(dir)/cat/b.jpg: JPEG image file is truncated"), r.stdout)
    }

    func testCOCOCountsCategoriesAndCrowd() throws {
        let r = try Prunebench.run(["dataset", "--format", "coco", "--root", Fixtures.path("data/coco"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["images"] as? Int, 4)
        XCTAssertEqual(json["annotations"] as? Int, 9)
        XCTAssertEqual(json["crowdAnnotations"] as? Int, 1)
        XCTAssertEqual(json["imagesWithoutAnnotations"] as? Int, 1)
        XCTAssertEqual((json["categories"] as? [String: String])?.keys.sorted(), ["1", "18", "3", "44", "62", "90"])
        XCTAssertEqual(json["checked"] as? Int, 4)
    }

    func testBadTransformIsRefusedByName() throws {
        let r = try Prunebench.run(["dataset", "--format", "fashion-mnist", "--transform", "imagenet-evil"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssert(r.stderr.contains("--transform: 'imagenet-evil' is not one of"), r.stderr)
    }
}
