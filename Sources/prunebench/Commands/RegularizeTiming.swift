import Experiments
import ArgumentParser
import Foundation
import Models
import NN
import Pruning
import Tensor

/// `prunebench bench regularize`: milliseconds per `regularize()` call of each sparsity
/// regularizer on a seeded CIFAR-variant ResNet with random gradients (the Reg-time column).
struct RegularizeTiming: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regularize",
        abstract: "Time each sparsity regularizer's regularize() on a seeded CIFAR ResNet; one JSON line per regularizer."
    )

    @Option(help: "Model: resnet18 or resnet50.") var model = "resnet18"
    @Option(help: "Width multiplier.") var width = 1.0
    @Option(help: "Number of classes (the classifier is ignored, as in the benchmark).") var classes = 100
    @Option(parsing: .upToNextOption, help: "Row keys: \(Regularizer.allCases.map(\.rawValue).joined(separator: " ")).")
    var rows: [Regularizer] = Regularizer.allCases
    @Option(help: "Timed calls (after one warm-up call).") var calls = 20
    @Option(help: "Threads (default: one per core).") var threads: Int?

    func validate() throws {
        guard ["resnet18", "resnet50"].contains(model) else { throw ValidationError("--model must be resnet18 or resnet50") }
        guard width > 0, classes > 1, calls > 0 else { throw ValidationError("--width, --classes and --calls must be positive") }
    }

    func run() throws {
        if let threads { Parallel.setThreadCount(threads) }
        let net = ResNetBuilder(depth: model == "resnet18" ? .resnet18 : .resnet50, variant: .cifar, width: width,
                                classes: classes).build()
        ModelInit.initialize(net, seed: 0)
        for (_, p) in net.namedParameters { p.grad = Tensor(zeros: p.value.shape) }
        for row in rows {
            let reg = try SparsityRegularizers.make(row, model: net, ignoredLayers: ["linear"], lambda: 5e-4)
            reg.regularize()
            reg.epochEnded()
            reg.timing = RegularizerTiming()
            for _ in 0..<calls { reg.regularize() }
            print("{\"model\":\"\(model)_cifar\",\"width\":\(width),\"row\":\"\(row.rawValue)\",\"regularizer\":\"\(reg.name)\","
                  + "\"threads\":\(Parallel.threadCount),\"calls\":\(calls),\"ms_per_call\":\(reg.timing.meanSeconds * 1000)}")
        }
    }
}
