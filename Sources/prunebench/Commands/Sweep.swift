import Experiments
import ArgumentParser
import Bench
import Foundation

/// `prunebench sweep`: runs a grid's experiments in local worker processes, resumably.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a sweep's experiments in N local worker processes (resumable; skips experiments with a result).",
        discussion: """
        Each experiment runs as `prunebench run --spec - --artifacts DIR --threads T` with T = cores / N, so \
        the workers never oversubscribe the cores. A pruning experiment starts once its pretrain base has a \
        result. Experiments whose <DIR>/<id>/result.json exists are skipped, so re-running after Ctrl-C \
        finishes only what is left. A failed experiment's stderr tail goes to <DIR>/<id>/error.log; the \
        sweep continues and exits non-zero at the end. Writes <DIR>/results.jsonl (all results, by ID).
        """
    )

    @Option(help: "Worker processes.") var local = 1
    @Option(help: "Artifact directory.") var artifacts = "runs/artifacts"

    @OptionGroup var options: GridOptions

    func validate() throws {
        guard local >= 1 else { throw ValidationError("--local must be at least 1") }
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

    private struct Child {
        let experiment: Experiment
        let process: Process
        let stderrPath: String
        let start: Date
    }

    func run() throws {
        let logger = LogSetup.logger("prunebench.sweep")
        let grid: Grid
        do {
            grid = try options.makeGrid()
        } catch { throw CommandFailure(error) }

        do { try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true) } catch {
            throw CommandFailure("cannot create --artifacts \(artifacts): \(error.localizedDescription)")
        }
        let dir = URL(fileURLWithPath: artifacts)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = LocalSweep.threadsPerWorker(cores: cores, workers: local)
        let executable = Self.executablePath()
        var scheduler = LocalSweepScheduler(experiments: grid.all) {
            LocalSweep.existingResult($0.id, artifacts: artifacts) != nil
        }
        let initial = scheduler.counts
        logger.info("sweep", metadata: [
            "sweep": "\(grid.sweep.name)", "profile": "\(grid.profile)", "experiments": "\(grid.all.count)",
            "already_done": "\(initial.alreadyDone)", "needs_detector": "\(initial.skippedNeeds)",
            "to_run": "\(initial.pending)", "workers": "\(local)", "threads": "\(threads)", "cores": "\(cores)",
        ])

        // SIGINT: stop launching, forward to the children, and stop them.
        let interrupted = SignalFlag([SIGINT])
        defer { interrupted.stop() }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var children = [String: Child]()
        var failures = [(Experiment, String)]()
        let display = ProgressDisplay(logger: logger)
        let sweepStart = Date()
        var finishedThisRun = 0
        var lastProgress = Date.distantPast
        var lastCounts: LocalSweepScheduler.Counts?

        func launch(_ e: Experiment) throws {
            let expDir = dir.appendingPathComponent(e.id)
            try FileManager.default.createDirectory(at: expDir, withIntermediateDirectories: true)
            let stderrPath = expDir.appendingPathComponent("stderr.log").path
            guard FileManager.default.createFile(atPath: stderrPath, contents: nil),
                  let stderrHandle = FileHandle(forWritingAtPath: stderrPath) else {
                throw CommandFailure("cannot create \(stderrPath)")
            }
            defer { try? stderrHandle.close() }  // the child has its own copy
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["run", "--spec", "-", "--artifacts", artifacts, "--threads", "\(threads)"]
            let stdin = Pipe()
            p.standardInput = stdin
            p.standardOutput = FileHandle.nullDevice
            p.standardError = stderrHandle
            try p.run()
            stdin.fileHandleForWriting.write(try encoder.encode(e))
            try stdin.fileHandleForWriting.close()
            children[e.id] = Child(experiment: e, process: p, stderrPath: stderrPath, start: Date())
            logger.info("started", metadata: ["id": "\(e.id.prefix(12))", "name": "\(e.name)", "pid": "\(p.processIdentifier)"])
        }

        func progress(force: Bool = false) {
            let c = scheduler.counts
            guard force || c != lastCounts || Date().timeIntervalSince(lastProgress) > 5 else { return }
            lastCounts = c; lastProgress = Date()
            let elapsed = Date().timeIntervalSince(sweepStart)
            let rate = elapsed > 0 ? Double(finishedThisRun) / elapsed * 3600 : 0
            let remaining = c.pending + c.running
            let eta: Double? = finishedThisRun > 0 ? Double(remaining) * elapsed / Double(finishedThisRun) : nil
            let total = grid.all.count - c.skippedNeeds
            display.update(label: "sweep", done: c.done + c.failed + c.blocked, total: total, rate: rate, unit: "exp/h",
                           overallRemainingSeconds: eta,
                           fields: [("done", "\(c.done)"), ("running", "\(c.running)"), ("failed", "\(c.failed + c.blocked)"),
                                    ("pending", "\(c.pending)")],
                           rateText: String(format: "%.1f exp/h", rate))
        }

        while !scheduler.isFinished {
            if interrupted.isSet { break }
            while children.count < local, let e = scheduler.next() {
                do { try launch(e) } catch {
                    scheduler.finish(e.id, succeeded: false, reason: "cannot start: \(error.localizedDescription)")
                    failures.append((e, "cannot start: \(error.localizedDescription)"))
                }
            }
            for (id, child) in children where !child.process.isRunning {
                children[id] = nil
                let status = child.process.terminationStatus
                let wall = String(format: "%.1f s", Date().timeIntervalSince(child.start))
                let ok = status == 0 && LocalSweep.existingResult(id, artifacts: artifacts) != nil
                if ok {
                    scheduler.finish(id, succeeded: true)
                    logger.info("finished", metadata: ["id": "\(id.prefix(12))", "name": "\(child.experiment.name)", "wall": "\(wall)"])
                } else {
                    let reason = child.process.terminationReason == .uncaughtSignal ? "killed by signal \(status)" : "exit status \(status)"
                    scheduler.finish(id, succeeded: false, reason: reason)
                    failures.append((child.experiment, reason))
                    let tail = Self.tail(of: child.stderrPath, lines: 40)
                    let errorLog = dir.appendingPathComponent(id).appendingPathComponent("error.log")
                    try? Data("\(child.experiment.name)\n\(reason)\n--- stderr tail ---\n\(tail)".utf8).write(to: errorLog, options: .atomic)
                    logger.error("failed", metadata: ["id": "\(id.prefix(12))", "name": "\(child.experiment.name)",
                                                      "reason": "\(reason)", "log": "\(errorLog.path)"])
                }
                finishedThisRun += 1
            }
            progress()
            if !scheduler.isFinished { usleep(100_000) }
        }

        if interrupted.isSet {
            FileHandle.standardError.write(Data("\n".utf8))
            logger.warning("interrupted: stopping workers", metadata: ["running": "\(children.count)"])
            for child in children.values where child.process.isRunning { child.process.interrupt() }
            let deadline = Date().addingTimeInterval(5)
            while children.values.contains(where: { $0.process.isRunning }), Date() < deadline { usleep(50_000) }
            for child in children.values where child.process.isRunning { child.process.terminate() }
            for child in children.values { child.process.waitUntilExit() }
            for id in children.keys {
                // A child that completed its result.json just before the signal still counts.
                if LocalSweep.existingResult(id, artifacts: artifacts) != nil { scheduler.finish(id, succeeded: true) }
                else { scheduler.abandon(id) }
            }
        }

        let c = scheduler.counts
        let written = (try? LocalSweep.writeResultsJSONL(grid.all.map(\.id), artifacts: artifacts)) ?? 0
        print("sweep \(grid.sweep.name), profile \(grid.profile): \(grid.all.count) experiments; "
              + "\(c.alreadyDone) already done, \(c.succeeded) ran, \(c.failed) failed, \(c.blocked) blocked by a failed base, "
              + "\(c.skippedNeeds) skipped-needs-detector, \(c.pending + c.running) left"
              + String(format: " (%.1f s)", Date().timeIntervalSince(sweepStart)))
        print("results: \(written) in \(dir.appendingPathComponent("results.jsonl").path)")
        for (e, reason) in failures {
            print("failed: \(e.id.prefix(12)) \(e.name): \(reason) (\(dir.appendingPathComponent(e.id).appendingPathComponent("error.log").path))")
        }
        if interrupted.isSet { throw ExitCode(130) }
        if c.failed + c.blocked > 0 { throw ExitCode.failure }
    }

    /// The last `lines` lines of a text file.
    static func tail(of path: String, lines: Int) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        let text = String(decoding: data.suffix(64 * 1024), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
