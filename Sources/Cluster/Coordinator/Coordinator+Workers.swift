import Experiments
import Foundation

extension Coordinator {
    /// One message on the worker ROUTER: routing ID, then the protocol frames.
    func handleWorkerFrames(_ raw: ZMQMessage) throws {
        guard raw.frames.count >= 2 else { return }
        let routingID = String(decoding: raw.frames[0], as: UTF8.self)
        // Peer-supplied: escaped before it reaches a log line.
        let peer = PeerText.escaped(raw.frames[0])
        // With CURVE, the ZAP handler names the sender; it must be the routing ID (§13).
        if config.curve != nil, raw.userID != routingID {
            guard peerWarnings.admit(peer) else { return }
            logger.warning("message dropped: User-Id does not match the routing ID",
                           metadata: ["routing_id": "\(peer)", "user_id": "\(PeerText.escaped(raw.userID ?? "none"))"])
            return
        }
        let message: Message
        do { message = try Message.decode(Array(raw.frames.dropFirst())) } catch {
            guard peerWarnings.admit(peer) else { return }
            logger.warning("malformed message dropped", metadata: ["worker": "\(peer)", "error": "\(PeerText.escaped("\(error)", limit: 200))"])
            return
        }
        if case .hello(let h) = message { return try hello(h, routingID: routingID) }
        guard workers[routingID] != nil else {
            // Not registered in this incarnation: the Majordomo rule (§5.2 rule 2).
            if WorkerID.isValid(routingID) { sendRaw(.disconnect(reason: "re-register"), to: routingID) }
            return
        }
        workers[routingID]!.lastSeen = Date()
        switch message {
        case .heartbeat(let h): try heartbeat(h, from: routingID)
        case .progress(let p): try progressReport(p, from: routingID)
        case .result(let r): try result(r, from: routingID)
        case .fetch(let f): send(.chunk(ChunkServer.answer(f, path: store.path(f.digest))), to: routingID)
        case .chunk(let c): try chunk(c, from: routingID)
        case .drain(let d):
            try journal.setDraining(routingID, true)
            workers[routingID]!.draining = true
            logger.info("worker announced drain", metadata: ["worker": "\(routingID)", "mode": "\(PeerText.escaped("\(d.mode)"))"])
        case .disconnect(let reason):
            logger.info("worker disconnected", metadata: ["worker": "\(routingID)", "reason": "\(PeerText.escaped(reason, limit: 200))"])
            try release(routingID, reason: "worker disconnected")
        case .hello, .welcome, .assign, .ack, .cancel:
            guard peerWarnings.admit(peer) else { return }
            logger.warning("unexpected command from a worker", metadata: ["worker": "\(routingID)", "command": "\(message.command)"])
        }
    }

    /// Sends to a worker that may not have a session (no bookkeeping).
    func sendRaw(_ message: Message, to worker: String) {
        _ = try? router.send([Array(worker.utf8)] + message.frames())
    }

    /// HELLO (§15.3): adopt the worker's running attempts that are current, cancel the others, and
    /// mark lost the attempts the journal gives it that it no longer runs.
    func hello(_ h: Message.Hello, routingID: String) throws {
        guard h.workerID == routingID else {
            logger.warning("HELLO dropped: worker ID differs from the routing ID",
                           metadata: ["routing_id": "\(PeerText.escaped(routingID))", "worker_id": "\(PeerText.escaped(h.workerID))"])
            sendRaw(.disconnect(reason: "authentication mismatch"), to: routingID)
            return
        }
        guard h.versions.contains(ClusterProtocol.version) else {
            sendRaw(.disconnect(reason: "protocol error: no common version"), to: routingID)
            return
        }
        let now = Date()
        let reported = Set(h.running.map(\.ref))
        var adopted = [AttemptRef](), cancelled = [AttemptRef]()
        var held = [AttemptRef: Date]()
        for ref in reported {
            if try journal.adopt(ref.experiment, attempt: ref.attempt, worker: routingID, now: now.timeIntervalSince1970) {
                adopted.append(ref); held[ref] = now
            } else { cancelled.append(ref) }
            orphans[ref] = nil
            try refresh(ref.experiment)
        }
        // Attempts held by this worker (an old session or, after a restart, the journal) that it does not report: lost.
        var mine = Set(workers[routingID]?.held.keys.map { $0 } ?? [])
        for (ref, w) in orphans where w == routingID { mine.insert(ref); orphans[ref] = nil }
        // An attempt whose result waits in the worker's outbox is not lost: the result follows WELCOME.
        let finished = Set(h.unacknowledged.map(\.ref))
        for ref in mine where !reported.contains(ref) && !finished.contains(ref) {
            try lose(ref, reason: "not running on \(routingID) after it reconnected")
        }
        var draining = h.draining
        if try journal.drainingWorkers().contains(routingID) {
            if h.draining { draining = true } else { try journal.setDraining(routingID, false) }  // §15.2: a normal worker again
        }
        workers[routingID] = WorkerSession(id: routingID, incarnation: h.incarnation, slots: h.slots, cores: h.cores, build: h.build,
                                           draining: draining, lastSeen: now, held: held, cached: Set(h.cached))
        send(.welcome(Message.Welcome(incarnation: incarnation, heartbeatMilliseconds: config.heartbeatMilliseconds,
                                      liveness: config.liveness, leaseMilliseconds: config.leaseMilliseconds,
                                      adopted: adopted, cancelled: cancelled)), to: routingID)
        logger.info("worker registered", metadata: ["worker": "\(routingID)", "slots": "\(h.slots)", "cores": "\(h.cores)",
                                                    "adopted": "\(adopted.count)", "cancelled": "\(cancelled.count)",
                                                    "unacknowledged": "\(h.unacknowledged.count)"])
    }

    /// Marks an attempt lost (worker_lost, retryable) and drops it from its holder.
    func lose(_ ref: AttemptRef, reason: String) throws {
        _ = try journal.endAttempt(ref.experiment, attempt: ref.attempt, outcome: .lost, failureClass: .workerLost, message: reason,
                                   retryable: true, now: Date().timeIntervalSince1970)
        for id in workers.keys { workers[id]!.held[ref] = nil }
        progress[ref] = nil
        try refresh(ref.experiment)
        logger.info("attempt lost", metadata: ["attempt": "\(ref)", "reason": "\(reason)", "state": "\(records[ref.experiment]?.state.rawValue ?? "?")"])
    }

    /// Removes a worker and reclaims its attempts.
    func release(_ worker: String, reason: String) throws {
        guard let session = workers.removeValue(forKey: worker) else { return }
        for ref in session.held.keys { try lose(ref, reason: reason) }
    }

    /// HEARTBEAT: reconcile the worker's running set with the attempts it holds (§5.2 rule 6).
    func heartbeat(_ h: Message.Heartbeat, from worker: String) throws {
        guard h.sequence > workers[worker]!.lastHeartbeatSequence else { return }
        workers[worker]!.lastHeartbeatSequence = h.sequence
        if h.draining && !workers[worker]!.draining { workers[worker]!.draining = true }
        let running = Set(h.running)
        let now = Date()
        let started = workers[worker]!.held.keys.filter { running.contains($0) && records[$0.experiment]?.state == .assigned }
        if !started.isEmpty, try journal.markRunning(started.map { ($0.experiment, $0.attempt) }) > 0 {
            for ref in started { try refresh(ref.experiment) }
        }
        for (ref, assignedAt) in workers[worker]!.held where !running.contains(ref) {
            if now.timeIntervalSince(assignedAt) > 2 * config.heartbeat + 1 {
                try lose(ref, reason: "absent from \(worker)'s running set")
            }
        }
        for ref in running where workers[worker]!.held[ref] == nil {
            send(.cancel(Message.Cancel(ref: ref, reason: "unknown attempt")), to: worker)
        }
    }

    func progressReport(_ p: Message.Progress, from worker: String) throws {
        guard workers[worker]!.held[p.ref] != nil else { return }
        progress[p.ref] = (p.detail, Date())
        if records[p.ref.experiment]?.state == .assigned, try journal.markRunning(p.ref.experiment, attempt: p.ref.attempt) {
            try refresh(p.ref.experiment)
        }
    }

    /// RESULT: journal first, then ACK (§7.1); the first complete result wins (§6.3).
    func result(_ r: Message.ResultReport, from worker: String) throws {
        guard ContentDigest.hex(r.body) == r.digest else {
            logger.warning("RESULT dropped: digest mismatch", metadata: ["worker": "\(worker)", "attempt": "\(PeerText.escaped("\(r.ref)"))"])
            return
        }
        let now = Date().timeIntervalSince1970
        let outcome = r.outcome
        // Fencing: a result counts only from the worker the journal gives the attempt to. Anything
        // else is acknowledged as stale (so an honest worker's outbox drains) and, if it claims
        // success, kept as provenance, never as a result.
        let holder = try journal.holder(of: r.ref.experiment, attempt: r.ref.attempt)
        guard holder == worker else {
            if outcome == .succeeded {
                _ = try journal.recordResult(r.ref.experiment, attempt: r.ref.attempt, digest: r.digest, body: Data(r.body),
                                             worker: worker, now: now)
            }
            logger.warning("RESULT from a worker that does not hold the attempt: kept as provenance only",
                           metadata: ["worker": "\(worker)", "attempt": "\(PeerText.escaped("\(r.ref)"))",
                                      "holder": "\(holder ?? "none")", "outcome": "\(outcome.rawValue)"])
            send(.ack(Message.Ack(ref: r.ref, digest: r.digest, disposition: .stale)), to: worker)
            return
        }
        let disposition: ResultDisposition
        if outcome == .succeeded {
            guard let decoded = try? JSONDecoder().decode(ExperimentResult.self, from: Data(r.body)), decoded.id == r.ref.experiment else {
                logger.warning("RESULT dropped: body is not this experiment's result", metadata: ["worker": "\(worker)", "attempt": "\(PeerText.escaped("\(r.ref)"))"])
                return
            }
            disposition = try journal.recordResult(r.ref.experiment, attempt: r.ref.attempt, digest: r.digest, body: Data(r.body),
                                                   worker: worker, now: now)
            if disposition == .recorded {
                resultsThisRun += 1
                costDoneThisRun += records[r.ref.experiment]?.cost ?? 0
                // Other live attempts exist only if more than one was ever allocated.
                let others = (records[r.ref.experiment]?.attempt ?? 1) > 1 ? try journal.liveAttemptsSuperseded(by: r.ref.experiment) : []
                for live in others {
                    let ref = AttemptRef(r.ref.experiment, live.attempt)
                    workers[live.worker]?.held[ref] = nil
                    send(.cancel(Message.Cancel(ref: ref, reason: "superseded")), to: live.worker)
                }
                if decoded.spec.kind == .pretrain {
                    noteCheckpoint(of: decoded)
                    workers[worker]?.cached.insert(decoded.metrics.checkpointSHA256)
                    startPull(digest: decoded.metrics.checkpointSHA256, from: worker)
                }
                logger.info("result recorded", metadata: ["attempt": "\(r.ref)", "worker": "\(worker)", "name": "\(decoded.name)",
                                                          "accuracy": "\(String(format: "%.2f", decoded.metrics.accuracy))"])
            }
        } else {
            let state = try journal.endAttempt(r.ref.experiment, attempt: r.ref.attempt, outcome: outcome, failureClass: r.failureClass,
                                               message: r.message, retryable: r.retryable, now: now)
            disposition = .recorded
            logger.info("attempt ended", metadata: ["attempt": "\(r.ref)", "worker": "\(worker)", "outcome": "\(outcome.rawValue)",
                                                    "state": "\(state.rawValue)", "message": "\(PeerText.escaped(r.message, limit: 200))"])
        }
        try refresh(r.ref.experiment)
        workers[worker]?.held[r.ref] = nil
        progress[r.ref] = nil
        send(.ack(Message.Ack(ref: r.ref, digest: r.digest, disposition: disposition)), to: worker)
    }

    /// Pulls a pretrain checkpoint into the store so other workers can fetch it (§10).
    func startPull(digest: String, from worker: String) {
        guard store.path(digest) == nil, pulls[digest] == nil else { return }
        let download = ChunkDownload(digest: digest, destination: store.destination(digest), expectedSize: nil)
        pulls[digest] = (worker, download)
        for f in download.requests() { send(.fetch(f), to: worker) }
    }

    func chunk(_ c: Message.Chunk, from worker: String) throws {
        guard let pull = pulls[c.digest], pull.worker == worker else { return }
        switch pull.download.receive(c) {
        case .inProgress: for f in pull.download.requests() { send(.fetch(f), to: worker) }
        case .done:
            pulls[c.digest] = nil
            store.added(c.digest)
            artifacts.forget(c.digest)
            logger.info("checkpoint stored", metadata: ["digest": "\(c.digest.prefix(12))", "from": "\(worker)"])
        case .notHeld:
            pulls[c.digest] = nil
            workers[worker]?.cached.remove(c.digest)
            pullFailed(c.digest, from: worker, why: "the holder does not have \(c.digest.prefix(12))", now: Date())
        case .failed(let why):
            pulls[c.digest] = nil
            pullFailed(c.digest, from: worker, why: why, now: Date())
        }
    }
}
