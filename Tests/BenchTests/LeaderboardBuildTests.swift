import Experiments
import Bench
import XCTest

final class LeaderboardBuildTests: XCTestCase {
    typealias F = LeaderboardFixtures

    func testRanksWithTiesAndSeparateTracks() throws {
        let results = [
            F.make(method: "l1", accuracy: 80), F.make(method: "l2", accuracy: 70.001), F.make(method: "fpgm", accuracy: 69.998),
            F.make(method: "random", accuracy: 60), F.make(method: "slim", accuracy: 75), F.make(method: "group_sl", accuracy: 65),
        ]
        let board = try XCTUnwrap(LeaderboardReport.build(from: results).boards.first)
        let criterion = try XCTUnwrap(board.table(speedup: 2, track: .criterion))
        XCTAssertEqual(criterion.rows.map(\.method), ["l1", "l2", "fpgm", "random"])
        XCTAssertEqual(criterion.rows.map(\.rank), [1, 2, 2, 4])
        let regularizer = try XCTUnwrap(board.table(speedup: 2, track: .regularizer))
        XCTAssertEqual(regularizer.rows.map(\.method), ["slim", "group_sl"])
        XCTAssertEqual(regularizer.rows.map(\.rank), [1, 2])
        XCTAssertEqual(regularizer.rows[0].regSeconds, 30)
        XCTAssertEqual(criterion.rows[0].delta, 30, accuracy: 1e-9)
        XCTAssertEqual(board.baseAccuracy, 50)
        XCTAssertEqual(board.rowCount, 6)
        XCTAssertEqual(board.cellCount, 6)
    }

    func testSummaryMeanDeltaMeanRankAndMissingCells() throws {
        let results = [
            F.make(method: "l1", speedup: 2, accuracy: 60), F.make(method: "l2", speedup: 2, accuracy: 58),
            F.make(method: "fpgm", speedup: 2, accuracy: 59),
            F.make(method: "l1", speedup: 4, accuracy: 40), F.make(method: "l2", speedup: 4, accuracy: 50),
        ]
        let board = try XCTUnwrap(LeaderboardReport.build(from: results).boards.first)
        XCTAssertEqual(board.speedups, [2, 4])
        let summary = try XCTUnwrap(board.summaries.first { $0.track == .criterion })
        // Mean Δ: l2 (8 + 0)/2 = 4, fpgm 9 (2× only), l1 (10 − 10)/2 = 0.
        XCTAssertEqual(summary.rows.map(\.method), ["fpgm", "l2", "l1"])
        XCTAssertEqual(summary.rows.map(\.rank), [1, 2, 3])
        XCTAssertEqual(summary.rows.map(\.meanDelta), [9, 4, 0])
        // Ranks: 2× l1 1, fpgm 2, l2 3; 4× l2 1, l1 2.
        XCTAssertEqual(summary.rows.map(\.meanRank), [2, 2, 1.5])
        XCTAssertEqual(summary.rows[0].missingSpeedups, [4])
        XCTAssertTrue(summary.rows[0].isIncomplete)
        XCTAssertFalse(summary.rows[1].isIncomplete)
        let md = MarkdownRenderer.render(LeaderboardReport(boards: [board]))
        XCTAssertTrue(md.contains("| 1 | fpgm | 59.00 (+9.00) [2] | — | +9.00* | 2.00 |"), md)
    }

    func testSeedsMeanStdAndRankRange() throws {
        let results = [
            F.make(method: "l1", accuracy: 70, seed: 0), F.make(method: "l1", accuracy: 74, seed: 1),
            F.make(method: "l2", accuracy: 73, seed: 0), F.make(method: "l2", accuracy: 72, seed: 1),
            F.make(method: "fpgm", accuracy: 60, seed: 0), F.make(method: "fpgm", accuracy: 61, seed: 1),
        ]
        let board = try XCTUnwrap(LeaderboardReport.build(from: results).boards.first)
        XCTAssertEqual(board.seeds, [0, 1])
        let table = try XCTUnwrap(board.table(speedup: 2, track: .criterion))
        // Means: l2 72.5, l1 72, fpgm 60.5.
        XCTAssertEqual(table.rows.map(\.method), ["l2", "l1", "fpgm"])
        XCTAssertEqual(table.rows[1].accuracy, 72)
        XCTAssertEqual(try XCTUnwrap(table.rows[1].accuracyStd), 8.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(table.rows[1].seeds, [0, 1])
        // Seed 0: l2 1, l1 2, fpgm 3; seed 1: l1 1, l2 2, fpgm 3.
        XCTAssertEqual(table.rows.map(\.rankRange), [RankRange(min: 1, max: 2), RankRange(min: 1, max: 2), RankRange(min: 3, max: 3)])
        // τ-b between the two seed rankings: C = 2, D = 1 → 1/3.
        XCTAssertEqual(try XCTUnwrap(table.seedTau), 1 / 3.0, accuracy: 1e-12)
    }

    func testSkipsPretrainDeduplicatesAndFiltersBoards() throws {
        var pretrain = F.make(method: "l1", accuracy: 99)
        pretrain.spec.kind = .pretrain
        pretrain.spec.leaderboard = nil
        pretrain.id = "pretrain"
        let a = F.make(board: "a.board", method: "l1", accuracy: 70)
        let results = [pretrain, a, a, F.make(board: "b.board", method: "l1", accuracy: 70)]
        let report = LeaderboardReport.build(from: results)
        XCTAssertEqual(report.boards.map(\.key), ["a.board", "b.board"])
        XCTAssertEqual(report.boards[0].cellCount, 1)
        XCTAssertEqual(LeaderboardReport.build(from: results, boards: ["b.board"]).boards.map(\.key), ["b.board"])
    }

    func testStandInLabel() throws {
        let board = try XCTUnwrap(LeaderboardReport.build(from: [F.make(method: "l1", accuracy: 70)]).boards.first)
        XCTAssertEqual(board.standInLabel, "Fashion-MNIST stand-in for CIFAR-100")
        XCTAssertTrue(MarkdownRenderer.render(LeaderboardReport(boards: [board])).contains("Fashion-MNIST stand-in for CIFAR-100"))
    }
}
