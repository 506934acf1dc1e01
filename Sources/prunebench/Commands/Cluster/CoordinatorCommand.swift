import Experiments
import ArgumentParser
import Bench
import Cluster
import Foundation

/// `prunebench coordinator`: serves a sweep to worker daemons over ZeroMQ from a SQLite journal.
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve a sweep to worker daemons (ZeroMQ ROUTER); state in a SQLite journal; restart to resume.",
        discussion: """
        The first start declares the sweep's experiments in the journal (needs --sweep or the built-in \
        fashion sweep, with the usual grid filters). Restarting on the same journal resumes: finished results \
        are kept, running attempts are adopted when their workers reconnect, lost ones are re-queued. Giving \
        a sweep again on an existing journal adds any new experiments (results are reused by ID). Without \
        --key the worker endpoint must be loopback unless --insecure is given. Docs: docs/operations.md.
        """
    )

    @Option(help: "SQLite journal (created if missing).") var journal: String
    @Option(help: "Worker endpoint to bind.") var bind = "tcp://127.0.0.1:5555"
    @Option(help: "Operator endpoint (default: ipc://JOURNAL.control).") var control: String?
    @Option(help: "Checkpoint store directory (default: JOURNAL.store).") var store: String?
    @Option(help: "Coordinator CURVE key file (prunebench keygen); enables encryption and the allowlist.") var key: String?
    @Option(help: "Allowlist of worker public keys: 'WORKER_ID KEY' lines (reread on change).") var allow: String?
    @Flag(help: "Allow a non-loopback bind without CURVE keys (unauthenticated, unencrypted).") var insecure = false
    @Option(help: "Heartbeat interval in milliseconds.") var heartbeatMs = 1000
    @Option(help: "Heartbeats missed before a worker is suspect.") var liveness = 3
    @Option(help: "Lease in seconds: a silent worker's attempts are re-queued after it.") var leaseSeconds = 60.0
    @Option(help: "Threads per job sent to workers (0: each worker's cores / slots).") var threadsPerJob = 0
    @Flag(help: "Exit when every experiment is finished (workers started with --exit-when-complete exit too).") var exitWhenDone = false
    @Option(help: "At exit, write the journal's results as JSON lines here.") var resultsOut: String?
    @Flag(help: "Declare only from the journal (do not read a sweep).") var resume = false

    @OptionGroup var grid: GridOptions

    func validate() throws {
        guard heartbeatMs >= 10, liveness >= 1, leaseSeconds > 0 else { throw ValidationError("--heartbeat-ms >= 10, --liveness >= 1, --lease-seconds > 0") }
        if key == nil, allow != nil { throw ValidationError("--allow needs --key (the allowlist is enforced by CURVE authentication)") }
        if key != nil, allow == nil { throw ValidationError("--key needs --allow (an allowlist of worker public keys)") }
        if key == nil, !insecure, !Self.isLoopback(bind) {
            throw ValidationError("--bind \(bind): without --key the coordinator binds to loopback only (tcp://127.0.0.1:PORT); give --key/--allow or --insecure")
        }
    }

    static func isLoopback(_ endpoint: String) -> Bool {
        endpoint.hasPrefix("tcp://127.") || endpoint.hasPrefix("tcp://localhost:") || endpoint.hasPrefix("tcp://[::1]") ||
            endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://")
    }

    func run() throws {
        let logger = LogSetup.logger("prunebench.coordinator")
        var experiments = [Experiment]()
        var sweepName = "journal"
        if !resume {
            do {
                let g = try grid.makeGrid()
                experiments = g.all
                sweepName = "\(g.sweep.name)/\(g.profile)"
            } catch { throw CommandFailure(error) }
        }
        let sweepID = ContentDigest.hex(experiments.map(\.id).sorted().joined(separator: "\n"))
        var config = CoordinatorConfig(bind: bind, control: control ?? CoordinatorConfig.defaultControl(journal: journal),
                                       journalPath: journal, storePath: store ?? journal + ".store")
        config.heartbeatMilliseconds = heartbeatMs
        config.liveness = liveness
        config.leaseMilliseconds = Int(leaseSeconds * 1000)
        config.exitWhenDone = exitWhenDone
        config.threadsPerJob = threadsPerJob
        config.allowlistPath = allow
        let coordinator: Coordinator
        do {
            if let key { config.curve = CurveSettings(keys: try CurveKeyPair.load(key)) }
            coordinator = try Coordinator(config: config, sweepID: sweepID, sweepName: sweepName, experiments: experiments, logger: logger)
        } catch { throw CommandFailure(error) }
        let stop = SignalFlag([SIGINT, SIGTERM])
        defer { stop.stop() }
        do { try coordinator.run { stop.isSet } } catch { throw CommandFailure(error) }
        if let resultsOut {
            do {
                let n = try coordinator.writeResults(to: resultsOut)
                print("results: \(n) in \(resultsOut)")
            } catch { throw CommandFailure(error) }
        }
    }
}
