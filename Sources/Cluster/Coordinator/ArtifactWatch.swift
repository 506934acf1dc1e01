import Foundation

/// Bounded retries for the base checkpoints the coordinator must pull, so no sweep waits forever
/// on an artifact it cannot get.
///
/// Each failed pull (a stall, a holder that says it lacks the file, a digest mismatch) counts
/// against ``maxPullFailures`` and delays the next try by a doubling back-off (1, 2, 4 … s, at
/// most 30 s). A checkpoint no connected worker holds is given the lease to reappear (its holder
/// may reconnect). Past either bound the coordinator withdraws the pretrain's result and runs it
/// again (``Journal/withdrawResultWithLostArtifact(_:message:now:)``).
struct ArtifactWatch {
    /// Failed pulls of one checkpoint before its pretrain is re-run.
    static let maxPullFailures = 3

    private struct Trouble {
        var failures = 0
        var retryAt = Date.distantPast
        var lastError = ""
        var missingSince: Date?
    }
    private var trouble: [String: Trouble] = [:]

    /// Counts a failed pull of `digest`; returns the delay before the next try.
    @discardableResult
    mutating func pullFailed(_ digest: String, why: String, now: Date) -> TimeInterval {
        var t = trouble[digest] ?? Trouble()
        t.failures += 1
        t.lastError = why
        let delay = min(30, pow(2, Double(t.failures - 1)))
        t.retryAt = now.addingTimeInterval(delay)
        trouble[digest] = t
        return delay
    }

    /// Why `digest` cannot be had, once its pulls have failed ``maxPullFailures`` times.
    func exhausted(_ digest: String) -> String? {
        guard let t = trouble[digest], t.failures >= Self.maxPullFailures else { return nil }
        return "\(t.failures) pulls failed (last: \(t.lastError))"
    }

    /// Whether the back-off after the last failure of `digest` has passed.
    func mayTry(_ digest: String, now: Date) -> Bool { now >= (trouble[digest]?.retryAt ?? .distantPast) }

    /// A connected worker holds `digest`.
    mutating func holderSeen(_ digest: String) { trouble[digest]?.missingSince = nil }

    /// No connected worker holds `digest`: how long that has been so.
    mutating func holderMissing(_ digest: String, now: Date) -> TimeInterval {
        var t = trouble[digest] ?? Trouble()
        let since = t.missingSince ?? now
        t.missingSince = since
        trouble[digest] = t
        return now.timeIntervalSince(since)
    }

    /// Forgets `digest` (stored, or its result withdrawn).
    mutating func forget(_ digest: String) { trouble[digest] = nil }
}
