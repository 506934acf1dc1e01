import Experiments
import Foundation

/// What became of one experiment of a local sweep.
public enum SweepOutcome: Equatable, Sendable {
    /// Its result existed before the sweep started (resume).
    case alreadyDone
    case succeeded
    /// The child failed; the message is a short reason (exit status).
    case failed(String)
    /// Marked `needs` (e.g. the detector): not run, not a failure.
    case skippedNeeds([String])
    /// Its base experiment failed or was skipped, so it could not run.
    case blocked(base: String)
}

/// The scheduling state of a local sweep, free of processes so it can be tested: experiments
/// become ready when their base (a pretrain experiment) is done, run in grid order (pretrain
/// first), and finish as succeeded or failed; failures block only their dependents.
public struct LocalSweepScheduler: Sendable {
    public let experiments: [Experiment]
    public private(set) var outcomes: [String: SweepOutcome] = [:]
    public private(set) var running: Set<String> = []
    private var pending: [Experiment]

    /// `isDone` says whether an experiment's result already exists (it is then skipped).
    public init(experiments: [Experiment], isDone: (Experiment) -> Bool) {
        self.experiments = experiments
        var pending = [Experiment]()
        var outcomes = [String: SweepOutcome]()
        for e in experiments where outcomes[e.id] == nil {
            if isDone(e) {
                outcomes[e.id] = .alreadyDone
            } else if !e.needs.isEmpty {
                outcomes[e.id] = .skippedNeeds(e.needs)
            } else if !pending.contains(where: { $0.id == e.id }) {
                pending.append(e)
            }
        }
        self.outcomes = outcomes
        self.pending = pending
        propagateBlocks()
    }

    public var pendingCount: Int { pending.count }
    public var isFinished: Bool { pending.isEmpty && running.isEmpty }

    /// Whether `e`'s base, if any, has a result.
    private func baseReady(_ e: Experiment) -> Bool {
        guard let base = e.spec.base else { return true }
        switch outcomes[base] {
        case .alreadyDone?, .succeeded?: return true
        default: return false
        }
    }

    /// Marks pending experiments whose base can no longer succeed (failed, skipped, blocked, or not
    /// in the sweep and without a result) as blocked.
    private mutating func propagateBlocks() {
        let known = Set(experiments.map(\.id))
        var changed = true
        while changed {
            changed = false
            pending.removeAll { e in
                guard let base = e.spec.base else { return false }
                let dead: Bool
                switch outcomes[base] {
                case .failed?, .skippedNeeds?, .blocked?: dead = true
                case nil: dead = !known.contains(base)
                default: dead = false
                }
                if dead { outcomes[e.id] = .blocked(base: base); changed = true }
                return dead
            }
        }
    }

    /// The next experiment that may start now (its base is done), marked running; nil if none.
    public mutating func next() -> Experiment? {
        guard let i = pending.firstIndex(where: baseReady) else { return nil }
        let e = pending.remove(at: i)
        running.insert(e.id)
        return e
    }

    /// Records the end of a running experiment.
    public mutating func finish(_ id: String, succeeded: Bool, reason: String = "failed") {
        running.remove(id)
        outcomes[id] = succeeded ? .succeeded : .failed(reason)
        if !succeeded { propagateBlocks() }
    }

    /// Puts a running experiment back (interrupted, not failed).
    public mutating func abandon(_ id: String) {
        guard running.remove(id) != nil, let e = experiments.first(where: { $0.id == id }) else { return }
        pending.insert(e, at: 0)
    }

    public struct Counts: Equatable, Sendable {
        public var alreadyDone = 0, succeeded = 0, failed = 0, skippedNeeds = 0, blocked = 0
        public var running = 0, pending = 0
        public var done: Int { alreadyDone + succeeded }
    }

    public var counts: Counts {
        var c = Counts()
        for o in outcomes.values {
            switch o {
            case .alreadyDone: c.alreadyDone += 1
            case .succeeded: c.succeeded += 1
            case .failed: c.failed += 1
            case .skippedNeeds: c.skippedNeeds += 1
            case .blocked: c.blocked += 1
            }
        }
        c.running = running.count
        c.pending = pending.count
        return c
    }

    /// Runs the whole sweep serially with `launch` (true = success); for tests and dry runs.
    public mutating func runSerially(_ launch: (Experiment) -> Bool) {
        while let e = next() { finish(e.id, succeeded: launch(e)) }
    }
}

/// Helpers on a sweep's artifact directory.
public enum LocalSweep {
    /// Threads per worker so that `workers` processes never oversubscribe `cores`.
    public static func threadsPerWorker(cores: Int, workers: Int) -> Int { max(1, cores / max(1, workers)) }

    /// The experiment's result in `artifacts`, if `<artifacts>/<id>/result.json` exists, parses
    /// and has the experiment's ID.
    public static func existingResult(_ id: String, artifacts: String) -> ExperimentResult? {
        let url = URL(fileURLWithPath: artifacts).appendingPathComponent(id).appendingPathComponent("result.json")
        guard let data = try? Data(contentsOf: url),
              let result = try? JSONDecoder().decode(ExperimentResult.self, from: data), result.id == id else { return nil }
        return result
    }

    /// Writes `<artifacts>/results.jsonl`: one compact sorted-key result per line, sorted by ID.
    /// Returns how many results it wrote.
    @discardableResult
    public static func writeResultsJSONL(_ ids: [String], artifacts: String) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        var n = 0
        for id in Set(ids).sorted() {
            guard let r = existingResult(id, artifacts: artifacts) else { continue }
            out.append(try encoder.encode(r))
            out.append(0x0A)
            n += 1
        }
        try out.write(to: URL(fileURLWithPath: artifacts).appendingPathComponent("results.jsonl"), options: .atomic)
        return n
    }
}
