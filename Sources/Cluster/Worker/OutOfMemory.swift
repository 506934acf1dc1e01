import Foundation

/// Telling a job that ran out of memory from one that failed otherwise (failure class `oom`).
///
/// Two ways a job dies of memory: under its own address-space cap (`--job-memory`), an allocation
/// fails and the process aborts with the runtime's allocation-failure message in its log; without
/// one, the kernel's OOM killer sends SIGKILL and counts an `oom_kill` event in the cgroup's
/// `memory.events` (cgroup v2), which the worker reads before and after the job.
public enum OutOfMemory {
    /// Environment variable carrying a job's address-space cap in bytes to `prunebench run`.
    public static let limitVariable = "PRUNEBENCH_JOB_MEMORY_BYTES"

    /// Messages that allocation failures print (Swift runtime, C++ `new`, libc, oneDNN).
    static let allocationFailures = ["failed to allocate", "Could not allocate memory", "bad_alloc", "Cannot allocate memory", "out of memory",
                                     "could not allocate"]

    /// Whether a failed job ran out of memory.
    static func classify(signalled: Bool, status: Int32, logTail: String, limited: Bool,
                         killsBefore: Int?, killsAfter: Int?) -> Bool {
        if signalled, status == SIGKILL, let before = killsBefore, let after = killsAfter, after > before { return true }
        return limited && allocationFailures.contains { logTail.contains($0) }
    }

    /// The last 64 KiB of a log file (a crash backtrace follows the message).
    static func logTail(_ path: String) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: end > 65_536 ? end - 65_536 : 0)
        return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// `oom_kill` of this process's cgroup (v2) `memory.events`, or nil where it cannot be read.
    static func cgroupKills() -> Int? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let path = "/sys/fs/cgroup" + line.dropFirst(3) + "/memory.events"
        guard let events = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for l in events.split(separator: "\n") {
            let parts = l.split(separator: " ")
            if parts.count == 2, parts[0] == "oom_kill" { return Int(parts[1]) }
        }
        return nil
    }
}
