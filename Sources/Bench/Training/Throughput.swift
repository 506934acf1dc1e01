import Foundation
import NN
import Tensor

/// Measures training throughput (forward + backward + SGD step) on synthetic data.
public enum ThroughputBenchmark {
    public struct Result: Codable, Sendable {
        public var framework = "prunebench"
        public var threads: Int
        public var model: String
        public var width: Double
        public var input: [Int]
        public var batch: Int
        public var iterations: Int
        public var imagesPerSecond: Double
        public var millisecondsPerIteration: Double
        /// Achieved GFLOP/s counting 3 x forward MACs x 2 per image (conv + linear MACs).
        public var gflops: Double
        public var forwardMACsPerImage: Int
        public var peakRSSMegabytes: Double
    }

    /// Times `iterations` steps after `warmup` steps on random images and labels.
    public static func run(model: Model, name: String, width: Double, batch: Int, classes: Int,
                           warmup: Int, iterations: Int, seed: UInt64 = 0) -> Result {
        var g = SeededGenerator(seed: seed)
        let c = model.inputShape[0], h = model.inputShape[1], w = model.inputShape[2]
        let images = Tensor.randomNormal([batch, h, w, c], using: &g)
        let labels = (0..<batch).map { _ in Int32(g.nextInt(below: classes)) }
        var optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
        var ctx = ForwardContext(training: true, seed: seed)
        let step = TrainStep()
        for _ in 0..<warmup { _ = step.run(model: model, optimizer: &optimizer, images: images, labels: labels, context: &ctx) }
        if ProcessInfo.processInfo.environment["PRUNEBENCH_PROFILE"] != nil { model.profile = LayerProfile() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { _ = step.run(model: model, optimizer: &optimizer, images: images, labels: labels, context: &ctx) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let profile = model.profile {
            FileHandle.standardError.write(Data((profile.summary + "\ntotal \(Int(seconds * 1000)) ms\n").utf8))
        }
        let macs = convLinearMACs(model)
        let ips = Double(batch * iterations) / seconds
        return Result(threads: Parallel.threadCount, model: name, width: width, input: model.inputShape, batch: batch,
                      iterations: iterations, imagesPerSecond: ips, millisecondsPerIteration: seconds * 1000 / Double(iterations),
                      gflops: ips * Double(macs) * 6 / 1e9, forwardMACsPerImage: macs, peakRSSMegabytes: peakRSSMegabytes())
    }

    /// Forward MACs of convolutions and linear layers for one image (bias excluded): the work
    /// the GFLOP/s figure is based on, the same count as the PyTorch reference script's
    /// (each layer's ``Layer/weightMACs(inputShapes:outputShape:)``).
    public static func convLinearMACs(_ model: Model) -> Int {
        guard let shapes = try? model.shapes(batch: 1) else { return 0 }
        var total = 0
        for (i, node) in model.nodes.enumerated() {
            total += node.layer.weightMACs(inputShapes: node.inputs.map { shapes[$0] }, outputShape: shapes[i])
        }
        return total
    }

    /// The process's peak resident set, from /proc/self/status (VmHWM).
    public static func peakRSSMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
