import Bench
import XCTest

final class LeaderboardRankingTests: XCTestCase {
    func testCompetitionRanksShareTiesAndSkip() {
        XCTAssertEqual(Ranking.competitionRanks([90, 80, 80, 70]), [1, 2, 2, 4])
        XCTAssertEqual(Ranking.competitionRanks([70, 80, 90]), [3, 2, 1])
        // Ties are decided at 2 decimals: 75.721 and 75.719 both print 75.72.
        XCTAssertEqual(Ranking.competitionRanks([75.721, 75.719, 75.70]), [1, 1, 3])
        XCTAssertEqual(Ranking.competitionRanks([67.400, 67.4004, 67.399], decimals: 3), [1, 1, 3])
        XCTAssertEqual(Ranking.competitionRanks([]), [])
    }

    func testKendallTauBIdenticalAndReversed() throws {
        XCTAssertEqual(try XCTUnwrap(Ranking.kendallTauB([1, 2, 3, 4], [1, 2, 3, 4])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Ranking.kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])), -1, accuracy: 1e-12)
    }

    func testKendallTauBWithTies() throws {
        // Pairs: 5 concordant, 0 discordant, 1 tied in x only; n0 = 6 → 5 / √(5·6).
        XCTAssertEqual(try XCTUnwrap(Ranking.kendallTauB([1, 2, 2, 3], [1, 2, 3, 4])), 5 / 30.0.squareRoot(), accuracy: 1e-12)
        // Hand count: C = 2, D = 6, ties in x 2, ties in y 1 (n0 = 10) → −4 / √(8·9) = −0.4714045.
        XCTAssertEqual(try XCTUnwrap(Ranking.kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])), -0.47140452079103173, accuracy: 1e-12)
        // One concordant and one discordant pair cancel.
        XCTAssertEqual(try XCTUnwrap(Ranking.kendallTauB([1, 1, 2, 2], [1, 2, 1, 2])), 0, accuracy: 1e-12)
    }

    func testKendallTauBUndefined() {
        XCTAssertNil(Ranking.kendallTauB([1], [1]))
        XCTAssertNil(Ranking.kendallTauB([1, 1, 1], [1, 2, 3]))
    }

    func testMeanPairwiseTau() throws {
        let a = ["x": 1, "y": 2, "z": 3], b = ["x": 1, "y": 2, "z": 3], c = ["x": 3, "y": 2, "z": 1]
        // Pairs: (a,b) = 1, (a,c) = −1, (b,c) = −1.
        XCTAssertEqual(try XCTUnwrap(Ranking.meanPairwiseTau([a, b, c])), -1 / 3.0, accuracy: 1e-12)
        XCTAssertNil(Ranking.meanPairwiseTau([a]))
    }

    func testStatistics() throws {
        XCTAssertEqual(Statistics.mean([1, 2, 3]), 2)
        XCTAssertNil(Statistics.mean([]))
        XCTAssertEqual(try XCTUnwrap(Statistics.sampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9])), (32 / 7.0).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(Statistics.sampleStandardDeviation([3]))
    }
}
