import Experiments
import Foundation

extension Coordinator {
    /// Liveness, reclaim, heartbeats, dispatch and completion: run after every poll.
    func tick() throws {
        let now = Date()
        for (id, w) in workers {
            let silence = now.timeIntervalSince(w.lastSeen)
            if silence > config.lease {
                logger.warning("worker lease expired", metadata: ["worker": "\(id)", "silent_s": "\(Int(silence))", "attempts": "\(w.held.count)"])
                try release(id, reason: "lease expired")
                continue
            }
            if silence > config.suspectAfter, !w.suspectLogged {
                workers[id]!.suspectLogged = true
                logger.warning("worker suspect", metadata: ["worker": "\(id)", "silent_s": "\(String(format: "%.1f", silence))"])
            } else if silence <= config.suspectAfter, w.suspectLogged {
                workers[id]!.suspectLogged = false
                logger.info("worker alive again", metadata: ["worker": "\(id)"])
            }
            if now.timeIntervalSince(w.lastSent) >= config.heartbeat {
                send(.heartbeat(Message.Heartbeat(sequence: 0, incarnation: incarnation, freeSlots: 0, running: [], draining: false)), to: id)
            }
        }
        // Restart grace (§15.3): attempts whose worker never came back are reclaimed after the lease.
        if !orphans.isEmpty, now.timeIntervalSince(started) > config.lease {
            for (ref, w) in orphans { orphans[ref] = nil; try lose(ref, reason: "worker \(w) did not return after the coordinator restart") }
        }
        if let held = peerWarnings.summary(now: now), !held.isEmpty {
            logger.warning("peer warnings suppressed", metadata: [
                "peers": "\(held.count)", "messages": "\(held.reduce(0) { $0 + $1.suppressed })",
                "top": "\(held.sorted { $0.suppressed > $1.suppressed }.prefix(3).map { "\($0.peer):\($0.suppressed)" }.joined(separator: ","))"])
        }
        try ensureCheckpoints(now: now)
        try dispatch(now: now)
        complete = orphans.isEmpty && pulls.isEmpty && records.values.allSatisfy { $0.state.isTerminal || isBlocked($0) }
    }

    /// Pulls every recorded base checkpoint the store lacks (a pull lost to a crash of either side
    /// starts over) from a registered worker that holds it. A checkpoint that cannot be had (every
    /// pull failed, or no connected worker has held it for a lease) withdraws its pretrain's result:
    /// the pretrain runs again elsewhere, or fails and blocks its dependents (``ArtifactWatch``).
    func ensureCheckpoints(now: Date) throws {
        for (digest, pull) in pulls where pull.download.isStalled() {
            pulls[digest] = nil
            pullFailed(digest, from: pull.worker, why: "no chunk for 5 s", now: now)
        }
        for (experiment, digest) in checkpointOf.sorted(by: { $0.key < $1.key })
        where store.path(digest) == nil && pulls[digest] == nil {
            if let why = artifacts.exhausted(digest) {
                try withdraw(experiment, digest: digest, why: "its checkpoint \(digest.prefix(12)) could not be pulled: \(why)")
                continue
            }
            guard artifacts.mayTry(digest, now: now) else { continue }
            if let holder = workers.values.filter({ $0.cached.contains(digest) }).map(\.id).sorted().first {
                artifacts.holderSeen(digest)
                startPull(digest: digest, from: holder)
            } else if artifacts.holderMissing(digest, now: now) > config.lease {
                try withdraw(experiment, digest: digest,
                             why: "no connected worker has held its checkpoint \(digest.prefix(12)) for \(Int(config.lease)) s")
            }
        }
    }

    /// Counts a failed pull (with back-off).
    func pullFailed(_ digest: String, from worker: String, why: String, now: Date) {
        let delay = artifacts.pullFailed(digest, why: why, now: now)
        logger.warning("checkpoint pull failed", metadata: ["digest": "\(digest.prefix(12))", "from": "\(worker)", "error": "\(why)",
                                                             "retry_in_s": "\(Int(delay))"])
    }

    /// Withdraws the result of pretrain `experiment`, whose checkpoint cannot be had.
    func withdraw(_ experiment: String, digest: String, why: String) throws {
        checkpointOf[experiment] = nil
        artifacts.forget(digest)
        let state = try journal.withdrawResultWithLostArtifact(experiment, message: why, now: Date().timeIntervalSince1970)
        try refresh(experiment)
        let name = records[experiment]?.name ?? experiment
        if state == .pending {
            logger.warning("checkpoint cannot be had: the pretrain runs again", metadata: ["name": "\(name)", "reason": "\(why)"])
        } else {
            let blocked = blockedDependents(of: experiment)
            logger.error("checkpoint cannot be had: the pretrain failed and its dependents are blocked",
                         metadata: ["name": "\(name)", "reason": "\(why)", "blocked": "\(blocked)"])
        }
    }

    /// Pending experiments that cannot start because `experiment` failed (a pretrain's dependents).
    func blockedDependents(of experiment: String) -> Int {
        records.values.filter { $0.base == experiment && $0.state == .pending }.count
    }

    /// Whether `e` may start: pending, and its base's checkpoint is in the store.
    func isReady(_ r: ExperimentRecord) -> Bool {
        guard r.state == .pending else { return false }
        guard let base = r.base else { return true }
        guard records[base]?.state == .succeeded, let digest = checkpointOf[base] else { return false }
        return store.path(digest) != nil
    }

    /// Assigns ready experiments, longest first, to live, non-draining workers with credit (§11).
    func dispatch(now: Date) throws {
        let available = workers.values.filter { !$0.draining && now.timeIntervalSince($0.lastSeen) <= config.suspectAfter && $0.credit > 0 }
        guard !available.isEmpty else { return }
        var credit = Dictionary(uniqueKeysWithValues: available.map { ($0.id, $0.credit) })
        // The ready experiments in dispatch order, a window beyond the free slots for the affinity rule.
        var ready = pending.scan(limit: credit.values.reduce(0, +) + 64, isPending: { records[$0]?.state == .pending },
                                 accept: { records[$0].map(isReady) ?? false })
        guard !ready.isEmpty else { return }
        // Most free credit first, so work spreads over the workers.
        var order = available.sorted { ($0.credit, $1.id) > ($1.credit, $0.id) }.map(\.id)
        var picks = [(record: ExperimentRecord, worker: String)]()
        while !ready.isEmpty, !order.isEmpty {
            var next = [String]()
            for id in order {
                guard !ready.isEmpty, let w = workers[id], credit[id, default: 0] > 0 else { continue }
                // Affinity: prefer an experiment whose base this worker already holds.
                let pick = ready.firstIndex { records[$0]?.base.flatMap { checkpointOf[$0] }.map(w.cached.contains) ?? false } ?? 0
                picks.append((records[ready.remove(at: pick)]!, id))
                credit[id]! -= 1
                if credit[id]! > 0 { next.append(id) }
            }
            order = next
        }
        try assign(picks, now: now)
    }

    /// Journals the assignments in one transaction (durable before any ASSIGN leaves, §7.1), then sends them.
    func assign(_ picks: [(record: ExperimentRecord, worker: String)], now: Date) throws {
        guard !picks.isEmpty else { return }
        let attempts = try journal.assign(picks.map { ($0.record.id, $0.worker) }, now: now.timeIntervalSince1970)
        for ((r, worker), attempt) in zip(picks, attempts) {
            records[r.id]?.state = .assigned
            records[r.id]?.attempt = attempt
            records[r.id]?.worker = worker
            var inputs = [Message.Input]()
            if let base = r.base, let digest = checkpointOf[base] {
                inputs.append(Message.Input(role: "base_checkpoint", experiment: base, digest: digest, size: store.size(digest) ?? 0))
            }
            let ref = AttemptRef(r.id, attempt)
            workers[worker]!.held[ref] = now
            send(.assign(Message.Assign(ref: ref, experimentJSON: experimentJSON[r.id] ?? [], threads: config.threadsPerJob, inputs: inputs)), to: worker)
            logger.info("assigned", metadata: ["attempt": "\(ref)", "worker": "\(worker)", "name": "\(r.name)"])
        }
    }
}

/// The coordinator's content-addressed checkpoint store: `<directory>/<sha256>.safetensors`.
final class CheckpointStore {
    let directory: URL
    private var sizes: [String: Int] = [:]

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".safetensors") {
            let digest = String(name.dropLast(".safetensors".count))
            if let s = (try? FileManager.default.attributesOfItem(atPath: self.directory.appendingPathComponent(name).path))?[.size] as? Int {
                sizes[digest] = s
            }
        }
    }

    func destination(_ digest: String) -> String { directory.appendingPathComponent("\(digest).safetensors").path }
    func path(_ digest: String) -> String? { sizes[digest] != nil ? destination(digest) : nil }
    func size(_ digest: String) -> Int? { sizes[digest] }

    /// Registers a file written (and verified) at `destination(digest)`.
    func added(_ digest: String) {
        sizes[digest] = (try? FileManager.default.attributesOfItem(atPath: destination(digest)))?[.size] as? Int ?? 0
    }
}
