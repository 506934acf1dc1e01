import Experiments
import ArgumentParser
import Bench
import Cluster
import Foundation

/// `prunebench bench cluster`: the coordinator's figures with simulated workers (cluster.md §16).
struct ClusterTiming: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Coordinator benchmarks with simulated workers: dispatch capacity, dead-worker detection, scheduling efficiency (JSON lines)."
    )

    @Option(help: "No-op experiments for the dispatch benchmark.") var experiments = 2000
    @Option(help: "Simulated workers for the dispatch benchmark.") var workers = 4
    @Option(help: "Slots per simulated worker (dispatch).") var slots = 8
    @Option(help: "Detection trials per heartbeat setting.") var trials = 20
    @Option(help: "Simulated workers for the scheduling benchmark.") var schedulingWorkers = 16
    @Option(help: "Target makespan of the scheduling benchmark in seconds (durations are scaled to it).") var makespan = 20.0
    @Option(help: "Scratch directory.") var dir = "runs/bench-cluster"
    @Option(help: "First TCP port (three consecutive ports are used).") var port = 5750

    func run() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        func emit(_ name: String, _ value: some Encodable) throws {
            print("{\"benchmark\":\"\(name)\",\"result\":\(String(decoding: try encoder.encode(value), as: UTF8.self))}")
        }
        do {
            let grid = try Grid(sweep: Sweep.embeddedFashion(), profile: "smoke")
            let template = grid.pruning[0]
            // No-op experiments: distinct seeds of one real spec, without a base.
            let noop = (0..<experiments).map { i -> Experiment in
                var spec = template.spec
                spec.base = nil
                spec.seed = i
                return Experiment(spec: spec, cost: 1)
            }
            // Pipelined (`slots` per worker: assignments made in one pass share a commit) and lock-step
            // (one slot: every ASSIGN waits for its own commit), each in the clear and over CURVE.
            for perWorker in Set([slots, 1]).sorted(by: >) {
                for curve in [false, true] {
                    try emit("dispatch", try ClusterBenchmark.dispatch(noop, workers: workers, slots: perWorker, curve: curve,
                                                                       directory: "\(dir)/dispatch", port: port))
                }
            }
            // The spec's two settings: the default 1 s x 3, and the fast 250 ms x 4.
            for (heartbeat, liveness) in [(1000, 3), (250, 4)] {
                let times = try ClusterBenchmark.detection(trials: trials, heartbeatMs: heartbeat, liveness: liveness,
                                                           directory: "\(dir)/detection", port: port + 1, experiment: noop[0])
                let sorted = times.sorted()
                try emit("detection", ["heartbeat_ms": Double(heartbeat), "liveness": Double(liveness), "trials": Double(times.count),
                                       "min_s": sorted.first ?? 0, "median_s": sorted[sorted.count / 2], "max_s": sorted.last ?? 0])
            }
            // Scheduling: the default-profile fashion grid's pruning experiments, durations from the cost
            // model with -30%..+30% noise (from the ID), scaled so the ideal makespan is `makespan`.
            var defaultGrid = try Grid(sweep: Sweep.embeddedFashion(), profile: "default")
            try defaultGrid.estimateCosts()
            let real = defaultGrid.pruning.filter { $0.needs.isEmpty }.map { e -> Experiment in
                var spec = e.spec
                spec.base = nil
                return Experiment(spec: spec, cost: e.cost)
            }
            var costs = [String: Double]()
            for e in real { costs[e.id] = e.cost! * Double((UInt8(e.id.prefix(2), radix: 16) ?? 0) % 61 + 70) / 100 }
            let scale = makespan * Double(schedulingWorkers) / costs.values.reduce(0, +)
            let durations = costs.mapValues { $0 * scale }
            try emit("scheduling", try ClusterBenchmark.scheduling(real, workers: schedulingWorkers, directory: "\(dir)/scheduling",
                                                                   port: port + 2) { durations[$0] ?? 0 })
        } catch { throw CommandFailure(error) }
    }
}
