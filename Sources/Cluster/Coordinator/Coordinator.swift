import Experiments
import Foundation
import Logging

/// The coordinator (cluster.md §3): one thread owning the worker ROUTER, the operator ROUTER and
/// the ZAP handler, the journal (every state change committed before the message it justifies),
/// the scheduler and the checkpoint store.
public final class Coordinator {
    let config: CoordinatorConfig
    let logger: Logger
    let journal: Journal
    let incarnation = UInt64.random(in: 1...UInt64.max)
    let started = Date()
    let context: ZMQContext
    let zap: ZAPHandler?
    let router: ZMQSocket
    let control: ZMQSocket
    let store: CheckpointStore
    /// Declared experiments as `prunebench run` reads them, by ID.
    var experiments: [String: Experiment] = [:]
    var experimentJSON: [String: [UInt8]] = [:]
    /// Journal state, mirrored in memory and refreshed after every transition.
    var records: [String: ExperimentRecord] = [:]
    /// The pending experiments in dispatch order.
    var pending = PendingQueue()
    var workers: [String: WorkerSession] = [:]
    /// Attempts the journal gives to workers that have not said HELLO since this start (§15.3):
    /// reclaimed when the restart grace (the lease) passes.
    var orphans: [AttemptRef: String] = [:]
    var progress: [AttemptRef: (detail: String, at: Date)] = [:]
    /// Checkpoints being pulled from the worker that produced them, by digest.
    var pulls: [String: (worker: String, download: ChunkDownload)] = [:]
    /// Failed pulls and missing holders, bounded (``ArtifactWatch``).
    var artifacts = ArtifactWatch()
    /// Rate limit for warnings about malformed or misdirected peer messages.
    var peerWarnings = PeerWarnings()
    var resultsThisRun = 0
    /// The summed expected cost (`ExperimentCost`) of the results recorded since this start: with
    /// the cost still to run, it gives an ETA that weighs a ResNet-50 HRank above a ResNet-18 L1.
    var costDoneThisRun = 0.0
    var complete = false
    /// CPU time of the thread that ran `run`, measured when it returns.
    public private(set) var cpuSeconds = 0.0

    /// Opens (or creates) the journal, declares `experiments` (idempotent: a restart on the same
    /// journal resumes; new experiments extend the sweep) and binds the sockets.
    public init(config: CoordinatorConfig, sweepID: String, sweepName: String, experiments newExperiments: [Experiment], logger: Logger) throws {
        self.config = config
        self.logger = logger
        journal = try Journal(path: config.journalPath)
        store = try CheckpointStore(directory: config.storePath)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let declared = try newExperiments.filter { $0.needs.isEmpty }.map { e in
            guard let cost = e.cost else { throw ClusterError("experiment \(e.name) has no cost estimate: build the grid with costs") }
            return JournalExperiment(id: e.id, name: e.name, kind: e.spec.kind.rawValue, base: e.spec.base,
                                     spec: try encoder.encode(e), cost: cost)
        }
        if !declared.isEmpty {
            let n = try journal.declare(sweepID: sweepID, sweepName: sweepName, experiments: declared)
            logger.info("sweep declared", metadata: ["sweep": "\(sweepName)", "experiments": "\(declared.count)", "new": "\(n)",
                                                     "skipped_needs": "\(newExperiments.count - declared.count)"])
        }
        for r in try journal.experiments() {
            records[r.id] = r
            if r.state == .pending { pending.insert(id: r.id, cost: r.cost) }
            guard let e = try? JSONDecoder().decode(Experiment.self, from: r.spec) else {
                throw ClusterError("\(config.journalPath): experiment \(r.id) has an unreadable spec")
            }
            experiments[r.id] = e
            experimentJSON[r.id] = [UInt8](r.spec)
            if r.state == .assigned || r.state == .running, let w = r.worker { orphans[AttemptRef(r.id, r.attempt)] = w }
        }
        for result in try journal.results() {
            if let r = try? result.decoded(), r.spec.kind == .pretrain { checkpointOf[r.id] = r.metrics.checkpointSHA256 }
        }
        guard !records.isEmpty else { throw ClusterError("\(config.journalPath): the journal declares no experiments; give --sweep") }

        context = try ZMQContext()
        // The ZAP handler must be bound before any server socket (§13).
        if config.curve != nil {
            zap = try ZAPHandler(context: context, allowlistPath: config.allowlistPath) { [logger] in logger.warning("\($0)") }
        } else { zap = nil }
        router = try SocketFactory.coordinatorRouter(context, curve: config.curve)
        try router.bind(config.bind)
        control = try SocketFactory.controlRouter(context)
        try control.bind(config.control)
        let c = try journal.counts()
        logger.info("coordinator started", metadata: [
            "bind": "\(config.bind)", "control": "\(config.control)", "journal": "\(config.journalPath)",
            "curve": "\(config.curve != nil)", "experiments": "\(records.count)",
            "succeeded": "\(c[.succeeded] ?? 0)", "pending": "\(c[.pending] ?? 0)", "in_flight": "\(orphans.count)",
        ])
    }

    /// Serves until `shouldStop` returns true or, with `exitWhenDone`, the sweep is complete.
    public func run(shouldStop: () -> Bool) throws {
        defer { shutdown() }
        var sockets = [router, control]
        if let zap { sockets.append(zap.socket) }
        var lastAllowlistCheck = Date()
        var finishing: (since: Date, told: Date)?
        while !shouldStop() {
            let readable = try ZMQSocket.pollReadable(sockets, timeoutMilliseconds: 50)
            if readable.count > 2, readable[2] { try zap?.serve() }
            if readable[0] { while let m = try router.receive() { try handleWorkerFrames(m) } }
            if readable[1] { while let m = try control.receive() { try handleControl(m) } }
            if Date().timeIntervalSince(lastAllowlistCheck) > 1 { zap?.reloadIfChanged(); lastAllowlistCheck = Date() }
            try tick()
            if complete && config.exitWhenDone {
                let now = Date()
                if finishing == nil {
                    logger.info("sweep complete", metadata: counts().map { ($0.key, Logger.MetadataValue.string("\($0.value)")) }
                        .reduce(into: Logger.Metadata()) { $0[$1.0] = $1.1 })
                    finishing = (now, .distantPast)
                }
                // Every connected worker is told, again every 0.5 s until it leaves (a message can be
                // lost while a worker reconnects), for at most 3 s.
                if workers.isEmpty || now.timeIntervalSince(finishing!.since) > 3 { return }
                if now.timeIntervalSince(finishing!.told) >= 0.5 {
                    for id in workers.keys { send(.disconnect(reason: "sweep complete"), to: id) }
                    finishing!.told = now
                }
            }
        }
    }

    private func shutdown() {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        cpuSeconds = Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        router.close()
        control.close()
        zap?.socket.close()
        context.close()
    }

    func send(_ message: Message, to worker: String) {
        do {
            if try router.send([Array(worker.utf8)] + message.frames()) { workers[worker]?.lastSent = Date() }
        } catch { logger.warning("send failed", metadata: ["worker": "\(worker)", "error": "\(error)"]) }
    }

    /// Refreshes the in-memory mirror of one experiment after a journal transition.
    func refresh(_ id: String) throws {
        guard let old = records[id], let p = try journal.progress(id) else { return }
        let r = old.with(p)
        records[id] = r
        if r.state == .pending { pending.insert(id: id, cost: r.cost) }
    }

    /// Records a pretrain result's checkpoint: available if the store has it.
    func noteCheckpoint(of result: ExperimentResult) {
        checkpointOf[result.id] = result.metrics.checkpointSHA256
    }
    var checkpointOf: [String: String] = [:]

    /// Experiment counts by state, plus `blocked` (pending behind a failed or cancelled base), and
    /// the expected cost of the experiments still to run (running ones count whole).
    func tally() -> (counts: [String: Int], costLeft: Double) {
        var c = [String: Int](), costLeft = 0.0
        for r in records.values {
            let blocked = isBlocked(r)
            c[blocked ? "blocked" : r.state.rawValue, default: 0] += 1
            if !blocked && !r.state.isTerminal { costLeft += r.cost }
        }
        return (c, costLeft)
    }

    func counts() -> [String: Int] { tally().counts }

    func isBlocked(_ r: ExperimentRecord) -> Bool { r.isBlocked(in: records) }
}

extension Coordinator {
    /// Writes the journal's results (one per succeeded experiment) as compact sorted-key JSON
    /// lines sorted by ID, the format of a local sweep's `results.jsonl`. Returns the count.
    public func writeResults(to path: String) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        let results = try journal.results().map { try $0.decoded() }.sorted { $0.id < $1.id }
        for r in results { out.append(try encoder.encode(r)); out.append(0x0A) }
        try out.write(to: URL(fileURLWithPath: path), options: .atomic)
        return results.count
    }
}
