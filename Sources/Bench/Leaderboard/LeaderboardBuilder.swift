import Experiments
import Foundation

extension LeaderboardReport {
    /// Builds every leaderboard from a set of results: a pure function, whatever the source
    /// (a `results.jsonl`, an artifact directory, a journal).
    ///
    /// Pretrain results are not ranked; they only supply base accuracies a pruning result lacks.
    /// Results with the same `id` count once (the last wins). Cells with several seeds are
    /// averaged and ranked by the mean (pruningbench.md §11.2). A board whose key matches a
    /// published board (`published`) carries the paper's ranks and Kendall τ-b beside ours.
    ///
    /// - Parameters:
    ///   - results: experiment results in any order.
    ///   - boards: board keys to keep; nil keeps all.
    ///   - published: the published boards to compare against.
    public static func build(from results: [ExperimentResult], boards: [String]? = nil,
                             published: [PublishedBoard] = PublishedBoard.all) -> LeaderboardReport {
        var byID = [String: ExperimentResult]()
        for r in results { byID[r.id] = r }
        let unique = byID.values.sorted { $0.id < $1.id }
        var pretrainAccuracy = [String: Double]()
        for r in unique where r.spec.kind == .pretrain { pretrainAccuracy[r.id] = r.metrics.accuracy }
        let pruning = unique.filter { r in
            guard r.spec.kind == .prune, let key = r.spec.leaderboard, r.spec.speedup != nil, r.spec.method != nil,
                  r.metrics.accuracy.isFinite else { return false }
            return boards.map { $0.contains(key) } ?? true
        }
        let grouped = Dictionary(grouping: pruning) { BoardID(key: $0.spec.leaderboard!, profile: $0.spec.profile) }
        let built = grouped.keys.sorted().map { id in
            var board = BoardBuilder(id: id, results: grouped[id]!, pretrainAccuracy: pretrainAccuracy).board()
            if let paper = published.first(where: { $0.key == id.key }) { PaperComparison.attach(paper, to: &board) }
            return board
        }
        return LeaderboardReport(boards: built)
    }
}

/// A board's identity in a result set: its key and the profile it ran under.
struct BoardID: Hashable, Comparable {
    var key: String
    var profile: String

    static func < (a: BoardID, b: BoardID) -> Bool { (a.key, a.profile) < (b.key, b.profile) }
}

/// Orders row keys as pruningbench.md §5 does; unknown keys follow, alphabetically.
enum RowOrder {
    static func precedes(_ a: String, _ b: String) -> Bool {
        let ia = LeaderboardRow.keys.firstIndex(of: a) ?? Int.max, ib = LeaderboardRow.keys.firstIndex(of: b) ?? Int.max
        return ia != ib ? ia < ib : a < b
    }
}

/// Builds one board from its pruning results.
private struct BoardBuilder {
    let id: BoardID
    let results: [ExperimentResult]
    let pretrainAccuracy: [String: Double]

    func board() -> Board {
        let baseByID = Dictionary(results.compactMap { r -> (String, Double)? in
            guard let base = r.spec.base, let acc = r.metrics.baseAccuracy ?? pretrainAccuracy[base] else { return nil }
            return (base, acc)
        }, uniquingKeysWith: { first, _ in first })
        let baseAccuracy = Statistics.mean(baseByID.keys.sorted().map { baseByID[$0]! })
        let speedups = Set(results.compactMap(\.spec.speedup)).sorted()
        var tables = [BoardTable]()
        for speedup in speedups {
            for track in Track.allCases {
                let cell = results.filter { $0.spec.speedup == speedup && Track(method: $0.spec.method!) == track }
                if !cell.isEmpty { tables.append(table(speedup: speedup, track: track, results: cell, base: baseAccuracy)) }
            }
        }
        let summaries = Track.allCases.compactMap { track in
            summary(track: track, tables: tables.filter { $0.track == track }, speedups: speedups)
        }
        return Board(key: id.key, profile: id.profile, dataset: results[0].spec.dataset, baseAccuracy: baseAccuracy,
                     seeds: Set(results.map(\.spec.seed)).sorted(), speedups: speedups, tables: tables,
                     summaries: summaries, paper: nil)
    }

    func table(speedup: Double, track: Track, results: [ExperimentResult], base: Double?) -> BoardTable {
        let byMethod = Dictionary(grouping: results) { $0.spec.method! }
        var rows = byMethod.keys.sorted().map { row(method: $0, results: byMethod[$0]!, base: base) }
        for (i, rank) in Ranking.competitionRanks(rows.map(\.accuracy)).enumerated() { rows[i].rank = rank }
        // Rank stability: rank each seed's accuracies on their own.
        let seeds = Set(results.map(\.spec.seed)).sorted()
        var seedTau: Double?
        if seeds.count >= 2 {
            let rankings = seeds.map { seed -> [String: Int] in
                let cells = byMethod.compactMap { method, rs -> (String, Double)? in
                    Statistics.mean(rs.filter { $0.spec.seed == seed }.map(\.metrics.accuracy)).map { (method, $0) }
                }
                return Dictionary(uniqueKeysWithValues: zip(cells.map(\.0), Ranking.competitionRanks(cells.map(\.1))))
            }
            for i in rows.indices {
                let ranks = rankings.compactMap { $0[rows[i].method] }
                rows[i].rankRange = RankRange(min: ranks.min()!, max: ranks.max()!)
            }
            seedTau = Ranking.meanPairwiseTau(rankings)
        }
        rows.sort { $0.rank != $1.rank ? $0.rank < $1.rank : RowOrder.precedes($0.method, $1.method) }
        return BoardTable(speedup: speedup, track: track, rows: rows, seedTau: seedTau, paperTau: nil, paperRowsCompared: nil)
    }

    func row(method: String, results: [ExperimentResult], base: Double?) -> TableRow {
        let rs = results.sorted { $0.spec.seed < $1.spec.seed }
        func mean(_ values: [Double?]) -> Double? { Statistics.mean(values.compactMap { $0 }) }
        let accuracies = rs.map(\.metrics.accuracy)
        let deltas = rs.map { r in r.metrics.deltaAccuracy ?? r.metrics.baseAccuracy.map { r.metrics.accuracy - $0 } }
        let accuracy = Statistics.mean(accuracies)!
        return TableRow(
            method: method, seeds: Set(rs.map(\.spec.seed)).sorted(), accuracy: accuracy,
            accuracyStd: Statistics.sampleStandardDeviation(accuracies),
            delta: mean(deltas) ?? base.map { accuracy - $0 } ?? 0, rank: 0, rankRange: nil,
            parameters: mean(rs.map { Double($0.metrics.parameters) })!, parametersLeftPercent: mean(rs.map(\.metrics.parametersLeftPercent)),
            macs: mean(rs.map { Double($0.metrics.macs) })!, achievedSpeedup: mean(rs.map(\.metrics.achievedSpeedup)),
            measuredSpeedupBatch1: mean(rs.map(\.timings.measuredSpeedupBatch1)),
            measuredSpeedupBatch64: mean(rs.map(\.timings.measuredSpeedupBatch64)),
            stepSeconds: mean(rs.map(\.timings.pruneStepMeanSeconds)), regSeconds: mean(rs.map(\.timings.regularizationSeconds)),
            paperAccuracy: nil, paperRank: nil)
    }

    func summary(track: Track, tables: [BoardTable], speedups: [Double]) -> TrackSummary? {
        let methods = Set(tables.flatMap { $0.rows.map(\.method) }).sorted()
        guard !methods.isEmpty else { return nil }
        var rows = methods.map { method -> SummaryRow in
            let cells = tables.compactMap { t in t.rows.first { $0.method == method }.map { (t.speedup, $0) } }
            let present = Set(cells.map(\.0))
            return SummaryRow(method: method, meanDelta: Statistics.mean(cells.map(\.1.delta))!, rank: 0,
                              meanRank: Statistics.mean(cells.map { Double($0.1.rank) })!,
                              missingSpeedups: speedups.filter { !present.contains($0) }, paperMeanDelta: nil, paperRank: nil)
        }
        for (i, rank) in Ranking.competitionRanks(rows.map(\.meanDelta)).enumerated() { rows[i].rank = rank }
        rows.sort { $0.rank != $1.rank ? $0.rank < $1.rank : RowOrder.precedes($0.method, $1.method) }
        return TrackSummary(track: track, rows: rows, paperTau: nil, paperRowsCompared: nil)
    }
}
