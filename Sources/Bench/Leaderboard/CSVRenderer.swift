import Foundation

/// Renders a `LeaderboardReport` as one flat CSV table, a row per (board, speedup, track, method).
public enum CSVRenderer {
    /// The CSV columns, in order.
    public static let columns = ["board", "profile", "speedup", "track", "method", "seeds", "accuracy_mean", "accuracy_std",
                                 "delta", "rank", "params", "params_pct", "macs", "achieved_speedup", "step_s", "reg_s", "paper_rank",
                                 "measured_speedup_b1", "measured_speedup_b64"]

    public static func render(_ report: LeaderboardReport) -> String {
        var lines = [columns.joined(separator: ",")]
        for board in report.boards {
            for table in board.tables {
                for r in table.rows {
                    let fields: [String] = [
                        board.key, board.profile, number(table.speedup), table.track.rawValue, r.method, "\(r.seeds.count)",
                        number(r.accuracy), number(r.accuracyStd), number(r.delta), "\(r.rank)", number(r.parameters),
                        number(r.parametersLeftPercent), number(r.macs), number(r.achievedSpeedup), number(r.stepSeconds),
                        number(r.regSeconds), r.paperRank.map(String.init) ?? "",
                        number(r.measuredSpeedupBatch1), number(r.measuredSpeedupBatch64),
                    ]
                    lines.append(fields.map(quote).joined(separator: ","))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number with full precision ("%.10g"), or an empty field for nil.
    static func number(_ x: Double?) -> String { x.map { String(format: "%.10g", $0) } ?? "" }

    /// RFC 4180 quoting for fields holding a comma, quote or newline.
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
