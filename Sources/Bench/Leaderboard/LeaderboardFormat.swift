import Foundation

/// Number formatting shared by the leaderboard renderers.
public enum LeaderboardFormat {
    /// Shown for a missing cell or value.
    public static let missing = "—"

    /// `2` → "2×", `2.5` → "2.5×".
    public static func speedup(_ x: Double) -> String {
        (x == x.rounded() ? String(Int(x)) : String(format: "%g", x)) + "×"
    }

    /// Fixed decimals, e.g. accuracy "75.72".
    public static func fixed(_ x: Double, _ decimals: Int = 2) -> String { String(format: "%.\(decimals)f", x) }

    /// Signed, e.g. Δ "+0.11" / "-1.60".
    public static func signed(_ x: Double, _ decimals: Int = 2) -> String {
        (x >= 0 ? "+" : "") + fixed(x, decimals)
    }

    /// Accuracy with its seed spread: "75.72" or "75.72 ± 0.31".
    public static func accuracy(_ mean: Double, std: Double?) -> String {
        fixed(mean) + (std.map { " ± " + fixed($0) } ?? "")
    }

    /// A count with a K/M/G suffix: "173.1K", "7.55M".
    public static func count(_ x: Double) -> String {
        switch abs(x) {
        case 1e9...: return fixed(x / 1e9) + "G"
        case 1e6...: return fixed(x / 1e6) + "M"
        case 1e3...: return fixed(x / 1e3, 1) + "K"
        default: return String(Int(x.rounded()))
        }
    }

    /// Parameters left: "173.1K (45.95%)".
    public static func parameters(_ count: Double, percent: Double?) -> String {
        self.count(count) + (percent.map { " (" + fixed($0) + "%)" } ?? "")
    }

    /// Seconds: "0.025s", "12.3s", "1m46s", "1h2m3s".
    public static func seconds(_ s: Double?) -> String {
        guard let s else { return missing }
        if s < 1 { return fixed(s, 3) + "s" }
        if s < 60 { return fixed(s, 1) + "s" }
        let total = Int(s.rounded())
        return total < 3600 ? "\(total / 60)m\(total % 60)s" : "\(total / 3600)h\(total % 3600 / 60)m\(total % 60)s"
    }

    /// Kendall τ, or "—" when undefined.
    public static func tau(_ t: Double?) -> String { t.map { fixed($0) } ?? missing }

    /// "2–4" (a rank range), or "3" when both ends agree.
    public static func rankRange(_ r: RankRange?) -> String {
        guard let r else { return missing }
        return r.min == r.max ? "\(r.min)" : "\(r.min)–\(r.max)"
    }

    /// Board header line: base accuracy, profile, data set and seeds, with the stand-in label.
    public static func header(_ board: Board) -> String {
        var parts = ["base \(board.baseAccuracy.map { fixed($0) } ?? missing)", "profile \(board.profile)",
                     "data \(board.dataset.name.displayName) (role \(board.dataset.role.dataset.displayName))",
                     "seeds \(board.seeds.map(String.init).joined(separator: ","))",
                     "speedups \(board.speedups.map(speedup).joined(separator: ", "))"]
        if let paper = board.paper { parts.append("paper base \(String(format: "%g", paper.baseAccuracy)) (pruningbench.md §\(paper.section))") }
        return parts.joined(separator: " · ")
    }

    /// The τ line under a table: Kendall τ-b vs the paper, and between seeds.
    public static func tauLine(paperTau: Double?, compared: Int?, seedTau: Double?) -> String {
        var parts = [String]()
        if let compared { parts.append("Kendall τ-b vs paper: \(tau(paperTau)) over \(compared) rows") }
        if let seedTau { parts.append("mean Kendall τ-b between seeds: \(fixed(seedTau))") }
        return parts.joined(separator: " · ")
    }
}
