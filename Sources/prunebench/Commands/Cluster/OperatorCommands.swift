import ArgumentParser
import Cluster
import Foundation

/// Where the operator commands find the coordinator.
struct ControlEndpointOptions: ParsableArguments {
    @Option(help: "The coordinator's journal (its operator socket is ipc://JOURNAL.control).") var journal: String?
    @Option(help: "The coordinator's operator endpoint (instead of --journal).") var control: String?

    func endpoint() throws -> String {
        if let control { return control }
        guard let journal else { throw ValidationError("give --journal J.db or --control ENDPOINT") }
        return CoordinatorConfig.defaultControl(journal: journal)
    }

    func send(_ request: ControlRequest) throws -> ControlReply {
        let reply: ControlReply
        do { reply = try ControlClient.request(request, endpoint: try endpoint()) } catch let e as ValidationError { throw e } catch {
            throw CommandFailure(error)
        }
        guard reply.ok else { throw CommandFailure(reply.message) }
        return reply
    }
}

/// `prunebench status`: the live state of a sweep.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a running coordinator's workers, running experiments, counts, rate and ETA.")
    @OptionGroup var target: ControlEndpointOptions
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Follow the sweep until it completes: a bar with rate and ETA on a terminal, log lines otherwise.") var follow = false
    @Option(help: "Seconds between updates with --follow.") var interval = 2.0

    func validate() throws {
        if follow && json { throw ValidationError("--follow and --json do not go together") }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
    }

    func run() throws {
        if follow { return try followSweep() }
        guard let s = try target.send(ControlRequest(op: .status)).status else { throw CommandFailure("the coordinator sent no status") }
        if json {
            let e = JSONEncoder()
            e.keyEncodingStrategy = .convertToSnakeCase
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(s), as: UTF8.self))
            return
        }
        let order = ["succeeded", "running", "assigned", "pending", "failed", "cancelled", "blocked"]
        print("journal \(s.journal): \(s.total) experiments; " + order.compactMap { k in s.counts[k].map { "\(k) \($0)" } }.joined(separator: ", "))
        let eta = s.etaSeconds.map { String(format: "%.0f min", $0 / 60) } ?? "-"
        print(String(format: "rate %.1f exp/h, ETA %@, uptime %.0f s%@", s.ratePerHour, eta, s.uptimeSeconds, s.complete ? ", COMPLETE" : ""))
        for w in s.workers {
            print("worker \(w.id): \(w.state), \(w.slots - w.free)/\(w.slots) slots busy, \(w.cores) cores, seen \(String(format: "%.1f", w.lastSeenSeconds)) s ago")
            for r in w.running {
                print("  \(r.experiment.prefix(12))#\(r.attempt) \(r.name) [\(r.state), \(Int(r.seconds)) s] \(r.detail.suffix(100))")
            }
        }
        for f in s.failures {
            let blocks = f.blocks > 0 ? " (blocks \(f.blocks) experiments)" : ""
            print("failed \(f.experiment.prefix(12)) \(f.name) [\(f.failureClass)]\(blocks) \(f.message.suffix(160))")
        }
    }
}

extension StatusCommand {
    /// Polls the coordinator until the sweep is complete. Waits up to a minute for a coordinator that
    /// is still starting; fails if a coordinator that answered stops answering before completion.
    func followSweep() throws {
        let display = ProgressDisplay(logger: LogSetup.logger("prunebench.status"))
        let endpoint = try target.endpoint()
        let follower = SweepFollower(endpoint: endpoint, display: display, interval: interval)
        var answered = false
        let silentSince = Date()  // until the first answer
        while true {
            let status: ClusterStatus
            do {
                guard let s = try ControlClient.request(ControlRequest(op: .status), endpoint: endpoint, timeoutMilliseconds: 5000).status else {
                    throw CommandFailure("the coordinator sent no status")
                }
                status = s
            } catch {
                // A coordinator run with --exit-when-done leaves as soon as the sweep is complete (at once
                // when it was already): the journal says whether it is. Not in the first seconds: a
                // coordinator still starting may be about to declare new experiments in it.
                let silence = Date().timeIntervalSince(silentSince)
                if answered || silence > 10, let total = try completedInJournal() { return finalLine(display, total: total) }
                if answered { throw CommandFailure("the coordinator stopped answering before the sweep completed (\(error)); restart it to resume") }
                if silence > 60 { throw CommandFailure(error) }
                usleep(UInt32(interval * 1_000_000))
                continue
            }
            answered = true
            follower.show(status)
            if status.complete { return }
            usleep(UInt32(interval * 1_000_000))
        }
    }

    /// With --journal, the number of experiments when every one of them is finished (terminal or
    /// blocked behind a failed base); nil otherwise, or when there is no journal yet.
    func completedInJournal() throws -> Int? {
        guard let path = target.journal, FileManager.default.fileExists(atPath: path) else { return nil }
        let records: [String: ExperimentRecord]
        do { records = Dictionary(uniqueKeysWithValues: try Journal(path: path).experiments().map { ($0.id, $0) }) } catch { throw CommandFailure(error) }
        guard !records.isEmpty, records.values.allSatisfy({ $0.state.isTerminal || $0.isBlocked(in: records) }) else { return nil }
        return records.count
    }

    func finalLine(_ display: ProgressDisplay, total: Int) {
        display.update(label: "sweep", done: total, total: total, rate: 0, unit: "exp/h", overallRemainingSeconds: 0, rateText: "complete")
    }
}

/// `prunebench drain WORKER`.
struct DrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drain", abstract: "Stop giving a worker new work; it exits when its jobs finish.")
    @Argument(help: "Worker ID.") var worker: String
    @Option(help: "finish (let jobs complete) or checkpoint (stop jobs now; they are re-queued).") var mode = DrainMode.finish
    @OptionGroup var target: ControlEndpointOptions

    func run() throws { print(try target.send(ControlRequest(op: .drain, worker: worker, mode: mode)).message) }
}

/// `prunebench cancel`.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel experiments (by ID prefix) or the whole sweep (--all).")
    @Argument(help: "Experiment IDs or unique prefixes.") var experiments: [String] = []
    @Flag(help: "Cancel every unfinished experiment.") var all = false
    @Flag(help: "Put failed or cancelled experiments back to pending instead.") var retry = false
    @OptionGroup var target: ControlEndpointOptions

    func validate() throws {
        guard all != !experiments.isEmpty else { throw ValidationError("give experiment IDs or --all") }
        if retry && all { throw ValidationError("--retry takes experiment IDs") }
    }

    func run() throws {
        print(try target.send(ControlRequest(op: retry ? .retry : .cancel, experiments: experiments, all: all ? true : nil)).message)
    }
}

/// `prunebench keygen`.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub ('NAME PUBLIC_KEY', an allowlist line).")
    @Argument(help: "Name: a worker ID, or 'coordinator'.") var name: String
    @Option(help: "Directory for the files.") var dir = "keys"

    func run() throws {
        guard WorkerID.isValid(name) else { throw ValidationError("name '\(name)': expected printable ASCII without spaces") }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let keys = try CurveKeyPair.generate()
            let keyPath = "\(dir)/\(name).key", pubPath = "\(dir)/\(name).pub"
            guard !FileManager.default.fileExists(atPath: keyPath) else { throw CommandFailure("\(keyPath) exists; not overwriting a key") }
            guard FileManager.default.createFile(atPath: keyPath, contents: Data(keys.fileText.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CommandFailure("cannot write \(keyPath)")
            }
            try Data("\(name) \(keys.publicKey)\n".utf8).write(to: URL(fileURLWithPath: pubPath))
            print("\(keyPath) (secret), \(pubPath): \(name) \(keys.publicKey)")
        } catch let e as CommandFailure { throw e } catch { throw CommandFailure(error) }
    }
}
