import Experiments
import ArgumentParser
import Bench
import Foundation
import Models
import NN
import Pruning
import Tensor

/// `prunebench train`: trains a classifier from scratch and writes a checkpoint and metrics.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from scratch; writes a safetensors checkpoint and a JSON metrics file.",
        discussion: """
        Example: prunebench train --model resnet18 --width 0.25 --dataset fashion-mnist --epochs 15 --out runs/r18
        The same options and seed give the same weights, bit for bit, with the same thread count.
        """
    )

    @Option(help: "Model: \(ModelCatalog.names.joined(separator: ", ")).") var model = "resnet18"
    @Option(help: "Definition to follow: cifar (Torch-Pruning's CIFAR zoo) or imagenet (torchvision).") var variant = "cifar"
    @Option(help: "Width multiplier for every layer.") var width = 0.25
    @Option(help: "Data set: \(DatasetCatalog.loadable.map(\.rawValue).joined(separator: ", ")).") var dataset = DatasetName.fashionMNIST
    @Option(help: "Directory holding the data set files (default: where Debian installs them).") var dataDir: String?
    @Option(help: "Epochs.") var epochs = 15
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Optimizer: sgd or adamw.") var optimizer = "sgd"
    @Option(help: "Peak learning rate.") var lr: Float = 0.1
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD).") var nesterov = true
    @Option(help: "Weight decay.") var weightDecay: Float = 5e-4
    @Option(help: "Schedule: cosine, multistep or constant.") var schedule = "cosine"
    @Option(help: "Warm-up epochs (cosine).") var warmupEpochs = 0
    @Option(parsing: .upToNextOption, help: "Epochs at which multistep multiplies the rate by --gamma.") var milestones: [Int] = []
    @Option(help: "Multistep factor.") var gamma: Float = 0.1
    @Option(help: "Label smoothing.") var labelSmoothing: Float = 0
    @Option(help: "Clip the gradients' global L2 norm to this.") var clipGradient: Float?
    @Flag(inversion: .prefixedNo, help: "Random crop and horizontal flip.") var augment = true
    @Option(help: "Seed of initialisation, shuffling and augmentation.") var seed: UInt64 = 0
    @Option(help: "Threads (default: one per core).") var threads: Int?
    @Option(help: "Use only the first N training images.") var trainLimit: Int?
    @Option(help: "Use only the first N test images.") var testLimit: Int?
    @Option(help: "Output directory for model.safetensors and metrics.json.") var out = "runs/train"
    @Option(help: "Sparse training with the regularizer of a leaderboard row: \(Regularizer.allCases.map(\.rawValue).joined(separator: ", ")) (use --weight-decay 0).")
    var regularizer: Regularizer?
    @Option(help: "Regularization strength λ (default: the regularizer's own).") var regLambda: Float?
    @Option(help: "GrowingReg's per-epoch increment δ.") var regDelta: Float = 1e-4

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1)") }
        guard TrainingConfig.OptimizerKind(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be sgd or adamw") }
        guard TrainingConfig.ScheduleKind(rawValue: schedule) != nil else {
            throw ValidationError("--schedule must be cosine, multistep or constant")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let logger = LogSetup.logger("prunebench.train")
        if let threads { Parallel.setThreadCount(threads) }
        var c = TrainingConfig()
        c.model = model; c.variant = variant; c.width = width; c.dataset = dataset; c.dataDirectory = dataDir
        c.epochs = epochs; c.batchSize = batchSize; c.optimizer = .init(rawValue: optimizer)!
        c.learningRate = lr; c.momentum = momentum; c.nesterov = nesterov; c.weightDecay = weightDecay
        c.schedule = .init(rawValue: schedule)!; c.warmupEpochs = warmupEpochs; c.milestones = milestones; c.gamma = gamma
        c.labelSmoothing = labelSmoothing; c.gradientClip = clipGradient; c.augment = augment; c.seed = seed
        c.trainLimit = trainLimit; c.testLimit = testLimit

        let trainer: Trainer
        do { trainer = try Trainer(config: c) } catch { throw CommandFailure(error) }
        if let regularizer {
            let ignored = SparsityRegularizers.classifierLayers(of: trainer.model, classes: trainer.train.classCount)
            do {
                trainer.regularizer = try SparsityRegularizers.make(regularizer, model: trainer.model, ignoredLayers: ignored,
                                                                    lambda: regLambda, delta: regDelta)
            } catch { throw CommandFailure(error) }
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        logger.info("training", metadata: ["model": "\(model) \(variant) w=\(width)", "dataset": "\(dataset)",
                                           "train": "\(trainer.train.count)", "test": "\(trainer.test.count)",
                                           "parameters": "\(trainer.model.parameterCount)", "threads": "\(Parallel.threadCount)"])
        let progress = ProgressDisplay(logger: logger)
        let started = Date()
        let result = try trainer.run { event in
            switch event {
            case let .batch(epoch, batch, batches, loss, rate):
                let doneSteps = Double((epoch - 1) * batches + batch)
                let elapsed = Date().timeIntervalSince(started)
                let remaining = elapsed / doneSteps * (Double(epochs * batches) - doneSteps)
                progress.update(label: "epoch \(epoch)/\(epochs)", done: batch, total: batches, rate: rate, unit: "img",
                                overallRemainingSeconds: remaining, fields: [("loss", String(format: "%.4f", loss))])
            case let .epoch(m):
                logger.info("epoch done", metadata: [
                    "epoch": "\(m.epoch)", "train_loss": "\(String(format: "%.4f", m.trainLoss))",
                    "train_acc": "\(String(format: "%.4f", m.trainAccuracy))",
                    "test_acc": "\(String(format: "%.4f", m.testAccuracy))",
                    "img_per_s": "\(Int(m.imagesPerSecond))", "seconds": "\(Int(m.seconds))"])
            }
        }
        guard let spec = trainer.spec else { throw CommandFailure("internal: the trainer built no catalog model") }
        try Checkpoint.save(trainer.model, spec: spec, to: out + "/model.safetensors",
                            extra: ["prunebench.dataset": dataset.rawValue, "prunebench.test_accuracy": "\(result.finalTestAccuracy)"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: out + "/metrics.json"))
        print(String(format: "test accuracy %.2f%% after %d epochs (%.0f s); wrote %@/model.safetensors and metrics.json",
                     result.finalTestAccuracy * 100, epochs, result.wallSeconds, out))
    }
}
