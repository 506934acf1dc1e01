import Foundation
import Logging

/// Shows long work as a bar with rate and ETA on a terminal, or as structured log lines when
/// standard error is not a terminal.
final class ProgressDisplay {
    private let logger: Logger
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var lastLoggedFraction = -1.0

    init(logger: Logger) { self.logger = logger }

    /// Reports `done` of `total` units of the current phase, with a label and extra fields.
    func update(label: String, done: Int, total: Int, rate: Double, unit: String, overallRemainingSeconds: Double?,
                fields: [(String, String)] = [], rateText: String? = nil) {
        let rateShown = rateText ?? "\(Int(rate)) \(unit)/s"
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        if isTerminal {
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let extra = fields.map { "\($0.0) \($0.1)" }.joined(separator: "  ")
            let eta = overallRemainingSeconds.map { "  ETA \(Self.clock($0))" } ?? ""
            let line = "\r\(label) \(bar) \(done)/\(total)  \(rateShown)  \(extra)\(eta)\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            // Log lines at every 10% of a phase.
            let decile = (fraction * 10).rounded(.down) / 10
            guard decile > lastLoggedFraction || done == total else { return }
            lastLoggedFraction = done == total ? -1 : decile
            var metadata: Logger.Metadata = ["done": "\(done)", "total": "\(total)", "rate": "\(rateShown)"]
            for (k, v) in fields { metadata[k] = "\(v)" }
            if let r = overallRemainingSeconds { metadata["eta"] = "\(Self.clock(r))" }
            logger.info("\(label)", metadata: metadata)
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
