#if canImport(Glibc)
import Glibc
#endif

/// Wall time spent per op kind in forward and backward, for finding where a step goes.
public final class LayerProfile {
    public private(set) var forwardSeconds: [String: Double] = [:]
    public private(set) var backwardSeconds: [String: Double] = [:]
    public init() {}

    @inline(__always) static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    func add(_ kind: String, forward: Bool, _ seconds: Double) {
        if forward { forwardSeconds[kind, default: 0] += seconds } else { backwardSeconds[kind, default: 0] += seconds }
    }

    /// One line per op kind and direction, slowest first.
    public var summary: String {
        let rows = forwardSeconds.map { ("fwd " + $0.key, $0.value) } + backwardSeconds.map { ("bwd " + $0.key, $0.value) }
        return rows.sorted { $0.1 > $1.1 }.map { "\($0.0): \(Int($0.1 * 1000)) ms" }.joined(separator: "\n")
    }
}
