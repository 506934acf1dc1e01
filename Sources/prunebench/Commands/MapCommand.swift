import ArgumentParser
import Data
import Detection
import Foundation

/// `prunebench map`: COCO box mAP of a results file, as pycocotools computes it.
struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "COCO box mAP of detections against ground truth (pycocotools' 12 numbers).",
        discussion: """
        --gt is a COCO instances file, --dt a COCO results file (a list of {image_id, category_id, bbox, score}).
        Prints pycocotools' summary; --json prints the 12 numbers and per-category AP, AP50, AP75 and AR@100.
        Example: prunebench map --gt instances_val2017.json --dt detections.json
        """
    )

    @Option(help: "Ground truth: a COCO instances JSON file.") var gt: String
    @Option(help: "Detections: a COCO results JSON file.") var dt: String
    @Flag(help: "Print JSON instead of the summary.") var json = false

    func run() throws {
        do {
            let truth = try COCODetection(annotations: gt, images: (gt as NSString).deletingLastPathComponent)
            let detections = try COCOEvaluator.readDetections(dt)
            let summary = try COCOEvaluator(groundTruth: truth, detections: detections).summarize()
            guard json else { print(summary.text); return }
            var stats: [String: Double] = [:]
            for (key, value) in zip(COCOEvaluator.Summary.keys, summary.stats) { stats[key] = value }
            let perCategory = Dictionary(uniqueKeysWithValues: summary.perCategory.map { id, v in
                (String(id), ["AP": v.ap, "AP50": v.ap50, "AP75": v.ap75, "AR100": v.ar100])
            })
            let object: [String: Any] = ["stats": stats, "per_category": perCategory, "images": truth.images.count,
                                         "ground_truth": truth.annotations.count, "detections": detections.count]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch { throw CommandFailure(error) }
    }
}
