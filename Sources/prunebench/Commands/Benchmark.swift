import Experiments
import ArgumentParser
import Bench
import Foundation
import Models
import NN
import Pruning
import Tensor

/// `prunebench bench`: speed measurements (release builds only make sense).
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Speed measurements: training throughput, GEMM, pruning and regularization timings (use a release build).",
        subcommands: [TrainThroughput.self, DataThroughput.self, GEMMThroughput.self, PruneTiming.self, RegularizeTiming.self, ClusterTiming.self]
    )
}

struct TrainThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Images/s of forward + backward + SGD step for a CIFAR-variant ResNet; prints one JSON line."
    )

    @Option(help: "Model: resnet18 or resnet50.") var model = "resnet18"
    @Option(help: "Width multiplier.") var width = 0.25
    @Option(help: "Input channels.") var channels = 1
    @Option(help: "Input resolution (square).") var resolution = 28
    @Option(help: "Number of classes.") var classes = 10
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Warm-up iterations (not timed).") var warmup = 5
    @Option(help: "Timed iterations.") var iterations = 30
    @Option(help: "Threads (default: OpenMP's default, the number of cores).") var threads: Int?

    func validate() throws {
        guard ["resnet18", "resnet50"].contains(model) else { throw ValidationError("--model must be resnet18 or resnet50") }
        guard width > 0, channels > 0, resolution >= 8, classes > 1, batch > 0, iterations > 0, warmup >= 0 else {
            throw ValidationError("sizes must be positive (resolution >= 8, classes >= 2)")
        }
    }

    func run() throws {
        if let threads { Parallel.setThreadCount(threads) }
        let net = ResNetBuilder(depth: model == "resnet18" ? .resnet18 : .resnet50, variant: .cifar, width: width,
                                inputChannels: channels, resolution: resolution, classes: classes).build()
        ModelInit.initialize(net, seed: 0)
        let r = ThroughputBenchmark.run(model: net, name: model + "_cifar", width: width, batch: batch, classes: classes,
                                        warmup: warmup, iterations: iterations)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        print(String(decoding: try enc.encode(r), as: UTF8.self))
    }
}

struct GEMMThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of square sgemm on each backend (oneDNN, OpenBLAS); one JSON line per size and backend."
    )

    @Option(parsing: .upToNextOption, help: "Matrix sizes n (n x n times n x n).") var sizes: [Int] = [256, 1024, 2048]
    @Option(help: "Repetitions per measurement (best is reported).") var reps = 5
    @Option(help: "Backend to measure: onednn or openblas (default both, in one process).") var backend: String?
    @Option(help: "Threads (default: one per core).") var threads: Int?

    func validate() throws {
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 && $0 <= 8192 }) else { throw ValidationError("--sizes must be in 1...8192") }
        guard reps > 0 else { throw ValidationError("--reps must be positive") }
        if let backend, GEMM.Backend(rawValue: backend) == nil { throw ValidationError("--backend must be onednn or openblas") }
    }

    func run() throws {
        if let threads { Parallel.setThreadCount(threads) }
        for n in sizes {
            var g = SeededGenerator(seed: UInt64(n))
            let a = Tensor.randomNormal([n, n], using: &g), b = Tensor.randomNormal([n, n], using: &g)
            var c = Tensor(zeros: [n, n])
            for backend in GEMM.Backend.allCases where self.backend == nil || self.backend == backend.rawValue {
                var best = Double.infinity
                for _ in 0..<(reps + 1) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n,
                               c: c.mutablePointer(), ldc: n, backend: backend)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                let gflops = 2 * Double(n * n * n) / best / 1e9
                print("{\"op\":\"sgemm\",\"backend\":\"\(backend.rawValue)\",\"n\":\(n),\"threads\":\(Parallel.threadCount),\"ms\":\(best * 1000),\"gflops\":\(gflops)}")
            }
        }
    }
}

struct PruneTiming: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Time pruning a seeded model by a case config (model + pruning objects, with 'calibration' for data-driven criteria); prints one JSON line."
    )

    @Option(help: "Case JSON (the golden case.json schema).") var config: String
    @Option(help: "Seed of the model's initial weights.") var seed: UInt64 = 0
    @Option(help: "Threads (default: one per core).") var threads: Int?

    func run() throws {
        if let threads { Parallel.setThreadCount(threads) }
        guard let data = FileManager.default.contents(atPath: config),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pruning = object["pruning"] as? [String: Any] else {
            throw CommandFailure("\(config): expected a JSON object with 'model' and 'pruning' objects")
        }
        do {
            let spec = try ModelSpec.parse(data, source: "\(config) model")
            let model = try spec.build()
            ModelInit.initialize(model, seed: seed)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let pruningConfig = try PruningConfig.parse(pruning, source: "\(config) pruning")
            let pruner = try Pruner(model: model, config: pruningConfig)
            if let c = pruningConfig.calibration { pruner.calibration = try Prune.calibrationSource(c, for: spec) }
            let t1 = DispatchTime.now().uptimeNanoseconds
            let outcome = try pruner.run()
            print("{\"framework\":\"prunebench\",\"threads\":\(Parallel.threadCount),\"construct_s\":\(Double(t1 - t0) / 1e9),"
                  + "\"prune_total_s\":\(outcome.totalSeconds),\"steps\":\(outcome.steps),"
                  + "\"mean_step_s\":\(outcome.stepSeconds.reduce(0, +) / Double(max(outcome.steps, 1))),"
                  + "\"macs_before\":\(outcome.macsBefore),\"macs_after\":\(outcome.macsAfter),\"params_after\":\(outcome.paramsAfter)}")
        } catch {
            throw CommandFailure(error)
        }
    }
}
