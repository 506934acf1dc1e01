import Foundation

/// Ranking and rank-correlation helpers used by the leaderboards (pruningbench.md §11.2).
public enum Ranking {
    /// Competition ranks ("1, 2, 2, 4") of `values`, higher is better: values equal after
    /// rounding to `decimals` places share a rank, and the next rank skips.
    public static func competitionRanks(_ values: [Double], decimals: Int = 2) -> [Int] {
        let keys = values.map { rounded($0, decimals) }
        return keys.map { key in 1 + keys.filter { $0 > key }.count }
    }

    /// `value` rounded to `decimals` places, as an integer count of the last place (exact ties).
    static func rounded(_ value: Double, _ decimals: Int) -> Int64 {
        Int64((value * pow(10, Double(decimals))).rounded())
    }

    /// Kendall's τ-b between two paired samples, with ties handled:
    /// (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), where n₀ = n(n−1)/2 and n₁, n₂ count
    /// the pairs tied in `x` and in `y`. Returns nil when fewer than two pairs exist or either
    /// sample is constant (the coefficient is undefined).
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "kendallTauB needs paired samples")
        let n = x.count
        guard n >= 2 else { return nil }
        var concordant = 0, discordant = 0, tiesX = 0, tiesY = 0
        for i in 0..<(n - 1) {
            for j in (i + 1)..<n {
                let dx = x[i] - x[j], dy = y[i] - y[j]
                if dx == 0 { tiesX += 1 }
                if dy == 0 { tiesY += 1 }
                if dx == 0 || dy == 0 { continue }
                if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let n0 = n * (n - 1) / 2
        let denominator = (Double(n0 - tiesX) * Double(n0 - tiesY)).squareRoot()
        guard denominator > 0 else { return nil }
        return Double(concordant - discordant) / denominator
    }

    /// Mean Kendall τ-b over every pair of rankings, each ranking mapping a row key to its rank;
    /// a pair is compared over the keys both hold. Nil when no pair gives a defined τ.
    public static func meanPairwiseTau(_ rankings: [[String: Int]]) -> Double? {
        var taus = [Double]()
        for a in rankings.indices {
            for b in rankings.indices where b > a {
                let keys = Set(rankings[a].keys).intersection(rankings[b].keys).sorted()
                if let tau = kendallTauB(keys.map { Double(rankings[a][$0]!) }, keys.map { Double(rankings[b][$0]!) }) {
                    taus.append(tau)
                }
            }
        }
        return Statistics.mean(taus)
    }
}

/// Summary statistics over seeds.
public enum Statistics {
    /// Arithmetic mean; nil for no values.
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation (n − 1 in the denominator); nil for fewer than two values.
    public static func sampleStandardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2, let m = mean(values) else { return nil }
        let squares = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (squares / Double(values.count - 1)).squareRoot()
    }
}
