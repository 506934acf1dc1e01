import Experiments
import Foundation
import Logging

/// Coordinator benchmarks with simulated workers (cluster.md §16): dispatch capacity with no-op
/// experiments and the real journal, failure detection time, and scheduling efficiency.
public enum ClusterBenchmark {
    public struct Dispatch: Codable, Sendable {
        public var experiments: Int
        public var workers: Int
        public var slotsPerWorker: Int
        /// CURVE encryption with a ZAP allowlist of the simulated workers' keys.
        public var curve: Bool
        public var seconds: Double
        public var assignmentsPerSecond: Double
        /// Coordinator thread CPU time per experiment lifecycle (assign, start, result, ack), journal commits included.
        public var coordinatorCPUMillisecondsPerExperiment: Double
    }

    public struct Scheduling: Codable, Sendable {
        public var experiments: Int
        public var workers: Int
        public var makespanSeconds: Double
        public var sumJobSeconds: Double
        public var longestJobSeconds: Double
        /// Σ job time / (slots × makespan).
        public var efficiency: Double
        /// makespan / max(longest job, Σ job time / slots).
        public var makespanRatio: Double
    }

    /// Runs a coordinator on its own thread until the sweep is complete; returns its wall time and thread CPU time.
    static func serve(_ experiments: [Experiment], directory: String, port: Int, heartbeatMs: Int = 1000, liveness: Int = 3,
                      leaseMs: Int = 60_000, curve: (server: CurveKeyPair, allowed: [String: String])? = nil,
                      workers: [SimulatedWorker], exitWhenDone: Bool = true,
                      whileRunning: (String) throws -> Void = { _ in }) throws -> (wall: Double, cpu: Double) {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = CoordinatorConfig(bind: "tcp://127.0.0.1:\(port)", control: "ipc://\(directory)/control",
                                       journalPath: "\(directory)/journal.db", storePath: "\(directory)/store")
        config.heartbeatMilliseconds = heartbeatMs
        config.liveness = liveness
        config.leaseMilliseconds = leaseMs
        config.exitWhenDone = exitWhenDone
        if let curve {
            let allowlist = "\(directory)/allow.txt"
            try curve.allowed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
                .write(toFile: allowlist, atomically: true, encoding: .utf8)
            config.curve = CurveSettings(keys: curve.server)
            config.allowlistPath = allowlist
        }
        var logger = Logger(label: "bench.coordinator")
        logger.logLevel = .error
        let coordinator = try Coordinator(config: config, sweepID: "bench", sweepName: "bench", experiments: experiments, logger: logger)
        let box = Box(coordinator)
        let done = DispatchSemaphore(value: 0)
        let start = Date()
        let thread = Thread {
            try? "coordinator".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)  // named for profilers
            do { try box.value.run { box.stop } } catch { FileHandle.standardError.write(Data("coordinator: \(error)\n".utf8)) }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        for w in workers { w.start() }
        defer { for w in workers { w.stop() } }
        do { try whileRunning(config.control) } catch { box.stop = true; done.wait(); throw error }
        if !exitWhenDone { box.stop = true }
        done.wait()
        return (Date().timeIntervalSince(start), coordinator.cpuSeconds)
    }

    /// No-op experiments (distinct seeds of real specs, no base) through `workers` × `slots` simulated
    /// workers, optionally over CURVE with an allowlist.
    public static func dispatch(_ experiments: [Experiment], workers: Int, slots: Int, curve: Bool = false,
                                directory: String, port: Int) throws -> Dispatch {
        let results = SimulatedWorker.syntheticResults(experiments)
        let server = try CurveKeyPair.generate()
        let keys = try (0..<workers).map { _ in try CurveKeyPair.generate() }
        let sims = (0..<workers).map { i in
            SimulatedWorker(id: "sim\(i)", endpoint: "tcp://127.0.0.1:\(port)", slots: slots,
                            curve: curve ? CurveSettings(keys: keys[i], serverPublicKey: server.publicKey) : nil,
                            duration: { _ in 0 }, resultBody: results)
        }
        let allowed = Dictionary(uniqueKeysWithValues: (0..<workers).map { ("sim\($0)", keys[$0].publicKey) })
        let (wall, cpu) = try serve(experiments, directory: directory, port: port, curve: curve ? (server, allowed) : nil, workers: sims)
        return Dispatch(experiments: experiments.count, workers: workers, slotsPerWorker: slots, curve: curve, seconds: wall,
                        assignmentsPerSecond: Double(experiments.count) / wall,
                        coordinatorCPUMillisecondsPerExperiment: cpu / Double(experiments.count) * 1000)
    }

    /// Seconds from a worker going silent (frozen, like SIGSTOP) to the coordinator calling it suspect, per trial.
    public static func detection(trials: Int, heartbeatMs: Int, liveness: Int, directory: String, port: Int, experiment: Experiment) throws -> [Double] {
        var times = [Double]()
        let results = SimulatedWorker.syntheticResults([experiment])
        let sims = (0..<trials).map {
            SimulatedWorker(id: "det\($0)", endpoint: "tcp://127.0.0.1:\(port)", slots: 1, duration: { _ in 3600 }, resultBody: results)
        }
        _ = try serve([experiment], directory: directory, port: port, heartbeatMs: heartbeatMs, liveness: liveness,
                      leaseMs: 3_600_000, workers: [], exitWhenDone: false) { control in
            for sim in sims {
                sim.start()
                func state() throws -> String? {
                    try ControlClient.request(ControlRequest(op: .status), endpoint: control).status?.workers.first { $0.id == sim.id }?.state
                }
                let deadline = Date().addingTimeInterval(10)
                while try state() != "alive", Date() < deadline { usleep(5_000) }
                usleep(UInt32.random(in: 0...UInt32(heartbeatMs * 1000)))  // a random phase of the heartbeat cycle
                sim.freeze()
                let t0 = Date()
                while try state() != "suspect", Date().timeIntervalSince(t0) < 30 { usleep(2_000) }
                times.append(Date().timeIntervalSince(t0))
                sim.stop()
            }
        }
        return times
    }

    /// Experiments whose simulated durations follow `duration`, over `workers` single-slot workers.
    public static func scheduling(_ experiments: [Experiment], workers: Int, directory: String, port: Int,
                                  duration: @escaping @Sendable (String) -> Double) throws -> Scheduling {
        let results = SimulatedWorker.syntheticResults(experiments)
        let sims = (0..<workers).map {
            SimulatedWorker(id: "s\($0)", endpoint: "tcp://127.0.0.1:\(port)", slots: 1, duration: duration, resultBody: results)
        }
        // Every worker is registered before the clock starts, so the makespan measures the scheduler.
        let (wall, _) = try serve(experiments, directory: directory, port: port, workers: sims)
        let jobs = sims.flatMap(\.completed).map(\.1)
        let sum = jobs.reduce(0, +), longest = jobs.max() ?? 0
        return Scheduling(experiments: jobs.count, workers: workers, makespanSeconds: wall, sumJobSeconds: sum, longestJobSeconds: longest,
                          efficiency: sum / (Double(workers) * wall), makespanRatio: wall / max(longest, sum / Double(workers)))
    }
}

/// Carries the coordinator to its thread (it is confined to that thread while it runs).
private final class Box: @unchecked Sendable {
    let value: Coordinator
    private let lock = NSLock()
    private var _stop = false
    init(_ value: Coordinator) { self.value = value }
    var stop: Bool {
        get { lock.withLock { _stop } }
        set { lock.withLock { _stop = newValue } }
    }
}
