import Experiments
import Foundation

/// A worker that speaks the real protocol but runs nothing: each assigned experiment "takes"
/// `duration(experiment)` seconds and then reports a synthetic success. For the coordinator
/// benchmarks (dispatch capacity, failure detection, scheduling efficiency).
public final class SimulatedWorker: @unchecked Sendable {
    public let id: String
    let endpoint: String
    let slots: Int
    let curve: CurveSettings?
    let duration: @Sendable (String) -> Double
    let resultBody: @Sendable (String) -> [UInt8]
    private let lock = NSLock()
    private var stopped = false
    private var frozen = false
    private var thread: Thread?
    /// (experiment ID, simulated seconds) of every attempt this worker completed.
    public private(set) var completed: [(String, Double)] = []

    /// - Parameters:
    ///   - duration: simulated seconds of an experiment, by ID.
    ///   - resultBody: the RESULT body to report for an experiment ID (a valid `ExperimentResult`
    ///     JSON; see ``syntheticResult(_:)``). Computed before the benchmark's clock starts, so the
    ///     workers cost the coordinator's cores as little as possible.
    public init(id: String, endpoint: String, slots: Int, curve: CurveSettings? = nil,
                duration: @escaping @Sendable (String) -> Double, resultBody: @escaping @Sendable (String) -> [UInt8]) {
        self.id = id; self.endpoint = endpoint; self.slots = slots; self.curve = curve
        self.duration = duration; self.resultBody = resultBody
    }

    public func start() {
        let t = Thread { [self] in
            do { try loop() } catch { FileHandle.standardError.write(Data("simulated worker \(id): \(error)\n".utf8)) }
        }
        thread = t
        t.start()
    }

    public func stop() { lock.withLock { stopped = true } }
    /// Stops all traffic, like SIGSTOP: the coordinator should suspect it.
    public func freeze() { lock.withLock { frozen = true } }
    var isStopped: Bool { lock.withLock { stopped } }
    var isFrozen: Bool { lock.withLock { frozen } }
    public var completedCount: Int { lock.withLock { completed.count } }

    private func loop() throws {
        let context = try ZMQContext()
        defer { context.close() }
        let socket = try SocketFactory.workerDealer(context, workerID: id, curve: curve)
        defer { socket.close() }
        try socket.connect(endpoint)
        var registered = false
        var running: [AttemptRef: (ends: Date, seconds: Double)] = [:]
        var lastSent = Date.distantPast
        var sequence: UInt64 = 0
        var heartbeat = 1.0  // as a real worker: a HEARTBEAT after one interval of silence
        func send(_ m: Message) { if (try? socket.send(m.frames())) == true { lastSent = Date() } }
        let hello = Message.hello(.init(workerID: id, incarnation: UInt64.random(in: 1...UInt64.max), build: "simulated", cores: slots,
                                        slots: slots, draining: false, running: [], unacknowledged: [], cached: []))
        while !isStopped {
            if isFrozen { usleep(10_000); continue }
            if !registered, Date().timeIntervalSince(lastSent) > 0.2 { send(hello) }
            let timeout = running.values.map { max(0, $0.ends.timeIntervalSinceNow) }.min().map { min(Int($0 * 1000) + 1, 20) } ?? 20
            if try ZMQSocket.pollReadable([socket], timeoutMilliseconds: timeout)[0] {
                while let raw = try socket.receive(), let m = try? Message.decode(raw.frames) {
                    switch m {
                    case .welcome(let w): registered = true; heartbeat = Double(w.heartbeatMilliseconds) / 1000
                    case .assign(let a):
                        let d = duration(a.ref.experiment)
                        running[a.ref] = (Date().addingTimeInterval(d), d)
                    case .disconnect(let reason) where reason != "sweep complete": registered = false; send(hello)
                    default: break
                    }
                }
            }
            let now = Date()
            for (ref, job) in running where job.ends <= now {
                running[ref] = nil
                let body = resultBody(ref.experiment)
                send(.result(.init(ref: ref, outcome: .succeeded, failureClass: nil, retryable: false, message: "", exitStatus: 0,
                                   body: body, digest: ContentDigest.hex(body))))
                lock.withLock { completed.append((ref.experiment, job.seconds)) }
            }
            if registered, now.timeIntervalSince(lastSent) >= heartbeat {
                sequence += 1
                send(.heartbeat(.init(sequence: sequence, incarnation: 0, freeSlots: slots - running.count, running: Array(running.keys), draining: false)))
            }
        }
    }

    /// A minimal, valid `ExperimentResult` JSON for `e`.
    public static func syntheticResult(_ e: Experiment) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let spec = (try? JSONSerialization.jsonObject(with: encoder.encode(e.spec))) ?? [:]
        let object: [String: Any] = [
            "id": e.id, "name": e.name, "spec": spec, "timings": ["wall_seconds": 0],
            "metrics": ["kind": e.spec.kind.rawValue, "software_version": "simulated", "seed": e.spec.seed, "threads": 1,
                        "train_fingerprint": "", "test_fingerprint": "", "train_images": 0, "test_images": 0, "accuracy": 0,
                        "last_epoch_accuracy": 0, "epoch_accuracies": [Double](), "parameters": 0, "macs": 0,
                        "checkpoint_sha256": String(repeating: "0", count: 64)],
        ]
        return [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// The synthetic results of `experiments`, by ID, as a lookup the workers can share.
    public static func syntheticResults(_ experiments: [Experiment]) -> @Sendable (String) -> [UInt8] {
        let bodies = Dictionary(uniqueKeysWithValues: experiments.map { ($0.id, syntheticResult($0)) })
        return { bodies[$0] ?? [] }
    }
}
