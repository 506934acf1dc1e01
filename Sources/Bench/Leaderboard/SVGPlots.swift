import Experiments
import Foundation

/// Inline SVG plots of a board for the HTML page: accuracy vs speedup (a line per method) and
/// accuracy vs parameters left (a point per cell). Regularizer rows are drawn dashed / as squares.
public enum SVGPlots {
    static let width = 540.0, height = 300.0
    static let left = 52.0, right = 14.0, top = 24.0, bottom = 42.0

    /// Fixed colours: the 12 criterion rows, then the 5 regularizer rows (pruningbench.md §5 order).
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                          "#bcbd22", "#17becf", "#393b79", "#637939", "#e6550d", "#31a354", "#756bb1", "#843c39", "#3182bd"]

    /// The colour of a row key; unknown keys are grey.
    public static func color(_ method: String) -> String {
        LeaderboardRow.keys.firstIndex(of: method).map { palette[$0 % palette.count] } ?? "#555555"
    }

    /// Accuracy (y) against target speedup (x, evenly spaced), one polyline per method, with the
    /// base accuracy as a dashed grey line.
    public static func accuracyVsSpeedup(_ board: Board) -> String {
        let rows = board.tables.flatMap(\.rows)
        let y = Axis(values: rows.map(\.accuracy) + (board.baseAccuracy.map { [$0] } ?? []), from: height - bottom, to: top)
        let n = board.speedups.count
        func px(_ i: Int) -> Double { n == 1 ? (left + width - right) / 2 : left + 20 + Double(i) * (width - left - right - 40) / Double(n - 1) }
        var out = frame(title: "Accuracy vs speedup", xLabel: "target speedup", y: y)
        for (i, s) in board.speedups.enumerated() {
            out.append(text(px(i), height - bottom + 16, LeaderboardFormat.speedup(s), anchor: "middle"))
        }
        if let base = board.baseAccuracy {
            out.append(##"<line x1="\##(f(left))" y1="\##(f(y.map(base)))" x2="\##(f(width - right))" y2="\##(f(y.map(base)))" stroke="#999" stroke-dasharray="2 3"><title>base \##(LeaderboardFormat.fixed(base))</title></line>"##)
        }
        for method in methods(board) {
            let points = board.speedups.enumerated().compactMap { i, s -> (Double, Double, String)? in
                guard let r = board.table(speedup: s, track: Track(method: method))?.rows.first(where: { $0.method == method }) else { return nil }
                return (px(i), y.map(r.accuracy), "\(method) \(LeaderboardFormat.speedup(s)): \(LeaderboardFormat.fixed(r.accuracy))")
            }
            let dash = Track(method: method) == .regularizer ? #" stroke-dasharray="5 3""# : ""
            if points.count > 1 {
                let coords = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
                out.append(#"<polyline points="\#(coords)" fill="none" stroke="\#(color(method))" stroke-width="1.6"\#(dash)/>"#)
            }
            for p in points { out.append(marker(method, p.0, p.1, p.2)) }
        }
        return wrap(out)
    }

    /// Accuracy (y) against parameters left in % (x), a point per (method, speedup) cell.
    public static func accuracyVsParameters(_ board: Board) -> String {
        let rows = board.tables.flatMap(\.rows).filter { $0.parametersLeftPercent != nil }
        let y = Axis(values: rows.map(\.accuracy), from: height - bottom, to: top)
        let x = Axis(values: [0, 100], from: left, to: width - right, padded: false)
        var out = frame(title: "Accuracy vs parameters left", xLabel: "parameters left (%)", y: y)
        for tick in x.ticks { out.append(text(x.map(tick), height - bottom + 16, String(format: "%g", tick), anchor: "middle")) }
        for table in board.tables {
            for r in table.rows {
                guard let pct = r.parametersLeftPercent else { continue }
                out.append(marker(r.method, x.map(pct), y.map(r.accuracy),
                                  "\(r.method) \(LeaderboardFormat.speedup(table.speedup)): \(LeaderboardFormat.fixed(r.accuracy)) at \(LeaderboardFormat.fixed(pct))%"))
            }
        }
        return wrap(out)
    }

    /// Row keys on the board in §5 order.
    static func methods(_ board: Board) -> [String] {
        Set(board.tables.flatMap { $0.rows.map(\.method) }).sorted(by: RowOrder.precedes)
    }

    /// A circle (criterion) or square (regularizer) with a hover title.
    static func marker(_ method: String, _ x: Double, _ y: Double, _ title: String) -> String {
        let c = color(method), t = "<title>\(HTMLRenderer.escape(title))</title>"
        return Track(method: method) == .regularizer
            ? #"<rect x="\#(f(x - 3.5))" y="\#(f(y - 3.5))" width="7" height="7" fill="\#(c)">\#(t)</rect>"#
            : #"<circle cx="\#(f(x))" cy="\#(f(y))" r="3.5" fill="\#(c)">\#(t)</circle>"#
    }

    /// Title, axes, y grid lines with labels and the x-axis label.
    static func frame(title: String, xLabel: String, y: Axis) -> [String] {
        var out = [text(left, 15, title, anchor: "start", weight: "bold")]
        for tick in y.ticks {
            let py = y.map(tick)
            out.append(##"<line x1="\##(f(left))" y1="\##(f(py))" x2="\##(f(width - right))" y2="\##(f(py))" stroke="#e4e4e4"/>"##)
            out.append(text(left - 6, py + 4, String(format: "%g", tick), anchor: "end"))
        }
        out.append(##"<line x1="\##(f(left))" y1="\##(f(height - bottom))" x2="\##(f(width - right))" y2="\##(f(height - bottom))" stroke="#444"/>"##)
        out.append(##"<line x1="\##(f(left))" y1="\##(f(top))" x2="\##(f(left))" y2="\##(f(height - bottom))" stroke="#444"/>"##)
        out.append(text((left + width - right) / 2, height - 6, xLabel, anchor: "middle"))
        out.append(#"<text x="14" y="\#(f((top + height - bottom) / 2))" font-size="11" text-anchor="middle" transform="rotate(-90 14 \#(f((top + height - bottom) / 2)))">accuracy (%)</text>"#)
        return out
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, weight: String = "normal") -> String {
        #"<text x="\#(f(x))" y="\#(f(y))" font-size="11" font-weight="\#(weight)" text-anchor="\#(anchor)">\#(HTMLRenderer.escape(s))</text>"#
    }

    static func wrap(_ parts: [String]) -> String {
        #"<svg width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="sans-serif">"#
            + parts.joined() + "</svg>"
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}

/// A linear axis over the range of some values, with about five round ticks.
struct Axis {
    let lo: Double, hi: Double, from: Double, to: Double
    let ticks: [Double]

    init(values: [Double], from: Double, to: Double, padded: Bool = true) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-9 { lo -= 1; hi += 1 }
        let step = Axis.niceStep((hi - lo) / 5)
        if padded { lo = (lo / step).rounded(.down) * step; hi = (hi / step).rounded(.up) * step }
        self.lo = lo; self.hi = hi; self.from = from; self.to = to
        ticks = stride(from: (lo / step).rounded(.up) * step, through: hi + step * 1e-6, by: step).map { $0 }
    }

    func map(_ v: Double) -> Double { from + (v - lo) / (hi - lo) * (to - from) }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, (log10(max(raw, 1e-9))).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    }
}
