import Data
import Foundation

/// COCO box evaluation exactly as pycocotools' `COCOeval(gt, gt.loadRes(dt), "bbox")` computes it
/// with its default parameters: IoU thresholds .50:.05:.95, 101 recall points, areas all / small /
/// medium / large, at most 1 / 10 / 100 detections per image and category, crowd regions ignored.
/// Every step (sort orders, ties, the matching rule, the precision envelope, the means) follows
/// pycocotools, so the 12 numbers agree to float rounding.
public struct COCOEvaluator {
    /// One detection in COCO's results format.
    public struct Detection: Codable, Sendable, Equatable {
        public var imageID: Int
        public var categoryID: Int
        /// `[x, y, width, height]` in pixels.
        public var bbox: [Double]
        public var score: Double

        enum CodingKeys: String, CodingKey { case imageID = "image_id", categoryID = "category_id", bbox, score }

        public init(imageID: Int, categoryID: Int, bbox: [Double], score: Double) {
            self.imageID = imageID; self.categoryID = categoryID; self.bbox = bbox; self.score = score
        }
    }

    /// The 12 summary numbers, in pycocotools' `summarize` order, -1 where nothing is defined.
    public struct Summary: Sendable, Equatable {
        /// What each number is: AP or AR, the IoU thresholds, the area range, the detection limit.
        static let rows: [(ap: Bool, iou: String, area: String, dets: Int)] = [
            (true, "0.50:0.95", "all", 100), (true, "0.50", "all", 100), (true, "0.75", "all", 100),
            (true, "0.50:0.95", "small", 100), (true, "0.50:0.95", "medium", 100), (true, "0.50:0.95", "large", 100),
            (false, "0.50:0.95", "all", 1), (false, "0.50:0.95", "all", 10), (false, "0.50:0.95", "all", 100),
            (false, "0.50:0.95", "small", 100), (false, "0.50:0.95", "medium", 100), (false, "0.50:0.95", "large", 100),
        ]
        /// The labels of the numbers, in order: `AP@[.50:.95] area=all maxDets=100`, `AP@.50 ...`.
        public static let names = rows.map { row in
            let iou = row.iou.contains(":") ? "[.50:.95]" : String(row.iou.dropFirst())
            return "\(row.ap ? "AP" : "AR")@\(iou) area=\(row.area) maxDets=\(row.dets)"
        }
        /// Short keys for JSON: `AP`, `AP50`, `AP75`, `AP_small`, ..., `AR_large`.
        public static let keys = ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
                                  "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"]
        public var stats: [Double]
        /// Per category id: AP@[.5:.95], AP@.5, AP@.75 and AR@100, area all (-1 without ground truth).
        public var perCategory: [Int: (ap: Double, ap50: Double, ap75: Double, ar100: Double)]

        public static func == (a: Summary, b: Summary) -> Bool {
            a.stats == b.stats && a.perCategory.keys == b.perCategory.keys
                && a.perCategory.allSatisfy { k, v in let w = b.perCategory[k]!; return v == w }
        }

        /// pycocotools' printed summary, one line per number.
        public var text: String {
            return zip(Self.rows, stats).map { row, value in
                let title = (row.ap ? "Average Precision" : "Average Recall").padding(toLength: 18, withPad: " ", startingAt: 0)
                let iou = row.iou.padding(toLength: 9, withPad: " ", startingAt: 0)
                let area = String(repeating: " ", count: 6 - row.area.count) + row.area
                let dets = String(repeating: " ", count: 3 - String(row.dets).count) + String(row.dets)
                return " \(title) \(row.ap ? "(AP)" : "(AR)") @[ IoU=\(iou) | area=\(area) | maxDets=\(dets) ] = \(String(format: "%.3f", value))"
            }.joined(separator: "\n")
        }
    }

    /// pycocotools' `np.linspace(.5, 0.95, 10)`.
    public static let iouThresholds = linspace(0.5, 0.95, 10)
    /// pycocotools' `np.linspace(.0, 1.00, 101)`.
    public static let recallThresholds = linspace(0, 1, 101)
    /// Detections kept per image and category.
    public static let maxDetections = [1, 10, 100]
    /// all, small, medium, large (both ends inclusive).
    public static let areaRanges: [(label: String, low: Double, high: Double)] = [
        ("all", 0, 1e10), ("small", 0, 1024), ("medium", 1024, 9216), ("large", 9216, 1e10),
    ]

    /// `np.linspace(start, stop, n)`: `start + i * ((stop - start) / (n - 1))`, the last exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        let step = (stop - start) / Double(n - 1)
        var values = (0..<n).map { Double($0) * step + start }
        values[n - 1] = stop
        return values
    }

    private struct Box {
        var id: Int, bbox: [Double], area: Double, crowd: Bool, score: Double
    }

    /// Ground truth and detections per (image, category), in file order.
    private var groundTruth: [Key: [Box]] = [:]
    private var detections: [Key: [Box]] = [:]
    private let imageIDs: [Int]
    private let categoryIDs: [Int]

    private struct Key: Hashable { var image: Int, category: Int }

    /// Prepares the evaluation of `detections` against `groundTruth`: every detection's image must be
    /// one of the ground truth's (pycocotools' `loadRes` assertion), its box `[x, y, w, h]` finite with
    /// `w, h >= 0` and its score finite. Detections of categories the ground truth does not list are
    /// not evaluated, as in pycocotools.
    public init(groundTruth: COCODetection, detections: [Detection]) throws(COCOEvaluationError) {
        imageIDs = groundTruth.images.map(\.id).sorted()
        categoryIDs = groundTruth.categories.map(\.id).sorted()
        let images = Set(imageIDs), categories = Set(categoryIDs)
        for a in groundTruth.annotations where categories.contains(a.categoryID) {
            self.groundTruth[Key(image: a.imageID, category: a.categoryID), default: []]
                .append(Box(id: a.id, bbox: a.bbox, area: a.area, crowd: a.isCrowd, score: 0))
        }
        for (i, d) in detections.enumerated() {
            guard images.contains(d.imageID) else {
                throw COCOEvaluationError("detections[\(i)].image_id: \(d.imageID) is not an image of the ground truth")
            }
            guard d.bbox.count == 4, d.bbox.allSatisfy(\.isFinite), d.bbox[2] >= 0, d.bbox[3] >= 0 else {
                throw COCOEvaluationError("detections[\(i)].bbox: expected [x, y, width, height] with width, height >= 0, found \(d.bbox)")
            }
            guard d.score.isFinite else { throw COCOEvaluationError("detections[\(i)].score: \(d.score) is not a finite number") }
            guard categories.contains(d.categoryID) else { continue }
            // loadRes: area = w * h, iscrowd = 0, id = index + 1.
            self.detections[Key(image: d.imageID, category: d.categoryID), default: []]
                .append(Box(id: i + 1, bbox: d.bbox, area: d.bbox[2] * d.bbox[3], crowd: false, score: d.score))
        }
    }

    /// pycocotools' `maskUtils.iou` for boxes: intersection over union, the detection's own area for a crowd region.
    private static func iou(_ d: [Double], _ g: [Double], crowd: Bool) -> Double {
        let w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
        guard w > 0 else { return 0 }
        let h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
        guard h > 0 else { return 0 }
        let i = w * h, da = d[2] * d[3]
        let u = crowd ? da : da + g[2] * g[3] - i
        return i / u
    }

    /// Indices of `values` sorted descending, ties in their original order (NumPy's stable mergesort of `-values`).
    private static func descendingOrder(_ values: [Double]) -> [Int] {
        values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }

    /// One (image, category, area) evaluation: pycocotools' `evaluateImg` at maxDet 100.
    private struct ImageResult {
        var scores: [Double]
        /// Per IoU threshold, per detection: matched (to a ground truth id != 0) and ignored.
        var matched: [[Bool]], ignored: [[Bool]]
        var gtIgnored: [Bool]
    }

    /// One (image, category) as every area range sees it: pycocotools' `computeIoU`, done once.
    private struct Pair {
        /// Ground truth in file order; detections by score, the first 100.
        var gts: [Box], dets: [Box]
        /// `ious[d][g]`, empty when either side is.
        var ious: [[Double]]
    }

    private func pair(_ key: Key) -> Pair? {
        let gts = groundTruth[key] ?? [], allDets = detections[key] ?? []
        if gts.isEmpty && allDets.isEmpty { return nil }
        let dets = Self.descendingOrder(allDets.map(\.score)).prefix(Self.maxDetections.last!).map { allDets[$0] }
        let ious = gts.isEmpty ? [] : dets.map { d in gts.map { Self.iou(d.bbox, $0.bbox, crowd: $0.crowd) } }
        return Pair(gts: gts, dets: dets, ious: ious)
    }

    private func evaluateImage(_ p: Pair, low: Double, high: Double) -> ImageResult {
        let gts = p.gts, dets = p.dets
        let ignoreFlags = gts.map { $0.crowd || $0.area < low || $0.area > high }
        // Non-ignored first, stable.
        let gtOrder = gts.indices.sorted { (ignoreFlags[$0] ? 1 : 0, $0) < (ignoreFlags[$1] ? 1 : 0, $1) }
        let g = gtOrder.map { gts[$0] }, gtIgnored = gtOrder.map { ignoreFlags[$0] }
        let ious = p.ious.map { row in gtOrder.map { row[$0] } }
        let t = Self.iouThresholds.count
        var matched = [[Bool]](repeating: [Bool](repeating: false, count: dets.count), count: t)
        var ignored = matched
        if !g.isEmpty && !dets.isEmpty {
            for (ti, threshold) in Self.iouThresholds.enumerated() {
                var gtMatch = [Int](repeating: 0, count: g.count)
                for di in dets.indices {
                    var best = min(threshold, 1 - 1e-10)
                    var m = -1
                    for gi in g.indices {
                        if gtMatch[gi] > 0 && !g[gi].crowd { continue }
                        if m > -1 && !gtIgnored[m] && gtIgnored[gi] { break }
                        if ious[di][gi] < best { continue }
                        best = ious[di][gi]
                        m = gi
                    }
                    guard m != -1 else { continue }
                    ignored[ti][di] = gtIgnored[m]
                    matched[ti][di] = g[m].id != 0
                    gtMatch[m] = dets[di].id
                }
            }
        }
        for di in dets.indices where dets[di].area < low || dets[di].area > high {
            for ti in 0..<t where !matched[ti][di] { ignored[ti][di] = true }
        }
        return ImageResult(scores: dets.map(\.score), matched: matched, ignored: ignored, gtIgnored: gtIgnored)
    }

    /// Runs `evaluate`, `accumulate` and `summarize`.
    public func summarize() -> Summary {
        let t = Self.iouThresholds.count, r = Self.recallThresholds.count
        let k = categoryIDs.count, a = Self.areaRanges.count, m = Self.maxDetections.count
        // precision[t][r][k][a][m] and recall[t][k][a][m], flattened; -1 = undefined.
        var precision = [Double](repeating: -1, count: t * r * k * a * m)
        var recall = [Double](repeating: -1, count: t * k * a * m)
        func pIndex(_ ti: Int, _ ri: Int, _ ki: Int, _ ai: Int, _ mi: Int) -> Int { (((ti * r + ri) * k + ki) * a + ai) * m + mi }
        func rIndex(_ ti: Int, _ ki: Int, _ ai: Int, _ mi: Int) -> Int { ((ti * k + ki) * a + ai) * m + mi }

        for (ki, category) in categoryIDs.enumerated() {
            let pairs = imageIDs.compactMap { pair(Key(image: $0, category: category)) }
            for (ai, range) in Self.areaRanges.enumerated() {
                let results = pairs.map { evaluateImage($0, low: range.low, high: range.high) }
                if results.isEmpty { continue }
                let npig = results.reduce(0) { $0 + $1.gtIgnored.filter { !$0 }.count }
                for (mi, maxDet) in Self.maxDetections.enumerated() {
                    var scores: [Double] = []
                    var matched = [[Bool]](repeating: [], count: t), ignored = matched
                    for e in results {
                        let n = min(maxDet, e.scores.count)
                        scores += e.scores[0..<n]
                        for ti in 0..<t { matched[ti] += e.matched[ti][0..<n]; ignored[ti] += e.ignored[ti][0..<n] }
                    }
                    if npig == 0 { continue }
                    let order = Self.descendingOrder(scores)
                    for ti in 0..<t {
                        var tp = 0.0, fp = 0.0
                        var rc: [Double] = [], pr: [Double] = []
                        rc.reserveCapacity(order.count); pr.reserveCapacity(order.count)
                        for i in order where !ignored[ti][i] {
                            if matched[ti][i] { tp += 1 } else { fp += 1 }
                            rc.append(tp / Double(npig))
                            pr.append(tp / (fp + tp + Double.ulpOfOne))
                        }
                        // pycocotools keeps every detection in the cumulative arrays (ignored ones repeat the
                        // previous totals); recall and precision at repeated totals are equal, so the
                        // envelope and the threshold search give the same values as on the reduced arrays,
                        // except through `nd` (the count) which only matters when it is zero.
                        recall[rIndex(ti, ki, ai, mi)] = rc.last ?? 0
                        var i = pr.count - 1
                        while i > 0 { if pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }; i -= 1 }
                        var pos = 0
                        for (ri, threshold) in Self.recallThresholds.enumerated() {
                            while pos < rc.count && rc[pos] < threshold { pos += 1 }
                            guard pos < rc.count else { break }
                            precision[pIndex(ti, ri, ki, ai, mi)] = pr[pos]
                        }
                        for ri in 0..<r where precision[pIndex(ti, ri, ki, ai, mi)] == -1 { precision[pIndex(ti, ri, ki, ai, mi)] = 0 }
                    }
                }
            }
        }

        func mean(_ values: [Double]) -> Double {
            let defined = values.filter { $0 > -1 }
            return defined.isEmpty ? -1 : defined.reduce(0, +) / Double(defined.count)
        }
        func ap(_ iou: Double?, area: String = "all", maxDet: Int = 100, categories: [Int]? = nil) -> Double {
            let ai = Self.areaRanges.firstIndex { $0.label == area }!, mi = Self.maxDetections.firstIndex(of: maxDet)!
            let ts = iou.map { v in Self.iouThresholds.indices.filter { Self.iouThresholds[$0] == v } } ?? Array(0..<t)
            var values: [Double] = []
            for ti in ts { for ri in 0..<r { for ki in categories ?? Array(0..<k) { values.append(precision[pIndex(ti, ri, ki, ai, mi)]) } } }
            return mean(values)
        }
        func ar(area: String = "all", maxDet: Int = 100, categories: [Int]? = nil) -> Double {
            let ai = Self.areaRanges.firstIndex { $0.label == area }!, mi = Self.maxDetections.firstIndex(of: maxDet)!
            var values: [Double] = []
            for ti in 0..<t { for ki in categories ?? Array(0..<k) { values.append(recall[rIndex(ti, ki, ai, mi)]) } }
            return mean(values)
        }
        let stats = [ap(nil), ap(0.5), ap(0.75), ap(nil, area: "small"), ap(nil, area: "medium"), ap(nil, area: "large"),
                     ar(maxDet: 1), ar(maxDet: 10), ar(), ar(area: "small"), ar(area: "medium"), ar(area: "large")]
        var perCategory: [Int: (ap: Double, ap50: Double, ap75: Double, ar100: Double)] = [:]
        for (ki, id) in categoryIDs.enumerated() {
            perCategory[id] = (ap(nil, categories: [ki]), ap(0.5, categories: [ki]), ap(0.75, categories: [ki]), ar(categories: [ki]))
        }
        return Summary(stats: stats, perCategory: perCategory)
    }
}

/// Detections that cannot be evaluated against the ground truth: the field and what was expected.
public struct COCOEvaluationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension COCOEvaluator {
    /// Reads a COCO results file (a JSON array of `{image_id, category_id, bbox, score}`); the
    /// error names the file and the field.
    public static func readDetections(_ path: String) throws(COCOEvaluationError) -> [Detection] {
        let data: Foundation.Data
        do { data = try Foundation.Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw COCOEvaluationError("\(path): cannot read the detections file")
        }
        do {
            return try JSONDecoder().decode([Detection].self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw COCOEvaluationError("\(path): field '\(COCODetection.fieldPath(context.codingPath + [key]))' is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw COCOEvaluationError("\(path): field '\(COCODetection.fieldPath(context.codingPath))' has the wrong type (expected a list of {image_id, category_id, bbox, score})")
        } catch let DecodingError.valueNotFound(_, context) {
            throw COCOEvaluationError("\(path): field '\(COCODetection.fieldPath(context.codingPath))' is null")
        } catch {
            throw COCOEvaluationError("\(path): not a COCO results file (a JSON list of detections)")
        }
    }
}
