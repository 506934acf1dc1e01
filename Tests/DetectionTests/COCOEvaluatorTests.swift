import Data
import Detection
import Foundation
import TestSupport
import XCTest

/// COCO box evaluation against pycocotools 2.0.11's numbers on four fixtures (made with
/// `COCOeval(gt, gt.loadRes(dt), "bbox")`): the 12 stats, per-category AP/AP50/AP75/AR@100 and the
/// printed summary.
final class COCOEvaluatorTests: XCTestCase {
    private func evaluate(gt: String, dt: String) throws -> COCOEvaluator.Summary {
        let truth = try COCODetection(annotations: Fixtures.path(gt), images: "")
        return try COCOEvaluator(groundTruth: truth, detections: COCOEvaluator.readDetections(Fixtures.path(dt))).summarize()
    }

    func testMapFixturesEqualPycocotools() throws {
        for name in ["basic", "edge_cases", "random_20img"] {
            let dir = "detection/map/\(name)/"
            let summary = try evaluate(gt: dir + "gt.json", dt: dir + "dt.json")
            let expected = try Fixtures.json(dir + "expected.json")
            let stats = expected["stats"] as! [Double]
            XCTAssertEqual(expected["stat_names"] as! [String], COCOEvaluator.Summary.names)
            for (i, (got, want)) in zip(summary.stats, stats).enumerated() {
                XCTAssertEqual(got, want, accuracy: 1e-12, "\(name) \(COCOEvaluator.Summary.names[i])")
            }
            let perCategory = expected["per_category"] as! [String: [String: Any]]
            XCTAssertEqual(Set(summary.perCategory.keys.map(String.init)), Set(perCategory.keys), name)
            for (id, values) in perCategory {
                let got = try XCTUnwrap(summary.perCategory[Int(id)!])
                for (key, value) in [("ap", got.ap), ("ap50", got.ap50), ("ap75", got.ap75), ("ar100", got.ar100)] {
                    XCTAssertEqual(value, values[key] as! Double, accuracy: 1e-12, "\(name) category \(id) \(key)")
                }
            }
            XCTAssertEqual(summary.text, (expected["summarize_output"] as! [String]).joined(separator: "\n"), name)
        }
    }

    func testCOCOFixtureWithCrowdAndEmptyImage() throws {
        let summary = try evaluate(gt: "data/coco/instances.json", dt: "data/coco/detections.json")
        let expected = try Fixtures.json("data/coco/eval_expected.json")
        let stats = expected["stats"] as! [String: Double]
        for (key, value) in zip(COCOEvaluator.Summary.keys, summary.stats) {
            XCTAssertEqual(value, try XCTUnwrap(stats[key]), accuracy: 1e-12, key)
        }
        for (id, ap) in expected["per_category_AP_area_all_maxdet100"] as! [String: Double] {
            XCTAssertEqual(try XCTUnwrap(summary.perCategory[Int(id)!]).ap, ap, accuracy: 1e-12, "category \(id)")
        }
    }

    func testPerfectAndEmptyDetections() throws {
        let truth = try COCODetection(annotations: Fixtures.path("detection/map/basic/gt.json"), images: "")
        // Every non-crowd ground truth box found exactly, with distinct scores: AP 1 wherever defined.
        let perfect = truth.annotations.filter { !$0.isCrowd }.enumerated().map { i, a in
            COCOEvaluator.Detection(imageID: a.imageID, categoryID: a.categoryID, bbox: a.bbox, score: 1 - Double(i) * 1e-3)
        }
        let best = try COCOEvaluator(groundTruth: truth, detections: perfect).summarize()
        for i in [0, 1, 2, 3, 4, 5, 8] { XCTAssertEqual(best.stats[i], 1, accuracy: 1e-12, COCOEvaluator.Summary.names[i]) }
        // No detections: every AP and AR 0 (there is ground truth), none undefined.
        let none = try COCOEvaluator(groundTruth: truth, detections: []).summarize()
        XCTAssertEqual(none.stats, [Double](repeating: 0, count: 12))
    }

    func testBadDetectionsNameTheField() throws {
        let truth = try COCODetection(annotations: Fixtures.path("detection/map/basic/gt.json"), images: "")
        func message(_ d: [COCOEvaluator.Detection]) -> String {
            do { _ = try COCOEvaluator(groundTruth: truth, detections: d); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message([.init(imageID: 999, categoryID: 1, bbox: [0, 0, 1, 1], score: 1)]).contains("detections[0].image_id: 999"))
        XCTAssertTrue(message([.init(imageID: 1, categoryID: 1, bbox: [0, 0, -1, 1], score: 1)]).contains("detections[0].bbox"))
        XCTAssertTrue(message([.init(imageID: 1, categoryID: 1, bbox: [0, 0, 1, 1], score: .nan)]).contains("detections[0].score"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("map-\(UUID().uuidString).json").path
        try Foundation.Data(#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]"#.utf8).write(to: URL(fileURLWithPath: dir))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try COCOEvaluator.readDetections(dir)) { XCTAssertTrue("\($0)".contains("field '[0].score' is missing"), "\($0)") }
    }

    func testMapCommandPrintsTheSummaryAndJSON() throws {
        let gt = Fixtures.path("detection/map/edge_cases/gt.json"), dt = Fixtures.path("detection/map/edge_cases/dt.json")
        let expected = try Fixtures.json("detection/map/edge_cases/expected.json")
        let text = try Prunebench.run(["map", "--gt", gt, "--dt", dt])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertEqual(text.stdout.trimmingCharacters(in: .newlines), (expected["summarize_output"] as! [String]).joined(separator: "\n"))
        let json = try Prunebench.run(["map", "--gt", gt, "--dt", dt, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Foundation.Data(json.stdout.utf8)) as! [String: Any]
        let stats = object["stats"] as! [String: Double]
        XCTAssertEqual(try XCTUnwrap(stats["AP"]), (expected["stats"] as! [Double])[0], accuracy: 1e-12)
        let bad = try Prunebench.run(["map", "--gt", gt, "--dt", gt])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("not a COCO results file") || bad.stderr.contains("wrong type"), bad.stderr)
    }
}
