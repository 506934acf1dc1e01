import Experiments
import Foundation

/// Renders a `LeaderboardReport` as one self-contained HTML page: inline CSS, inline SVG plots
/// per board, a legend, the summary and per-speedup tables, the stand-in label and τ values.
/// The page loads nothing from elsewhere.
public enum HTMLRenderer {
    public static func render(_ report: LeaderboardReport, title: String = "prunebench leaderboards") -> String {
        var out = ["<!DOCTYPE html>", #"<html lang="en"><head><meta charset="utf-8">"#,
                   "<title>\(escape(title))</title>", "<style>\(css)</style></head><body>",
                   "<h1>\(escape(title))</h1>",
                   "<p class=\"note\">Ranks per pruningbench.md §11.2: by pruned accuracy within one speedup; criterion and "
                   + "regularizer tracks ranked separately; ties at 2 decimals share a rank (1, 2, 2, 4). Summaries rank by mean Δ "
                   + "over the speedups. Paper ranks are recomputed from the published accuracies.</p>"]
        out.append("<nav>" + report.boards.map { ##"<a href="#\##(anchor($0))">\##(escape($0.key))</a>"## }.joined(separator: " ") + "</nav>")
        for board in report.boards { out.append(section(board)) }
        out.append("</body></html>")
        return out.joined(separator: "\n") + "\n"
    }

    static func section(_ board: Board) -> String {
        var out = [#"<section id="\#(anchor(board))">"#, "<h2>\(escape(board.key))</h2>"]
        if let label = board.standInLabel { out.append(#"<p><span class="standin">\#(escape(label))</span></p>"#) }
        out.append(#"<p class="meta">\#(escape(LeaderboardFormat.header(board)))</p>"#)
        out.append(#"<div class="plots">\#(SVGPlots.accuracyVsSpeedup(board))\#(SVGPlots.accuracyVsParameters(board))</div>"#)
        out.append(legend(board))
        out.append(#"<div class="summaries">"#)
        for summary in board.summaries {
            out.append("<div><h3>\(LeaderboardTables.title(summary.track)): summary</h3>")
            out.append(table(LeaderboardTables.summary(board, summary)))
            out.append(tauLine(LeaderboardFormat.tauLine(paperTau: summary.paperTau, compared: summary.paperRowsCompared, seedTau: nil)))
            if summary.rows.contains(where: \.isIncomplete) { out.append(#"<p class="note">\#(escape(LeaderboardTables.incompleteNote))</p>"#) }
            out.append("</div>")
        }
        out.append("</div>")
        out.append("<details><summary>Per-speedup tables (\(board.tables.count))</summary>")
        for t in board.tables {
            out.append("<h3>\(LeaderboardFormat.speedup(t.speedup)) · \(LeaderboardTables.title(t.track))</h3>")
            out.append(table(LeaderboardTables.cells(board, t)))
            out.append(tauLine(LeaderboardFormat.tauLine(paperTau: t.paperTau, compared: t.paperRowsCompared, seedTau: t.seedTau)))
        }
        out.append("</details></section>")
        return out.joined(separator: "\n")
    }

    /// Colour swatches for every row key on the board (line + marker as in the plots).
    static func legend(_ board: Board) -> String {
        let items = SVGPlots.methods(board).map { m -> String in
            let c = SVGPlots.color(m), dashed = Track(method: m) == .regularizer
            let shape = dashed ? #"<rect x="8" y="2.5" width="7" height="7" fill="\#(c)"/>"#
                : #"<circle cx="11.5" cy="6" r="3.5" fill="\#(c)"/>"#
            let line = #"<line x1="0" y1="6" x2="23" y2="6" stroke="\#(c)" stroke-width="1.6"\#(dashed ? #" stroke-dasharray="5 3""# : "")/>"#
            return #"<span class="item"><svg width="24" height="12">\#(line)\#(shape)</svg>\#(escape(m))</span>"#
        }
        return #"<div class="legend">\#(items.joined())<span class="item base">┄ base accuracy</span></div>"#
    }

    static func table(_ t: TextTable) -> String {
        let head = "<tr>" + t.headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        let body = t.rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<table><thead>\(head)</thead><tbody>\n\(body)\n</tbody></table>"
    }

    static func tauLine(_ s: String) -> String { s.isEmpty ? "" : #"<p class="tau">\#(escape(s))</p>"# }

    static func anchor(_ board: Board) -> String { "\(board.key)-\(board.profile)".replacingOccurrences(of: ".", with: "-") }

    /// Escapes `&`, `<`, `>` and `"` for HTML text and attributes.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let css = """
    body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:20px 28px;color:#222;font-size:14px}
    h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;margin:28px 0 4px;border-top:2px solid #ddd;padding-top:14px}
    h3{font-size:14px;margin:12px 0 4px}nav{margin:8px 0 4px;line-height:1.8}nav a{margin-right:10px;color:#1f5fa8;font-size:12px}
    .note,.meta{color:#555;font-size:12px;margin:4px 0}.tau{font-size:12px;color:#333;margin:4px 0 10px}
    .standin{background:#fff3cd;border:1px solid #e0b84c;border-radius:4px;padding:2px 8px;font-weight:600;font-size:12px}
    .plots{display:flex;flex-wrap:wrap;gap:16px;margin:8px 0}.plots svg{border:1px solid #e2e2e2;background:#fff}
    .legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:4px 0 10px;max-width:1100px}
    .legend .item{display:inline-flex;align-items:center;gap:4px}.legend svg{vertical-align:middle}
    .summaries{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}
    table{border-collapse:collapse;font-size:12px;margin:2px 0}th,td{border:1px solid #ddd;padding:2px 7px;text-align:right;white-space:nowrap}
    th{background:#f3f5f7}td:nth-child(2),th:nth-child(2){text-align:left;font-family:monospace}tbody tr:nth-child(even){background:#fafafa}
    details{margin:8px 0}summary{cursor:pointer;color:#1f5fa8}
    """
}
