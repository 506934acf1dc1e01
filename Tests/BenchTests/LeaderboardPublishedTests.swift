import Experiments
import Bench
import XCTest

final class LeaderboardPublishedTests: XCTestCase {
    func testSevenBoardsWithTheirRowCounts() {
        XCTAssertEqual(PublishedBoard.all.map(\.section), ["12.1", "12.2", "12.3", "12.4", "12.5", "12.6", "12.7"])
        XCTAssertEqual(PublishedBoard.all.map(\.rows.count), [17, 17, 17, 12, 16, 17, 17])
        XCTAssertEqual(PublishedBoard.all.map(\.decimals), [2, 2, 2, 3, 3, 3, 3])
    }

    /// Values copied from the spec text (pruningbench.md §12).
    func testSpotChecksAgainstTheSpec() throws {
        let r18 = try XCTUnwrap(PublishedBoard.named("cifar100.resnet18.global_protected"))
        XCTAssertEqual(r18.baseAccuracy, 75.61)
        XCTAssertEqual(r18.speedups, [2, 4, 8])
        let l2 = try XCTUnwrap(r18.rows.first { $0.method == "l2" })
        XCTAssertEqual(l2.accuracies, [75.72, 74.01, 71.87])
        XCTAssertEqual(l2.deltas, [0.11, -1.60, -3.74])
        XCTAssertEqual(l2.printedRanks, [4, 1, 1])
        XCTAssertEqual(l2.meanDelta, -1.74)
        XCTAssertEqual(r18.rows.first { $0.method == "slim" }?.track, .regularizer)
        let vit = try XCTUnwrap(PublishedBoard.named("imagenet.vit_s16.global_protected"))
        XCTAssertEqual(vit.baseAccuracy, 78.588)
        XCTAssertEqual(vit.speedups, [2, 3, 4])
        XCTAssertEqual(vit.rows.first { $0.method == "fpgm" }?.accuracies, [69.248, 60.660, 48.258])
        let yolo = try XCTUnwrap(PublishedBoard.named("coco.yolov8m.global_protected"))
        XCTAssertEqual(yolo.rows.first { $0.method == "l2_lasso" }?.accuracies[2], 38.705)
        XCTAssertEqual(PublishedBoard.named("cifar100.resnet50.global_protected")?.baseAccuracy, 78.35)
    }

    func testPrintedMeanDeltasMatchThePrintedDeltas() {
        for board in PublishedBoard.all {
            for row in board.rows {
                XCTAssertEqual(row.computedMeanDelta, row.meanDelta, accuracy: 0.0051, "\(board.key) \(row.method)")
            }
        }
    }

    /// §12.8: ranks are recomputed from the accuracies, not copied from the rank column.
    func testRanksAreRecomputedFromAccuracies() throws {
        let vit = try XCTUnwrap(PublishedBoard.named("imagenet.vit_s16.global_protected"))
        let at2 = vit.ranks(speedup: 2, track: .criterion)
        XCTAssertEqual(at2["taylor"], 7)
        XCTAssertEqual(at2["cp"], 7)
        XCTAssertEqual(at2["thinet"], 9) // printed 8
        let at4 = vit.ranks(speedup: 4, track: .criterion)
        XCTAssertEqual(at4["cp"], 6) // printed 7
        XCTAssertEqual(at4["hessian"], 7) // printed 6
        let yolo = try XCTUnwrap(PublishedBoard.named("coco.yolov8m.global_protected"))
        XCTAssertEqual(yolo.ranks(speedup: 4, track: .regularizer)["l2_lasso"], 1)
        XCTAssertEqual(vit.ranks(speedup: 8, track: .criterion), [:])
        // Mean-Δ ranks on ResNet-18 / CIFAR-100: l2 leads the criteria, group_sl the regularizers.
        let r18 = try XCTUnwrap(PublishedBoard.named("cifar100.resnet18.global_protected"))
        XCTAssertEqual(r18.meanDeltaRanks(track: .criterion)["l2"], 1)
        XCTAssertEqual(r18.meanDeltaRanks(track: .regularizer)["group_sl"], 1)
    }

    func testComparisonWithAPublishedBoard() throws {
        let key = "cifar100.resnet18.global_protected"
        let paper = try XCTUnwrap(PublishedBoard.named(key))
        // Our accuracies: the paper's at 2×, except l1 and taylor swapped.
        let results = paper.rows.filter { $0.track == .criterion }.map { row -> ExperimentResult in
            let accuracy = row.method == "l1" ? 75.93 : row.method == "taylor" ? 75.80 : row.accuracies[0]
            return LeaderboardFixtures.make(board: key, method: row.method, speedup: 2, accuracy: accuracy, base: 75.61)
        }
        let board = try XCTUnwrap(LeaderboardReport.build(from: results).boards.first)
        XCTAssertEqual(board.paper?.section, "12.2")
        let table = try XCTUnwrap(board.table(speedup: 2, track: .criterion))
        XCTAssertEqual(table.rows.first { $0.method == "l2" }?.paperRank, 4)
        XCTAssertEqual(table.rows.first { $0.method == "l2" }?.paperAccuracy, 75.72)
        XCTAssertEqual(table.rows.first { $0.method == "taylor" }?.paperRank, 1)
        XCTAssertEqual(table.rows.first { $0.method == "taylor" }?.rank, 2)
        XCTAssertEqual(table.paperRowsCompared, 12)
        // One swapped adjacent pair of 12 rows with one tie (l2, thinet at 75.72): τ-b < 1.
        let tau = try XCTUnwrap(table.paperTau)
        XCTAssertLessThan(tau, 1)
        XCTAssertGreaterThan(tau, 0.9)
        let summary = try XCTUnwrap(board.summaries.first)
        XCTAssertEqual(summary.paperRowsCompared, 12)
        XCTAssertNotNil(summary.rows.first?.paperRank)
    }
}

extension LeaderboardPublishedTests {
    /// Every embedded row's 2× (first speedup) accuracy appears in the spec's table text, when the
    /// spec is checked out beside the repository (../shared/spec/pruningbench.md).
    func testEmbeddedRowsMatchTheSpecText() throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/spec/pruningbench.md")
        guard let text = try? String(contentsOf: spec, encoding: .utf8) else { throw XCTSkip("spec not found at \(spec.path)") }
        XCTAssertTrue(text.contains("Board `cifar100.resnet18.global_protected` · base 75.61"))
        for board in PublishedBoard.all {
            for row in board.rows {
                let first = "`\(row.method)` | \(String(format: "%.\(board.decimals)f", row.accuracies[0])) ("
                XCTAssertTrue(text.contains(first), "\(board.key) \(row.method)")
            }
        }
    }
}
