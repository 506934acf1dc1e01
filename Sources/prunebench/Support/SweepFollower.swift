import Cluster
import Foundation

/// Shows a running coordinator's progress: a bar with rate and ETA on a terminal, log lines otherwise.
/// `status --follow` and `sweep` both use it, so they show the same numbers.
struct SweepFollower {
    let endpoint: String
    let display: ProgressDisplay
    var interval: Double = 1

    /// Draws one status.
    func show(_ status: ClusterStatus) {
        let c = status.counts
        let finished = ["succeeded", "failed", "cancelled", "blocked"].reduce(0) { $0 + (c[$1] ?? 0) }
        let busy = status.workers.reduce(0) { $0 + $1.slots - $1.free }
        let slots = status.workers.reduce(0) { $0 + $1.slots }
        display.update(label: "sweep", done: finished, total: status.total, rate: status.ratePerHour, unit: "exp/h",
                       overallRemainingSeconds: status.complete ? 0 : status.etaSeconds,
                       fields: [("failed", "\(c["failed"] ?? 0)"), ("workers", "\(status.workers.count)"), ("slots", "\(busy)/\(slots)")],
                       rateText: String(format: "%.0f exp/h", status.ratePerHour))
    }

    /// The coordinator's status, or nil if it does not answer within `timeoutMilliseconds`.
    func poll(timeoutMilliseconds: Int = 2000) -> ClusterStatus? {
        (try? ControlClient.request(ControlRequest(op: .status), endpoint: endpoint, timeoutMilliseconds: timeoutMilliseconds))?.status
    }

    /// Shows the status every `interval` seconds until the sweep is complete or `stop` is true.
    func follow(until stop: () -> Bool) {
        while !stop() {
            if let s = poll() {
                show(s)
                if s.complete { return }
            }
            usleep(UInt32(interval * 1_000_000))
        }
    }
}
