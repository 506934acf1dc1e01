import ArgumentParser
import Bench
import Cluster
import Experiments
import Foundation

/// `prunebench sweep`: runs a grid on this machine through the cluster code: a coordinator and N
/// worker daemons in this process, over an `ipc://` socket in the artifact directory.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a sweep's experiments on this machine: a coordinator and N local workers (resumable).",
        discussion: """
        The same code as a cluster: the coordinator keeps DIR/journal.db (results, attempts), N worker \
        daemons (local1..localN, one job each, T = cores / N threads per job) run each experiment as a \
        `prunebench run` child process in DIR/localI. A pruning experiment starts once its pretrain base \
        has a result. Re-running with the same DIR resumes: experiments with a result are not run again, \
        interrupted ones are re-queued. Logs: DIR/coordinator.log, DIR/localI.log. At the end writes \
        DIR/results.jsonl (all results, by ID) and lists failures; exits non-zero if any experiment failed.
        """
    )

    @Option(help: "Worker daemons (one job each).") var local = 1
    @Option(help: "Artifact directory (journal, checkpoint store, worker directories, logs, results.jsonl).") var artifacts = "runs/artifacts"

    @OptionGroup var options: GridOptions

    func validate() throws {
        guard local >= 1, local <= 256 else { throw ValidationError("--local must be 1...256") }
    }

    /// The path of the running executable, resolved against the working directory and PATH.
    static func executablePath() -> String {
        let arg0 = CommandLine.arguments[0]
        if arg0.contains("/") {
            return URL(fileURLWithPath: arg0).standardizedFileURL.resolvingSymlinksInPath().path
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/\(arg0)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return "/proc/self/exe"
    }

    func run() throws {
        let logger = LogSetup.logger("prunebench.sweep")
        let grid: Grid
        do { grid = try options.makeGrid() } catch { throw CommandFailure(error) }
        let dir = URL(fileURLWithPath: artifacts).standardizedFileURL.path
        let journalPath = dir + "/journal.db"
        // Unix socket paths are at most 107 bytes (sun_path); say so before anything is created.
        for socket in [dir + "/workers.ipc", journalPath + ".control"] where socket.utf8.count > 107 {
            throw CommandFailure("--artifacts \(dir): the socket path \(socket) is \(socket.utf8.count) bytes, over the 107 a Unix socket allows; use a shorter directory")
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CommandFailure("cannot create --artifacts \(artifacts): \(error.localizedDescription)")
        }
        let ids = Set(grid.all.map(\.id))
        let runnable = grid.all.filter { $0.needs.isEmpty }
        let alreadyDone = try Self.succeeded(journalPath, among: ids)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = WorkerConfig.threadsPerJob(cores: cores, jobs: local)
        logger.info("sweep", metadata: [
            "sweep": "\(grid.sweep.name)", "profile": "\(grid.profile)", "experiments": "\(grid.all.count)",
            "already_done": "\(alreadyDone)", "needs_detector": "\(grid.all.count - runnable.count)",
            "to_run": "\(runnable.count - alreadyDone)", "workers": "\(local)", "threads": "\(threads)", "cores": "\(cores)",
            "journal": "\(journalPath)",
        ])

        var config = CoordinatorConfig(bind: "ipc://\(dir)/workers.ipc", control: CoordinatorConfig.defaultControl(journal: journalPath),
                                       journalPath: journalPath, storePath: journalPath + ".store")
        config.exitWhenDone = true
        config.threadsPerJob = threads
        let resultsPath = dir + "/results.jsonl"
        let sweepID = ContentDigest.hex(grid.all.map(\.id).sorted().joined(separator: "\n"))
        let sweepName = "\(grid.sweep.name)/\(grid.profile)"
        let experiments = grid.all
        let interrupted = SignalFlag([SIGINT, SIGTERM])
        defer { interrupted.stop() }
        let halt = SignalFlag([])  // stops the workers once the coordinator has gone
        let start = Date()

        let coordinatorConfig = config
        let coordinatorLog = try FileLogHandler.Sink(path: dir + "/coordinator.log")
        let coordinator = BackgroundThread(name: "coordinator") {
            let c = try Coordinator(config: coordinatorConfig, sweepID: sweepID, sweepName: sweepName, experiments: experiments,
                                    logger: LogSetup.fileLogger("prunebench.coordinator", sink: coordinatorLog))
            try c.run { interrupted.isSet }
            _ = try c.writeResults(to: resultsPath)
        }
        var workers = [BackgroundThread]()
        for i in 1...local {
            let id = "local\(i)"
            var wc = WorkerConfig(workerID: id, endpoint: config.bind, slots: 1, threadsPerJob: threads, root: "\(dir)/\(id)",
                                  executable: Self.executablePath())
            wc.exitWhenComplete = true
            let workerConfig = wc
            let sink = try FileLogHandler.Sink(path: "\(dir)/\(id).log")
            workers.append(BackgroundThread(name: id) {
                let daemon = try WorkerDaemon(config: workerConfig, logger: LogSetup.fileLogger("prunebench.worker", sink: sink))
                try daemon.run { interrupted.isSet || halt.isSet }
            })
        }

        SweepFollower(endpoint: config.control, display: ProgressDisplay(logger: logger)).follow { coordinator.isFinished }
        let coordinatorError = coordinator.wait()
        // Workers leave on the coordinator's "sweep complete"; one that missed it is stopped.
        let grace = Date().addingTimeInterval(10)
        while workers.contains(where: { !$0.isFinished }), Date() < grace { usleep(50_000) }
        halt.set()
        let workerErrors = workers.compactMap { $0.wait() }
        if let coordinatorError { throw CommandFailure(coordinatorError) }
        if let e = workerErrors.first { throw CommandFailure(e) }
        try summarize(grid: grid, journal: journalPath, alreadyDone: alreadyDone, results: resultsPath,
                      seconds: Date().timeIntervalSince(start), interrupted: interrupted.isSet)
    }

    /// Experiments among `ids` with a recorded result in the journal at `path` (0 without one).
    static func succeeded(_ path: String, among ids: Set<String>) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        do { return try Journal(path: path).experiments().filter { ids.contains($0.id) && $0.state == .succeeded }.count } catch {
            throw CommandFailure(error)
        }
    }

    /// Prints what became of the grid, one line per failure; throws the exit code.
    func summarize(grid: Grid, journal path: String, alreadyDone: Int, results: String, seconds: Double, interrupted: Bool) throws {
        let journal: Journal
        let records: [String: ExperimentRecord]
        do {
            journal = try Journal(path: path)
            records = Dictionary(uniqueKeysWithValues: try journal.experiments().map { ($0.id, $0) })
        } catch { throw CommandFailure(error) }
        let mine = grid.all.compactMap { records[$0.id] }
        let succeeded = mine.filter { $0.state == .succeeded }.count
        let failed = mine.filter { $0.state == .failed }
        let blocked = mine.filter { !$0.state.isTerminal && $0.isBlocked(in: records) }.count
        let left = mine.filter { !$0.state.isTerminal }.count - blocked
        let needs = grid.all.count - grid.all.filter(\.needs.isEmpty).count
        print("sweep \(grid.sweep.name), profile \(grid.profile): \(grid.all.count) experiments; "
              + "\(alreadyDone) already done, \(succeeded - alreadyDone) ran, \(failed.count) failed, \(blocked) blocked by a failed base, "
              + "\(needs) skipped-needs-detector, \(left) left" + String(format: " (%.1f s)", seconds))
        let written = (try? ResultLoader.loadJSONLines(path: results).count) ?? 0
        print("results: \(written) in \(results)")
        for r in failed {
            let last = (try? journal.attempts(r.id).last { $0.outcome != nil }) ?? nil
            let why = last.map { "[\($0.failureClass?.rawValue ?? "error")] \(($0.message ?? "").suffix(300))" } ?? ""
            print("failed: \(r.id.prefix(12)) \(r.name): \(why)")
        }
        if interrupted { throw ExitCode(130) }
        if !failed.isEmpty || blocked > 0 { throw ExitCode.failure }
    }
}

/// Work on a thread of its own; `wait` returns the error it ended with, if any.
final class BackgroundThread: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var finished = false
    private var error: Error?

    init(name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            var failure: Error?
            do { try body() } catch { failure = error }
            lock.withLock { self.error = failure; self.finished = true }
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    var isFinished: Bool { lock.withLock { finished } }

    /// Blocks until the work has ended; its error, if it threw one.
    func wait() -> Error? {
        done.wait()
        done.signal()
        return lock.withLock { error }
    }
}
