import Data
import Foundation

/// What `prunebench dataset` reports.
struct DatasetSummary: Encodable {
    var format: String
    var root: String
    var transform: String
    var samples = 0
    var classes: [String] = []
    var samplesPerClass: [Int] = []
    var skipped: [String] = []
    var images: Int?
    var annotations: Int?
    var crowdAnnotations: Int?
    var categories: [String: String]?
    var imagesWithoutAnnotations: Int?
    var checked = 0
    var failures: [String] = []
    var preview: String?

    mutating func describe(_ s: any ImageSamples, count: Int) {
        samples = count
        classes = s.classNames
        var perClass = [Int](repeating: 0, count: max(s.classNames.count, 1))
        for i in 0..<count { let l = Int(s.label(i)); if perClass.indices.contains(l) { perClass[l] += 1 } }
        samplesPerClass = perClass
    }

    mutating func describe(_ coco: COCODetection) {
        images = coco.images.count
        annotations = coco.annotations.count
        crowdAnnotations = coco.annotations.filter(\.isCrowd).count
        categories = Dictionary(uniqueKeysWithValues: coco.categories.map { ("\($0.id)", $0.name) })
        let annotated = Set(coco.annotations.map(\.imageID))
        imagesWithoutAnnotations = coco.images.filter { !annotated.contains($0.id) }.count
    }

    func with(checked: Int, failures: [String]) -> DatasetSummary {
        var s = self
        s.checked = checked
        s.failures = failures
        return s
    }

    func printText() {
        print("\(format) at \(root)")
        if let images {
            print("images: \(images)   annotations: \(annotations ?? 0) (\(crowdAnnotations ?? 0) crowd)   "
                + "categories: \(categories?.count ?? 0)   images without annotations: \(imagesWithoutAnnotations ?? 0)")
            let ids = (categories ?? [:]).keys.compactMap(Int.init).sorted()
            print("category ids: " + ids.map { "\($0) \(categories!["\($0)"]!)" }.joined(separator: ", "))
        } else {
            print("samples: \(samples)   classes: \(classes.count)   transform: \(transform)")
            for (i, name) in classes.enumerated().prefix(20) { print("  \(i)  \(name)  \(samplesPerClass[i])") }
            if classes.count > 20 { print("  ... \(classes.count - 20) more classes") }
            if !skipped.isEmpty { print("skipped (not an image extension): \(skipped.count), e.g. \(skipped.prefix(3).joined(separator: ", "))") }
        }
        print("checked: \(checked) files, \(failures.count) failed")
        for f in failures.prefix(20) { print("  \(f)") }
        if failures.count > 20 { print("  ... and \(failures.count - 20) more") }
        if let preview { print("preview: \(preview)") }
    }

    func jsonText() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}
