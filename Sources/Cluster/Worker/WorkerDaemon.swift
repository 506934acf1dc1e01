import Experiments
import Foundation
import Logging

/// Settings of a worker daemon.
public struct WorkerConfig: Sendable {
    public var workerID: String
    public var endpoint: String
    public var slots: Int
    /// Threads per job (default: cores / slots, so jobs never oversubscribe the cores).
    public var threadsPerJob: Int
    /// The work root: `<root>/<experiment>/` attempt directories, `outbox/`, `running/`.
    public var root: String
    /// The `prunebench` executable that runs jobs.
    public var executable: String
    /// The folders of this machine's data sets (`--data-dir`); each job gets its data set's.
    public var dataDirectories = DataDirectories()
    /// Address-space cap of each job in bytes (RLIMIT_AS, set by the job on itself before any
    /// work), so one job cannot take the machine down; nil: no cap.
    public var jobMemoryBytes: Int?
    public var curve: CurveSettings?
    /// Exit once the coordinator reports the sweep complete and no job runs.
    public var exitWhenComplete = false
    /// SIGKILL follows SIGTERM after this many seconds (cluster.md §8 cancel grace).
    public var cancelGraceSeconds: Double = 30

    public init(workerID: String, endpoint: String, slots: Int, threadsPerJob: Int, root: String, executable: String) {
        self.workerID = workerID; self.endpoint = endpoint; self.slots = slots; self.threadsPerJob = threadsPerJob
        self.root = root; self.executable = executable
    }

    /// Threads per job when `jobs` jobs share `cores` cores: never more threads than cores in all.
    public static func threadsPerJob(cores: Int, jobs: Int) -> Int { max(1, cores / max(1, jobs)) }
}

/// The worker daemon (cluster.md §3, §5, §7.2, §9): one DEALER to the coordinator, jobs as child
/// processes, an on-disk outbox of results until acknowledged, heartbeats from this loop (never
/// from a job), reconnection with HELLO when the coordinator goes silent or restarts.
public final class WorkerDaemon {
    let config: WorkerConfig
    let logger: Logger
    let incarnation = UInt64.random(in: 1...UInt64.max)
    let context: ZMQContext
    var socket: ZMQSocket
    let outbox: Outbox
    let cache: CheckpointCache
    let runningRecords: RunningRecords
    var jobs: [String: Job] = [:]  // by experiment
    var waiting: [String: (assign: Message.Assign, download: ChunkDownload)] = [:]  // by experiment
    var downloadsByDigest: [String: ChunkDownload] = [:]
    var registered = false
    var draining = false
    var sweepComplete = false
    var coordinatorIncarnation: UInt64?
    var heartbeatInterval: TimeInterval = 1
    var liveness = 3
    var lastHeard = Date()
    var lastSent = Date.distantPast
    var helloSentAt = Date.distantPast
    var heartbeatSequence: UInt64 = 0
    var lastProgressSent: [String: Date] = [:]

    public init(config: WorkerConfig, logger: Logger) throws {
        guard WorkerID.isValid(config.workerID) else { throw ClusterError("--id '\(config.workerID)': expected 1-255 printable ASCII characters without spaces") }
        self.config = config
        self.logger = logger
        try FileManager.default.createDirectory(atPath: config.root, withIntermediateDirectories: true)
        outbox = try Outbox(directory: config.root + "/outbox")
        cache = CheckpointCache(root: config.root)
        runningRecords = try RunningRecords(directory: config.root + "/running")
        context = try ZMQContext()
        socket = try SocketFactory.workerDealer(context, workerID: config.workerID, curve: config.curve)
        try socket.connect(config.endpoint)
        recoverAfterRestart()
    }

    /// Attempts recorded as running by a previous incarnation: finished ones are reported from
    /// their result file, the others as lost (their processes died with the old daemon).
    private func recoverAfterRestart() {
        for (ref, recordedAt) in runningRecords.all() {
            let resultPath = "\(config.root)/\(ref.experiment)/result.json"
            var report: Message.ResultReport
            if let body = FileManager.default.contents(atPath: resultPath),
               let r = try? JSONDecoder().decode(ExperimentResult.self, from: body), r.id == ref.experiment,
               let m = (try? FileManager.default.attributesOfItem(atPath: resultPath))?[.modificationDate] as? Date, m >= recordedAt {
                report = Job.report(ref, outcome: .succeeded, failure: nil, retryable: false, message: "", status: 0, body: [UInt8](body))
                cache.addResult(r)
            } else {
                report = Job.report(ref, outcome: .lost, failure: .workerLost, retryable: true, message: "worker daemon restarted", status: -1, body: [])
            }
            try? outbox.add(report)
            runningRecords.remove(ref)
            logger.info("recovered attempt", metadata: ["attempt": "\(ref)", "outcome": "\(report.outcome.rawValue)"])
        }
    }

    @discardableResult
    func send(_ message: Message) -> Bool {
        do {
            if try socket.send(message.frames()) { lastSent = Date(); return true }
        } catch { logger.warning("send failed", metadata: ["error": "\(error)"]) }
        return false
    }

    /// Sends HELLO; with the immediate option it is refused until the connection is up, so `tick`
    /// retries until it leaves.
    func sendHello() {
        registered = false
        let running = jobs.values.map { Message.RunningAttempt(ref: $0.ref, phase: "running") }
            + waiting.values.map { Message.RunningAttempt(ref: $0.assign.ref, phase: "fetching") }
        let sent = send(.hello(Message.Hello(
            workerID: config.workerID, incarnation: incarnation, build: prunebenchVersion,
            cores: ProcessInfo.processInfo.activeProcessorCount, slots: config.slots, draining: draining,
            running: running, unacknowledged: outbox.pending.values.map { .init(ref: $0.ref, digest: $0.digest) },
            cached: cache.digests)))
        helloSentAt = sent ? Date() : .distantPast
    }

    /// Recreates the socket (the coordinator restarted or went silent) and says HELLO again.
    func reconnect(_ why: String) {
        logger.info("reconnecting", metadata: ["reason": "\(why)"])
        socket.close()
        do {
            socket = try SocketFactory.workerDealer(context, workerID: config.workerID, curve: config.curve)
            try socket.connect(config.endpoint)
        } catch { logger.error("cannot recreate the socket", metadata: ["error": "\(error)"]) }
        lastHeard = Date()
        sendHello()
    }

    var runningRefs: [AttemptRef] { jobs.values.map(\.ref) + waiting.values.map(\.assign.ref) }
    var freeSlots: Int { max(0, config.slots - jobs.count - waiting.count) }

    /// Runs until `shouldStop` returns true, a drain completes, or the sweep is complete (with
    /// `exitWhenComplete`). Jobs still running at a stop are terminated.
    public func run(shouldStop: () -> Bool) throws {
        defer { shutdown() }
        logger.info("worker started", metadata: ["id": "\(config.workerID)", "connect": "\(config.endpoint)", "slots": "\(config.slots)",
                                                 "threads_per_job": "\(config.threadsPerJob)", "root": "\(config.root)"])
        sendHello()
        while !shouldStop() {
            if try ZMQSocket.pollReadable([socket], timeoutMilliseconds: 100)[0] {
                while let m = try socket.receive() { lastHeard = Date(); handle(m) }
            }
            tick()
            if (draining || (sweepComplete && config.exitWhenComplete)) && jobs.isEmpty && waiting.isEmpty && outbox.pending.isEmpty {
                send(.disconnect(reason: draining ? "drained" : "shutdown"))
                logger.info(draining ? "drained: exiting" : "sweep complete: exiting")
                return
            }
        }
        logger.info("stopping: terminating jobs", metadata: ["jobs": "\(jobs.count)"])
    }

    private func shutdown() {
        for job in jobs.values { job.kill() }
        for job in jobs.values { job.process.waitUntilExit() }
        socket.close()
        context.close()
    }

    func handle(_ raw: ZMQMessage) {
        let message: Message
        do { message = try Message.decode(raw.frames) } catch {
            logger.warning("malformed message dropped", metadata: ["error": "\(error)"])
            return
        }
        switch message {
        case .welcome(let w):
            if let old = coordinatorIncarnation, old != w.incarnation { logger.info("coordinator restarted", metadata: ["incarnation": "\(w.incarnation)"]) }
            coordinatorIncarnation = w.incarnation
            registered = true
            heartbeatInterval = Double(max(50, w.heartbeatMilliseconds)) / 1000
            liveness = max(1, w.liveness)
            for ref in w.cancelled { cancel(ref, reason: "not current at the coordinator") }
            for r in outbox.due(force: true) { send(.result(r)) }
            logger.info("registered", metadata: ["adopted": "\(w.adopted.count)", "cancelled": "\(w.cancelled.count)"])
        case .assign(let a): accept(a)
        case .cancel(let c): cancel(c.ref, reason: c.reason)
        case .ack(let a): outbox.acknowledge(a.ref, digest: a.digest)
        case .drain(let d):
            draining = true
            logger.info("draining", metadata: ["mode": "\(d.mode.rawValue)", "reason": "\(d.reason)"])
            if d.mode == .checkpoint { for job in jobs.values { job.cancel() } }
        case .heartbeat(let h):
            if let known = coordinatorIncarnation, h.incarnation != known { reconnect("new coordinator incarnation") }
        case .disconnect(let reason):
            if reason == "sweep complete" { sweepComplete = true; registered = true } else { sendHello() }  // §5.2 rule 2: HELLO again
        case .fetch(let f): send(.chunk(ChunkServer.answer(f, path: cache.path(f.digest))))
        case .chunk(let c): received(c)
        case .hello, .progress, .result:
            logger.warning("unexpected message from the coordinator", metadata: ["command": "\(message.command)"])
        }
    }

    func accept(_ a: Message.Assign) {
        let id = a.ref.experiment
        if let job = jobs[id] {
            if job.ref.attempt >= a.ref.attempt { return }  // duplicate ASSIGN: already running it
            job.cancel()  // a newer attempt supersedes the local one
        }
        if waiting[id] != nil { return }
        for input in a.inputs where cache.path(input.digest) == nil {
            let destination = "\(config.root)/\(input.experiment)/model.safetensors"
            let download = downloadsByDigest[input.digest] ?? ChunkDownload(digest: input.digest, destination: destination, expectedSize: input.size)
            if downloadsByDigest[input.digest] == nil {
                downloadsByDigest[input.digest] = download
                for f in download.requests() { send(.fetch(f)) }
            }
            waiting[id] = (a, download)
            logger.info("fetching input", metadata: ["attempt": "\(a.ref)", "digest": "\(input.digest.prefix(12))", "bytes": "\(input.size)"])
            return
        }
        start(a)
    }

    func received(_ chunk: Message.Chunk) {
        guard let download = downloadsByDigest[chunk.digest] else { return }
        let status = download.receive(chunk)
        switch status {
        case .inProgress:
            for f in download.requests() { send(.fetch(f)) }
        case .done:
            downloadsByDigest[chunk.digest] = nil
            cache.add(digest: chunk.digest, path: download.destination)
            for (id, w) in waiting where w.download === download {
                waiting[id] = nil
                start(w.assign)
            }
        case .notHeld, .failed:
            let why = if case .failed(let why) = status { why } else { "the coordinator does not have \(chunk.digest.prefix(12))" }
            downloadsByDigest[chunk.digest] = nil
            logger.error("input transfer failed", metadata: ["digest": "\(chunk.digest.prefix(12))", "error": "\(why)"])
            for (id, w) in waiting where w.download === download {
                waiting[id] = nil
                finish(Job.report(w.assign.ref, outcome: .refused, failure: .refused, retryable: true, message: "input transfer failed: \(why)", status: -1, body: []))
            }
        }
    }

    func start(_ a: Message.Assign) {
        do {
            let experiment = try JSONDecoder().decode(Experiment.self, from: Data(a.experimentJSON))
            guard experiment.id == a.ref.experiment else { throw ClusterError("experiment JSON has ID \(experiment.id)") }
            try runningRecords.add(a.ref)
            let job = try Job(ref: a.ref, experimentJSON: a.experimentJSON, experiment: experiment, executable: config.executable,
                              root: config.root, threads: a.threads > 0 ? a.threads : config.threadsPerJob, dataDirectory: config.dataDirectories.directory(for: experiment.spec.dataset.name),
                              memoryLimit: config.jobMemoryBytes)
            jobs[a.ref.experiment] = job
            logger.info("started", metadata: ["attempt": "\(a.ref)", "name": "\(experiment.name)", "pid": "\(job.process.processIdentifier)"])
        } catch {
            runningRecords.remove(a.ref)
            finish(Job.report(a.ref, outcome: .refused, failure: .refused, retryable: true, message: "cannot start: \(error)", status: -1, body: []))
        }
    }

    func cancel(_ ref: AttemptRef, reason: String) {
        if let job = jobs[ref.experiment], job.ref == ref {
            logger.info("cancelling", metadata: ["attempt": "\(ref)", "reason": "\(reason)"])
            job.cancel()
        } else if let w = waiting[ref.experiment], w.assign.ref == ref {
            waiting[ref.experiment] = nil
            finish(Job.report(ref, outcome: .cancelled, failure: nil, retryable: false, message: reason, status: -1, body: []))
        }
    }

    /// Persists a RESULT in the outbox, then sends it.
    func finish(_ report: Message.ResultReport) {
        do { try outbox.add(report) } catch { logger.error("outbox write failed", metadata: ["error": "\(error)"]) }
        runningRecords.remove(report.ref)
        send(.result(report))
    }

    func tick() {
        let now = Date()
        for (id, job) in jobs {
            if job.isRunning {
                if let at = job.cancelledAt, now.timeIntervalSince(at) > config.cancelGraceSeconds { job.kill() }
                if now.timeIntervalSince(lastProgressSent[id] ?? .distantPast) >= 1, let line = job.newProgressLine() {
                    lastProgressSent[id] = now
                    send(.progress(Message.Progress(ref: job.ref, sequence: job.progressSequence, phase: "running", detail: line)))
                }
                continue
            }
            jobs[id] = nil
            lastProgressSent[id] = nil
            let report = job.report()
            if report.outcome == .succeeded,
               let r = try? JSONDecoder().decode(ExperimentResult.self, from: Data(report.body)) { cache.addResult(r) }
            logger.info("finished", metadata: ["attempt": "\(job.ref)", "outcome": "\(report.outcome.rawValue)",
                                               "wall": "\(String(format: "%.1f s", now.timeIntervalSince(job.started)))"])
            finish(report)
        }
        for r in outbox.due(force: false) where registered { send(.result(r)) }
        // A download whose requests were lost (the coordinator restarted) starts over.
        for (digest, download) in downloadsByDigest where registered && download.isStalled() {
            let fresh = ChunkDownload(digest: digest, destination: download.destination, expectedSize: download.expectedSize)
            downloadsByDigest[digest] = fresh
            for (id, w) in waiting where w.download === download { waiting[id] = (w.assign, fresh) }
            for f in fresh.requests() { send(.fetch(f)) }
        }
        let silence = now.timeIntervalSince(lastHeard)
        if silence > heartbeatInterval * Double(liveness) {
            reconnect(registered ? "coordinator silent for \(String(format: "%.1f", silence)) s" : "no WELCOME")
        } else if !registered {
            if now.timeIntervalSince(helloSentAt) > heartbeatInterval * 2 { sendHello() }
        } else if now.timeIntervalSince(lastSent) >= heartbeatInterval {
            heartbeatSequence += 1
            send(.heartbeat(Message.Heartbeat(sequence: heartbeatSequence, incarnation: incarnation, freeSlots: draining ? 0 : freeSlots,
                                              running: runningRefs, draining: draining)))
        }
    }
}
