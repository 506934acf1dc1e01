import Experiments
import Foundation

/// One attempt running as a child `prunebench run` process (cluster.md §9). Its stderr goes to
/// the attempt's log file, whose last line is the progress detail; the child gets a parent-death
/// signal so it never outlives the daemon.
final class Job {
    let ref: AttemptRef
    let experiment: Experiment
    let process = Process()
    let logPath: String
    let resultPath: String
    let started = Date()
    var cancelledAt: Date?
    private var logOffset: UInt64 = 0
    private(set) var lastLine = ""
    private(set) var progressSequence: UInt64 = 0
    /// The job's address-space cap in bytes, if any.
    let memoryLimit: Int?
    /// The kernel's OOM-kill count of this daemon's cgroup when the job started (nil: unreadable).
    private let oomKillsAtStart: Int?

    /// Starts `executable run --spec - --artifacts root --threads threads` for the experiment.
    init(ref: AttemptRef, experimentJSON: [UInt8], experiment: Experiment, executable: String, root: String, threads: Int,
         dataDirectory: String?, memoryLimit: Int? = nil) throws {
        self.ref = ref
        self.experiment = experiment
        self.memoryLimit = memoryLimit
        self.oomKillsAtStart = OutOfMemory.cgroupKills()
        let dir = URL(fileURLWithPath: root).appendingPathComponent(experiment.id)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        logPath = dir.appendingPathComponent("attempt-\(ref.attempt).log").path
        resultPath = dir.appendingPathComponent("result.json").path
        // A result left by an earlier attempt must not be mistaken for this one's.
        try? FileManager.default.removeItem(atPath: resultPath)
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else {
            throw ClusterError("cannot create \(logPath)")
        }
        defer { try? log.close() }
        process.executableURL = URL(fileURLWithPath: executable)
        var args = ["run", "--spec", "-", "--artifacts", root, "--threads", "\(threads)"]
        if let d = dataDirectory { args += ["--data-dir", d] }
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["PRUNEBENCH_PARENT_DEATH_SIGNAL"] = "1"
        if let memoryLimit { env[OutOfMemory.limitVariable] = "\(memoryLimit)" }
        process.environment = env
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        try process.run()
        stdin.fileHandleForWriting.write(Data(experimentJSON))
        try stdin.fileHandleForWriting.close()
    }

    var isRunning: Bool { process.isRunning }

    /// The newest complete log line, if the log grew since the last call.
    func newProgressLine() -> String? {
        guard let h = FileHandle(forReadingAtPath: logPath) else { return nil }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd(), end > logOffset else { return nil }
        let start = max(logOffset, end > 4096 ? end - 4096 : 0)
        try? h.seek(toOffset: start)
        let data = (try? h.readToEnd()) ?? Data()
        logOffset = end
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard let last = lines.last else { return nil }
        lastLine = String(last.suffix(400))
        progressSequence += 1
        return lastLine
    }

    /// SIGTERM now (cancel); the daemon escalates to SIGKILL after the grace period.
    func cancel() {
        if cancelledAt == nil { cancelledAt = Date() }
        if process.isRunning { process.terminate() }
    }

    func kill() { if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }

    /// The RESULT for a finished process (§9 exit classification).
    func report() -> Message.ResultReport {
        let status = process.terminationStatus
        let signalled = process.terminationReason == .uncaughtSignal
        if !signalled, status == 0, let body = FileManager.default.contents(atPath: resultPath),
           let result = try? JSONDecoder().decode(ExperimentResult.self, from: body), result.id == ref.experiment {
            return Self.report(ref, outcome: .succeeded, failure: nil, retryable: false, message: "", status: 0, body: [UInt8](body))
        }
        if cancelledAt != nil {
            return Self.report(ref, outcome: .cancelled, failure: nil, retryable: false, message: "cancelled", status: status, body: [])
        }
        let what = signalled ? "killed by signal \(status)" : "exit status \(status)"
        let tail = OutOfMemory.logTail(logPath)
        let last = tail.split(separator: "\n").last.map { String($0.suffix(400)) } ?? lastLine
        if OutOfMemory.classify(signalled: signalled, status: status, logTail: tail, limited: memoryLimit != nil,
                                killsBefore: oomKillsAtStart, killsAfter: OutOfMemory.cgroupKills()) {
            let limit = memoryLimit.map { " (job memory limit \(String(format: "%.2f", Double($0) / 1e9)) GB)" } ?? ""
            return Self.report(ref, outcome: .failed, failure: .oom, retryable: false, message: "out of memory\(limit), \(what): \(last)",
                               status: status, body: [])
        }
        return Self.report(ref, outcome: .failed, failure: .error, retryable: false, message: "\(what): \(last)", status: status, body: [])
    }

    static func report(_ ref: AttemptRef, outcome: AttemptOutcome, failure: FailureClass?, retryable: Bool, message: String,
                       status: Int32, body: [UInt8]) -> Message.ResultReport {
        Message.ResultReport(ref: ref, outcome: outcome, failureClass: failure, retryable: retryable,
                             message: String(message.prefix(4000)), exitStatus: status, body: body, digest: ContentDigest.hex(body))
    }
}
