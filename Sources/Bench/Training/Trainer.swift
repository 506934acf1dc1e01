import Experiments
import Data
import Foundation
import Models
import NN
import Pruning
import Tensor

/// Progress of a training run, for a progress bar or log lines.
public enum TrainingEvent: Sendable {
    /// A training batch finished: `batch` of `batches` in `epoch` (1-based), running loss and rate.
    case batch(epoch: Int, batch: Int, batches: Int, loss: Double, imagesPerSecond: Double)
    /// An epoch finished and was evaluated.
    case epoch(EpochMetrics)
}

/// The numbers of one epoch.
public struct EpochMetrics: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learningRate: Float
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// What a run produced.
public struct TrainingResult: Codable, Sendable {
    public var config: TrainingConfig
    public var epochs: [EpochMetrics]
    public var finalTestAccuracy: Double
    public var parameters: Int
    public var threads: Int
    public var trainFingerprint: String
    public var testFingerprint: String
    public var wallSeconds: Double
    /// Sparse training only: the regularizer's key, calls and total seconds spent adding its
    /// gradients (the rest of the run excluded).
    public var regularizer: String? = nil
    public var regularizeCalls: Int? = nil
    public var regularizeSeconds: Double? = nil
}

/// Trains a classifier from scratch on an image data set: seeded init, seeded shuffling and
/// augmentation, SGD or AdamW with a per-step schedule, evaluation after every epoch.
public final class Trainer {
    public let config: TrainingConfig
    public let model: Model
    /// The catalog spec the model was built from (nil when a built model was given).
    public let spec: ModelSpec?
    public let train: Dataset
    public let test: Dataset
    /// Sparse training: a regularizer built on ``model``, applied after every backward pass
    /// (``SparsityRegularizer/regularize()``) and told about every finished epoch. The config's
    /// weight decay should be 0 then.
    public var regularizer: (any SparsityRegularizer)?
    /// Augmentation and normalisation of the training batches (``TrainingConfig/augment`` does not
    /// apply when the transforms are given).
    public let trainTransform: TransformConfig
    /// Normalisation of the evaluation batches.
    public let evalTransform: TransformConfig

    /// Loads the data and builds the model; throws a clear error for a bad config or data set.
    public init(config: TrainingConfig) throws {
        self.config = config
        (train, test) = try DatasetCatalog.load(config.dataset, directory: config.dataDirectory,
                                                 trainLimit: config.trainLimit, testLimit: config.testLimit)
        let spec = try ModelCatalog.spec(name: config.model, variant: config.variant, width: config.width,
                                         inputShape: [train.channels, train.height, train.width], classes: train.classCount)
        self.spec = spec
        model = try spec.build()
        ModelInit.initialize(model, seed: config.seed)
        trainTransform = DatasetCatalog.transform(config.dataset, augment: config.augment)
        evalTransform = DatasetCatalog.transform(config.dataset, augment: false)
    }

    /// Trains a given (already initialised or loaded) model on given data with given transforms;
    /// `config`'s model, dataset, limit and augment fields are not used.
    public init(config: TrainingConfig, model: Model, train: Dataset, test: Dataset, trainTransform: TransformConfig,
                evalTransform: TransformConfig) {
        self.config = config; self.model = model; self.spec = nil; self.train = train; self.test = test
        self.trainTransform = trainTransform; self.evalTransform = evalTransform
    }

    /// Runs every epoch, reporting progress through `report`.
    public func run(report: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        let start = Date()
        let loader = try BatchLoader(dataset: train, batchSize: config.batchSize, shuffle: true, seed: config.seed,
                                     transform: trainTransform,
                                     dropLast: true)
        let stepsPerEpoch = loader.batchesPerEpoch
        guard stepsPerEpoch > 0 else {
            throw TrainingError("batch size \(config.batchSize) is larger than the \(train.count) training images")
        }
        let schedule = makeSchedule(stepsPerEpoch: stepsPerEpoch)
        var optimizer: any Optimizer = config.optimizer == .sgd
            ? SGD(learningRate: config.learningRate, momentum: config.momentum, weightDecay: config.weightDecay,
                  nesterov: config.nesterov && config.momentum > 0)
            : AdamW(learningRate: config.learningRate, weightDecay: config.weightDecay, decayMatricesOnly: true)
        var step = TrainStep(labelSmoothing: config.labelSmoothing, gradientClip: config.gradientClip)
        if let regularizer {
            regularizer.updateGroups()
            step.regularize = { _ in regularizer.regularize() }
        }
        var context = ForwardContext(training: true, seed: config.seed)
        var history: [EpochMetrics] = []
        var globalStep = 0
        for epoch in 1...max(config.epochs, 1) where config.epochs > 0 {
            let epochStart = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            let batches = loader.epoch(epoch - 1)
            for (b, batch) in batches.enumerated() {
                optimizer.learningRate = schedule.learningRate(step: globalStep)
                let r = step.run(model: model, optimizer: &optimizer, images: batch.images, labels: batch.labels, context: &context)
                guard r.loss.isFinite else { throw TrainingError("loss became \(r.loss) at epoch \(epoch), batch \(b + 1)") }
                lossSum += r.loss * Double(batch.count); correct += r.correct; seen += batch.count
                globalStep += 1
                let elapsed = Date().timeIntervalSince(epochStart)
                report(.batch(epoch: epoch, batch: b + 1, batches: stepsPerEpoch, loss: lossSum / Double(seen),
                              imagesPerSecond: Double(seen) / max(elapsed, 1e-9)))
            }
            try batches.checkCompleted()
            regularizer?.epochEnded()
            let trainSeconds = Date().timeIntervalSince(epochStart)
            let (testLoss, testAccuracy) = try evaluate()
            let metrics = EpochMetrics(epoch: epoch, learningRate: optimizer.learningRate, trainLoss: lossSum / Double(seen),
                                       trainAccuracy: Double(correct) / Double(seen), testLoss: testLoss,
                                       testAccuracy: testAccuracy, seconds: Date().timeIntervalSince(epochStart),
                                       imagesPerSecond: Double(seen) / trainSeconds)
            history.append(metrics)
            report(.epoch(metrics))
        }
        return TrainingResult(config: config, epochs: history, finalTestAccuracy: history.last?.testAccuracy ?? 0,
                              parameters: model.parameterCount, threads: Parallel.threadCount,
                              trainFingerprint: train.fingerprint, testFingerprint: test.fingerprint,
                              wallSeconds: Date().timeIntervalSince(start), regularizer: regularizer?.name,
                              regularizeCalls: regularizer?.timing.calls, regularizeSeconds: regularizer?.timing.totalSeconds)
    }

    /// Mean loss and top-1 accuracy on the test set, in eval mode.
    public func evaluate() throws -> (loss: Double, accuracy: Double) {
        try Evaluation.run(model: model, dataset: test, transform: evalTransform,
                           batchSize: config.evaluationBatchSize)
    }

    private func makeSchedule(stepsPerEpoch: Int) -> any LearningRateSchedule {
        let total = config.epochs * stepsPerEpoch
        switch config.schedule {
        case .cosine:
            return CosineWarmupSchedule(base: config.learningRate, totalSteps: total,
                                        warmupSteps: config.warmupEpochs * stepsPerEpoch)
        case .multistep:
            return MultiStepSchedule(base: config.learningRate, milestones: config.milestones.map { $0 * stepsPerEpoch },
                                     gamma: config.gamma)
        case .constant:
            return ConstantSchedule(config.learningRate)
        }
    }
}

/// Eval-mode accuracy of a classifier on a data set.
public enum Evaluation {
    public static func run(model: Model, dataset: Dataset, transform: TransformConfig, batchSize: Int) throws
        -> (loss: Double, accuracy: Double) {
        let loader = try BatchLoader(dataset: dataset, batchSize: batchSize, shuffle: false, transform: transform)
        var context = ForwardContext(training: false)
        var lossSum = 0.0, correct = 0
        let batches = loader.epoch(0)
        for batch in batches {
            let logits = model.forward(batch.images, context: &context)
            lossSum += CrossEntropy.lossAndGradient(logits: logits, targets: batch.labels).loss * Double(batch.count)
            correct += Accuracy.correct(logits: logits, targets: batch.labels)
        }
        try batches.checkCompleted()
        return (lossSum / Double(dataset.count), Double(correct) / Double(dataset.count))
    }
}

/// A training run that cannot go on, and why.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
