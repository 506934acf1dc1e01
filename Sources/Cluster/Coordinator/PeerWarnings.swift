import Foundation

/// Rate limit for warnings about peers' bad messages: at most ``burst`` lines per peer in each
/// ``interval``; what is held back is counted and reported as one summary line per interval, so a
/// flood of garbage frames costs a few log lines, not one per frame.
struct PeerWarnings {
    /// Lines logged per peer per interval before suppression.
    var burst = 5
    /// Length of an interval, seconds.
    var interval: TimeInterval = 10
    /// Peers tracked at once; further peers share one bucket (bounded memory under a flood of new routing IDs).
    var maximumPeers = 1024

    private var logged: [String: Int] = [:]
    private var suppressed: [String: Int] = [:]
    private var intervalStart = Date()

    static let otherPeers = "(other peers)"

    /// Whether a warning about `peer` (already escaped) may be logged now; if not, it is counted.
    mutating func admit(_ peer: String) -> Bool {
        let key = logged[peer] != nil || logged.count < maximumPeers ? peer : Self.otherPeers
        let n = logged[key, default: 0]
        logged[key] = n + 1
        if n < burst { return true }
        suppressed[key, default: 0] += 1
        return false
    }

    /// At the end of an interval: the counts held back per peer (sorted), and a fresh interval.
    mutating func summary(now: Date = Date()) -> [(peer: String, suppressed: Int)]? {
        guard now.timeIntervalSince(intervalStart) >= interval else { return nil }
        let out = suppressed.sorted { $0.key < $1.key }.map { (peer: $0.key, suppressed: $0.value) }
        logged = [:]; suppressed = [:]; intervalStart = now
        return out
    }
}
