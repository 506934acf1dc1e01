import GRDB

/// How an ended attempt is charged against the retry budgets of cluster.md §6.4.
enum RetryCharge: Equatable {
    /// `worker_lost`: the infrastructure budget.
    case infra
    /// A retryable failure: the counted budget.
    case counted
    /// Preempted, refused or superseded: back to pending, no budget.
    case free
    /// A non-retryable failure: failed at once.
    case fatal
    /// The attempt was cancelled: the experiment is cancelled.
    case cancel

    init(outcome: AttemptOutcome, failureClass: FailureClass?, retryable: Bool) {
        switch (outcome, failureClass) {
        case (.lost, _), (.failed, .workerLost?): self = .infra
        case (.preempted, _), (.refused, _), (.superseded, _), (.failed, .preempted?), (.failed, .refused?): self = .free
        case (.cancelled, _): self = .cancel
        case (.failed, _), (.succeeded, _): self = retryable ? .counted : .fatal
        }
    }
}

extension Journal {
    /// Allocates the next attempt of a pending experiment for `worker` (ASSIGNED, §6.2).
    ///
    /// Attempt numbers are 1, 2, 3, … per experiment and never reused. Commit happens before
    /// return, so the caller sends ASSIGN afterwards.
    /// - Throws: ``JournalError`` when the experiment is unknown or not pending.
    @discardableResult
    public func assign(_ id: String, to worker: String, now: Double) throws -> Int {
        try assign([(id, worker)], now: now)[0]
    }

    /// Assigns several experiments in one transaction (group commit: one fsync for all, §7.1).
    /// All or none: any experiment that is unknown or not pending throws and nothing is recorded.
    public func assign(_ items: [(id: String, worker: String)], now: Double) throws -> [Int] {
        try queue.write { db in try items.map { try assign(db, $0.id, to: $0.worker, now: now) } }
    }

    private func assign(_ db: Database, _ id: String, to worker: String, now: Double) throws -> Int {
        let e = try requireProgress(db, id)
        guard e.state == .pending else {
            throw JournalError(.invalidTransition, file: path,
                               "cannot assign experiment \(id): it is \(e.state.rawValue), expected pending")
        }
        let last = try Int.fetchOne(db, cached: "SELECT MAX(attempt) FROM attempts WHERE experiment = ?",
                                    arguments: [id]) ?? 0
        let n = max(last, e.attempt) + 1
        try db.execute(cached: "INSERT INTO attempts (experiment, attempt, worker, assigned_at) VALUES (?, ?, ?, ?)",
                       arguments: [id, n, worker, now])
        try db.execute(cached: "UPDATE experiments SET state = 'assigned', attempt = ?, worker = ? WHERE id = ?",
                       arguments: [n, worker, id])
        return n
    }

    /// Records that the worker started the current attempt (STARTED): `assigned` → `running`.
    ///
    /// - Returns: false, changing nothing, when the experiment is unknown, not `assigned`, or
    ///   `attempt` is not its current attempt (fencing).
    @discardableResult
    public func markRunning(_ id: String, attempt: Int) throws -> Bool {
        try markRunning([(id, attempt)]) == 1
    }

    /// `markRunning` for several attempts in one transaction; returns how many changed.
    @discardableResult
    public func markRunning(_ refs: [(id: String, attempt: Int)]) throws -> Int {
        try queue.write { db in
            var changed = 0
            for (id, attempt) in refs {
                guard let e = try Self.progress(db, id), e.state == .assigned, e.attempt == attempt else { continue }
                try db.execute(cached: "UPDATE experiments SET state = 'running' WHERE id = ?", arguments: [id])
                changed += 1
            }
            return changed
        }
    }

    /// Adopts an attempt a worker reports running after a coordinator restart (ADOPTED, §15.3).
    ///
    /// Succeeds when `attempt` is current: the experiment is `assigned` or `running` with that
    /// attempt, or `pending` because that very attempt was just marked `lost` and nothing newer
    /// was assigned (then the loss is undone, including its infrastructure charge). The state
    /// becomes `running` and `worker` the holder. Only the worker the attempt was given to can
    /// adopt it (fencing: another worker claiming it in its HELLO is refused).
    /// - Returns: false, changing nothing, otherwise; the caller then cancels the attempt.
    @discardableResult
    public func adopt(_ id: String, attempt: Int, worker: String, now: Double) throws -> Bool {
        try queue.write { db in
            guard let e = try Self.progress(db, id), e.attempt == attempt, attempt > 0,
                  try Self.attemptWorker(db, id, attempt) == worker else { return false }
            switch e.state {
            case .assigned, .running:
                break
            case .pending:
                let outcome = try String.fetchOne(db, cached: "SELECT outcome FROM attempts WHERE experiment = ? AND attempt = ?",
                                                  arguments: [id, attempt])
                guard outcome == AttemptOutcome.lost.rawValue else { return false }
                try db.execute(cached: """
                    UPDATE attempts SET outcome = NULL, failure_class = NULL, message = NULL, ended_at = NULL
                    WHERE experiment = ? AND attempt = ?
                    """, arguments: [id, attempt])
                try db.execute(cached: "UPDATE experiments SET infra_failures = MAX(0, infra_failures - 1) WHERE id = ?",
                               arguments: [id])
            case .succeeded, .failed, .cancelled:
                return false
            }
            try db.execute(cached: "UPDATE attempts SET worker = ? WHERE experiment = ? AND attempt = ?",
                           arguments: [worker, id, attempt])
            try db.execute(cached: "UPDATE experiments SET state = 'running', worker = ? WHERE id = ?",
                           arguments: [worker, id])
            return true
        }
    }

    /// Ends an attempt without a result (ATTEMPT_ENDED, FAILED): lost, failed, preempted, refused,
    /// superseded or cancelled.
    ///
    /// The outcome is recorded on the attempt unless it already has one (the first outcome stays).
    /// Only the current attempt of an `assigned` or `running` experiment changes its state; any
    /// other end is provenance only. For the current attempt (§6.4): `lost` or `worker_lost`
    /// charges the infrastructure budget; `preempted`, `refused` and `superseded` charge nothing;
    /// a retryable failure charges the counted budget; a non-retryable failure fails the
    /// experiment; `cancelled` cancels it. With budget left the experiment goes back to `pending`,
    /// otherwise to `failed`.
    /// - Returns: the experiment's state afterwards.
    /// - Throws: ``JournalError`` for an unknown experiment or a `succeeded` outcome (use
    ///   ``recordResult(_:attempt:digest:body:now:)``).
    @discardableResult
    public func endAttempt(_ id: String, attempt: Int, outcome: AttemptOutcome, failureClass: FailureClass?,
                           message: String?, retryable: Bool, now: Double) throws -> ExperimentState {
        guard outcome != .succeeded else {
            throw JournalError(.invalidTransition, file: path, "endAttempt(\(id), \(attempt)): a success goes through recordResult")
        }
        return try queue.write { db in
            let e = try requireProgress(db, id)
            try db.execute(cached: """
                UPDATE attempts SET outcome = ?, failure_class = ?, message = ?, ended_at = ?
                WHERE experiment = ? AND attempt = ? AND outcome IS NULL
                """, arguments: [outcome.rawValue, failureClass?.rawValue, message, now, id, attempt])
            guard e.attempt == attempt, e.state == .assigned || e.state == .running else { return e.state }
            var counted = e.countedFailures, infra = e.infraFailures
            let next: ExperimentState
            switch RetryCharge(outcome: outcome, failureClass: failureClass, retryable: retryable) {
            case .infra:
                infra += 1
                next = infra >= Self.infraBudget ? .failed : .pending
            case .counted:
                counted += 1
                next = counted >= Self.countedBudget ? .failed : .pending
            case .free: next = .pending
            case .fatal: next = .failed
            case .cancel: next = .cancelled
            }
            try db.execute(cached: """
                UPDATE experiments SET state = ?, worker = NULL, counted_failures = ?, infra_failures = ? WHERE id = ?
                """, arguments: [next.rawValue, counted, infra, id])
            return next
        }
    }

    /// Operator cancel of a `pending`, `assigned` or `running` experiment (CANCELLED).
    ///
    /// - Returns: the live attempt and its holder, to send CANCEL to after this returns; nil when
    ///   nothing was live or the experiment was already terminal (then nothing changes).
    /// - Throws: ``JournalError`` for an unknown experiment.
    @discardableResult
    public func cancel(_ id: String, now: Double) throws -> (attempt: Int, worker: String)? {
        try queue.write { db in
            let e = try requireProgress(db, id)
            guard !e.state.isTerminal else { return nil }
            var holder: (attempt: Int, worker: String)?
            if e.state == .assigned || e.state == .running, let worker = e.worker {
                try db.execute(cached: """
                    UPDATE attempts SET outcome = 'cancelled', ended_at = ? WHERE experiment = ? AND attempt = ? AND outcome IS NULL
                    """, arguments: [now, id, e.attempt])
                holder = (e.attempt, worker)
            }
            try db.execute(cached: "UPDATE experiments SET state = 'cancelled', worker = NULL WHERE id = ?", arguments: [id])
            return holder
        }
    }

    /// Operator retry of a `failed` or `cancelled` experiment (RETRY_REQUESTED): back to `pending`
    /// with fresh budgets; attempt numbers continue.
    ///
    /// - Returns: false, changing nothing, when the experiment is in any other state.
    /// - Throws: ``JournalError`` for an unknown experiment.
    @discardableResult
    public func retry(_ id: String) throws -> Bool {
        try queue.write { db in
            let e = try requireProgress(db, id)
            guard e.state == .failed || e.state == .cancelled else { return false }
            try db.execute(cached: """
                UPDATE experiments SET state = 'pending', worker = NULL, counted_failures = 0, infra_failures = 0 WHERE id = ?
                """, arguments: [id])
            return true
        }
    }
}
