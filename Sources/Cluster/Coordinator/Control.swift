import Foundation

/// A request on the operator socket (JSON).
public struct ControlRequest: Codable, Sendable {
    public enum Operation: String, Codable, Sendable { case status, drain, cancel, retry }
    public var op: Operation
    public var worker: String?
    /// Drain mode: `finish` (default) or `checkpoint`.
    public var mode: DrainMode?
    /// Experiment IDs or unique ID prefixes (cancel, retry).
    public var experiments: [String]?
    /// Cancel every non-terminal experiment.
    public var all: Bool?
    public init(op: Operation, worker: String? = nil, mode: DrainMode? = nil, experiments: [String]? = nil, all: Bool? = nil) {
        self.op = op; self.worker = worker; self.mode = mode; self.experiments = experiments; self.all = all
    }
}

/// The live status of a sweep (`prunebench status --json`).
public struct ClusterStatus: Codable, Sendable {
    public struct Worker: Codable, Sendable {
        public var id: String
        public var state: String
        public var slots: Int
        public var free: Int
        public var cores: Int
        public var lastSeenSeconds: Double
        public var running: [Running]
    }
    public struct Running: Codable, Sendable {
        public var experiment: String
        public var attempt: Int
        public var name: String
        public var state: String
        public var seconds: Double
        public var detail: String
    }
    public var journal: String
    public var incarnation: String
    public var uptimeSeconds: Double
    public var total: Int
    public var counts: [String: Int]
    /// Results recorded since this coordinator started, and their rate per hour of uptime.
    public var resultsThisRun: Int
    public var ratePerHour: Double
    /// Seconds left: the expected cost of the unfinished experiments over the cost finished per
    /// second since this start (nil until something finished).
    public var etaSeconds: Double?
    /// Every experiment is terminal (succeeded, failed, cancelled or blocked).
    public var complete: Bool
    public var workers: [Worker]
    /// Failed experiments with the failure class and message of their last attempt (`oom`,
    /// `error`, ...), by name.
    public var failures: [Failure] = []

    public struct Failure: Codable, Sendable {
        public var experiment: String
        public var name: String
        public var failureClass: String
        public var message: String
        /// Pending experiments that cannot start because this one failed (a pretrain's dependents).
        public var blocks: Int = 0
    }
}

/// The reply to a control request: `ok`, a message, and the status for `status`.
public struct ControlReply: Codable, Sendable {
    public var ok: Bool
    public var message: String
    public var status: ClusterStatus?
}

/// The operator side: one request, one reply, bounded in time.
public enum ControlClient {
    public static func request(_ request: ControlRequest, endpoint: String, timeoutMilliseconds: Int = 5000) throws -> ControlReply {
        let context = try ZMQContext()
        defer { context.close() }
        let socket = try SocketFactory.controlClient(context)
        defer { socket.close() }
        try socket.connect(endpoint)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard try socket.send([[UInt8](try encoder.encode(request))], dontWait: false) else {
            throw ClusterError("\(endpoint): cannot send the request")
        }
        guard try ZMQSocket.pollReadable([socket], timeoutMilliseconds: timeoutMilliseconds)[0], let m = try socket.receive(), let body = m.frames.last else {
            throw ClusterError("\(endpoint): no coordinator answered within \(timeoutMilliseconds) ms (is it running on this journal?)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ControlReply.self, from: Data(body))
    }
}

extension Coordinator {
    func handleControl(_ raw: ZMQMessage) throws {
        guard raw.frames.count == 2 else { return }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let reply: ControlReply
        if let request = try? decoder.decode(ControlRequest.self, from: Data(raw.frames[1])) {
            reply = try answer(request)
        } else {
            reply = ControlReply(ok: false, message: "malformed request: expected JSON {\"op\": status|drain|cancel|retry, ...}", status: nil)
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        _ = try control.send([raw.frames[0], [UInt8](try encoder.encode(reply))])
    }

    func answer(_ request: ControlRequest) throws -> ControlReply {
        switch request.op {
        case .status:
            return ControlReply(ok: true, message: "", status: status())
        case .drain:
            guard let id = request.worker else { return ControlReply(ok: false, message: "drain: give a worker ID", status: nil) }
            let mode = request.mode ?? .finish
            try journal.setDraining(id, true)
            guard workers[id] != nil else { return ControlReply(ok: true, message: "worker \(id) is not connected; it is marked draining", status: nil) }
            workers[id]!.draining = true
            send(.drain(Message.Drain(mode: mode, deadlineSeconds: 120, reason: "operator")), to: id)
            logger.info("draining worker", metadata: ["worker": "\(id)", "mode": "\(mode.rawValue)"])
            return ControlReply(ok: true, message: "draining \(id) (\(mode.rawValue)): no new work; it exits when idle", status: nil)
        case .cancel, .retry:
            let ids: [String]
            if request.all == true, request.op == .cancel {
                ids = records.values.filter { !$0.state.isTerminal }.map(\.id)
            } else {
                var found = [String]()
                for prefix in request.experiments ?? [] {
                    let matches = records.keys.filter { $0.hasPrefix(prefix.lowercased()) }
                    guard matches.count == 1 else {
                        return ControlReply(ok: false, message: "'\(prefix)' matches \(matches.count) experiments; give a unique ID prefix", status: nil)
                    }
                    found.append(matches[0])
                }
                ids = found
            }
            var changed = 0
            for id in ids {
                if request.op == .cancel {
                    if let live = try journal.cancel(id, now: Date().timeIntervalSince1970) {
                        let ref = AttemptRef(id, live.attempt)
                        workers[live.worker]?.held[ref] = nil
                        send(.cancel(Message.Cancel(ref: ref, reason: "operator")), to: live.worker)
                    }
                    changed += 1
                } else if try journal.retry(id) { changed += 1 }
                try refresh(id)
            }
            return ControlReply(ok: true, message: "\(request.op.rawValue): \(changed) experiments", status: nil)
        }
    }

    func status() -> ClusterStatus {
        let now = Date()
        let (c, costLeft) = tally()
        let uptime = now.timeIntervalSince(started)
        let rate = uptime > 0 ? Double(resultsThisRun) / uptime * 3600 : 0
        let ws = workers.values.sorted { $0.id < $1.id }.map { w -> ClusterStatus.Worker in
            let silence = now.timeIntervalSince(w.lastSeen)
            let state = w.draining ? "draining" : silence > config.suspectAfter ? "suspect" : "alive"
            let running = w.held.sorted { $0.key.experiment < $1.key.experiment }.map { ref, at in
                ClusterStatus.Running(experiment: ref.experiment, attempt: ref.attempt, name: records[ref.experiment]?.name ?? "",
                                      state: records[ref.experiment]?.state.rawValue ?? "", seconds: now.timeIntervalSince(at),
                                      detail: progress[ref]?.detail ?? "")
            }
            return ClusterStatus.Worker(id: w.id, state: state, slots: w.slots, free: w.credit, cores: w.cores,
                                        lastSeenSeconds: silence, running: running)
        }
        var status = ClusterStatus(journal: config.journalPath, incarnation: String(incarnation, radix: 16), uptimeSeconds: uptime,
                                   total: records.count, counts: c, resultsThisRun: resultsThisRun, ratePerHour: rate,
                                   etaSeconds: costDoneThisRun > 0 ? costLeft / costDoneThisRun * uptime : nil, complete: complete, workers: ws)
        status.failures = records.values.filter { $0.state == .failed }.sorted { $0.name < $1.name }.compactMap { r in
            guard let last = try? journal.attempts(r.id).last else { return nil }
            return ClusterStatus.Failure(experiment: r.id, name: r.name, failureClass: last.failureClass?.rawValue ?? "error",
                                         message: String((last.message ?? "").prefix(300)),
                                         blocks: blockedDependents(of: r.id))
        }
        return status
    }
}
