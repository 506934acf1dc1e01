import Experiments
import Data
import Foundation
import Models
import NN
import Pruning
import Tensor

/// An experiment that cannot run, and why.
public struct ExperimentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs one experiment (pruningbench.md §2): a pretrain experiment trains a base model; a pruning
/// experiment loads its base, optionally sparse-trains it with the row's regularizer, prunes it
/// iteratively to the target speed-up under the scheme, finetunes and evaluates it.
///
/// Artifacts live by experiment ID: `<artifacts>/<id>/model.safetensors` and `result.json`.
public final class ExperimentRunner {
    public let artifacts: URL
    /// Directory holding the data set files (nil: where Debian installs them).
    public var dataDirectory: String?
    /// The weights file of a pretrain experiment that imports weights (``ExperimentSpec/weights``).
    public var weightsPath: String?
    /// Progress lines (stderr in the CLI).
    public var log: (String) -> Void

    public init(artifacts: String, dataDirectory: String? = nil, log: @escaping (String) -> Void = { _ in }) {
        self.artifacts = URL(fileURLWithPath: artifacts)
        self.dataDirectory = dataDirectory
        self.log = log
    }

    public func checkpointPath(_ id: String) -> String { artifacts.appendingPathComponent(id).appendingPathComponent("model.safetensors").path }
    public func resultPath(_ id: String) -> String { artifacts.appendingPathComponent(id).appendingPathComponent("result.json").path }

    /// Runs `spec`, writes its checkpoint and `result.json`, and returns the result.
    public func run(_ spec: ExperimentSpec) throws -> ExperimentResult {
        if spec.task == .detection {
            throw ExperimentError("experiment \(spec.id) (\(spec.readableName)) needs the detector, which prunebench does not have yet")
        }
        let start = Date()
        var result: ExperimentResult
        switch spec.kind {
        case .pretrain: result = try pretrain(spec)
        case .prune: result = try prune(spec)
        }
        result.timings.wallSeconds = Date().timeIntervalSince(start)
        // Atomic (temp file + rename): an interrupted run never leaves a partial result.json that a
        // resumed sweep would count as done.
        try result.json().write(to: URL(fileURLWithPath: resultPath(spec.id)), options: .atomic)
        log("done \(spec.readableName): accuracy \(String(format: "%.2f", result.metrics.accuracy))%, wall \(String(format: "%.1f", result.timings.wallSeconds)) s")
        return result
    }

    // MARK: Stages

    func pretrain(_ spec: ExperimentSpec) throws -> ExperimentResult {
        if let weights = spec.weights { return try importBase(spec, weights: weights) }
        guard let phase = spec.settings.pretrain else { throw ExperimentError("pretrain experiment \(spec.id): settings.pretrain is missing") }
        let data = try loadData(spec)
        let model = try spec.model.build()
        ModelInit.initialize(model, seed: UInt64(spec.seed))
        log("pretrain \(spec.readableName): \(data.train.count) train / \(data.test.count) test images, \(model.parameterCount) parameters")
        let t0 = Date()
        let run = try train(model, phase: phase, data: data, seed: spec.seed, label: "pretrain")
        let seconds = Date().timeIntervalSince(t0)
        let counts = try model.counts()
        let path = try prepareCheckpointPath(spec.id)
        try Checkpoint.save(model, spec: spec.model, to: path, extra: ["prunebench.experiment": spec.id])
        let metrics = ExperimentResult.Metrics(
            kind: .pretrain, seed: spec.seed, threads: Parallel.threadCount, trainFingerprint: data.train.fingerprint,
            testFingerprint: data.test.fingerprint, trainImages: data.train.count, testImages: data.test.count,
            accuracy: run.last, lastEpochAccuracy: run.last, epochAccuracies: run.epochs, parameters: counts.parameters,
            macs: counts.macs, checkpointSHA256: try ContentDigest.file(atPath: path))
        var timings = ExperimentResult.Timings(pretrainSeconds: seconds)
        let latency = Latency.profile(model)
        timings.latencyBatch1Seconds = latency.batch1; timings.latencyBatch64Seconds = latency.batch64
        return ExperimentResult(id: spec.id, name: spec.readableName, spec: spec, metrics: metrics, timings: timings)
    }

    /// A base from pretrained weights: the file (its digest checked against the spec) loaded
    /// into the spec's model, every name and shape checked, evaluated and saved.
    func importBase(_ spec: ExperimentSpec, weights: WeightsRef) throws -> ExperimentResult {
        guard let file = weightsPath else {
            throw ExperimentError("pretrain experiment \(spec.id) imports weights (SHA-256 \(weights.sha256.prefix(12))…) but no weights file was given (the sweep's models.<name>.weights or --weights)")
        }
        let digest = try ContentDigest.file(atPath: file)
        guard digest == weights.sha256 else {
            throw ExperimentError("\(file): SHA-256 \(digest.prefix(12))… is not the \(weights.sha256.prefix(12))… the experiment was made for (the file changed since the grid was built?)")
        }
        let data = try loadData(spec)
        let t0 = Date()
        let (model, imported) = try PretrainedWeights.load(file, into: spec.model)
        log("pretrain \(spec.readableName): imported \(file) (\(imported.container)\(imported.selection.isEmpty ? "" : ", " + imported.selection)); evaluating on \(data.test.count) images")
        let accuracy = try evaluate(model, data)
        let counts = try model.counts()
        let path = try prepareCheckpointPath(spec.id)
        try Checkpoint.save(model, spec: spec.model, to: path, extra: ["prunebench.experiment": spec.id,
                                                                        "prunebench.imported_from": (file as NSString).lastPathComponent])
        let metrics = ExperimentResult.Metrics(
            kind: .pretrain, seed: spec.seed, threads: Parallel.threadCount, trainFingerprint: data.train.fingerprint,
            testFingerprint: data.test.fingerprint, trainImages: data.train.count, testImages: data.test.count,
            accuracy: accuracy, lastEpochAccuracy: accuracy, epochAccuracies: [], parameters: counts.parameters,
            macs: counts.macs, checkpointSHA256: try ContentDigest.file(atPath: path))
        var timings = ExperimentResult.Timings(pretrainSeconds: Date().timeIntervalSince(t0))
        let latency = Latency.profile(model)
        timings.latencyBatch1Seconds = latency.batch1; timings.latencyBatch64Seconds = latency.batch64
        return ExperimentResult(id: spec.id, name: spec.readableName, spec: spec, metrics: metrics, timings: timings)
    }

    func prune(_ spec: ExperimentSpec) throws -> ExperimentResult {
        guard let baseID = spec.base else { throw ExperimentError("pruning experiment \(spec.id): no base experiment") }
        guard let method = spec.method, let scheme = spec.scheme, let target = spec.speedup else {
            throw ExperimentError("pruning experiment \(spec.id): method, scheme and speedup are required")
        }
        guard let steps = spec.settings.pruning, let finetune = spec.settings.finetune else {
            throw ExperimentError("pruning experiment \(spec.id): settings.pruning and settings.finetune are required")
        }
        guard let row = LeaderboardRow.named(method) else { throw ExperimentError("pruning experiment \(spec.id): unknown method row '\(method)'") }
        let importance = row.criterion
        let isRegularizerRow = row.regularizer != nil
        if isRegularizerRow && spec.settings.sparse == nil {
            throw ExperimentError("pruning experiment \(spec.id): row '\(method)' needs settings.sparse")
        }
        let basePath = checkpointPath(baseID)
        guard FileManager.default.fileExists(atPath: basePath) else {
            throw ExperimentError("base experiment \(baseID) has no checkpoint (\(basePath)); run that pretrain experiment first")
        }
        let baseDigest = try ContentDigest.file(atPath: basePath)
        let (model, baseSpec, _) = try Checkpoint.load(basePath)
        guard baseSpec == spec.model else {
            throw ExperimentError("base checkpoint \(basePath) holds model \(baseSpec.json()), the experiment prunes \(spec.model.json())")
        }
        let data = try loadData(spec)
        let baseAccuracy = try evaluate(model, data) 
        log("prune \(spec.readableName): base \(baseID.prefix(12)) accuracy \(String(format: "%.2f", baseAccuracy))%")
        var timings = ExperimentResult.Timings()
        let baseLatency = Latency.profile(model)
        timings.baseLatencyBatch1Seconds = baseLatency.batch1; timings.baseLatencyBatch64Seconds = baseLatency.batch64
        let classifier = SparsityRegularizers.classifierLayers(of: model, classes: spec.model.numClasses)

        // Stage 1: sparse training (regularizer track only).
        var sparseAccuracy: Double?
        if let kind = row.regularizer, let sparse = spec.settings.sparse {
            let regularizer = try SparsityRegularizers.make(kind, model: model, ignoredLayers: classifier,
                                                            lambda: sparse.lambda.map(Float.init),
                                                            delta: sparse.delta.map(Float.init) ?? 1e-4)
            let t0 = Date()
            let run = try train(model, phase: sparse, data: data, seed: spec.seed, label: "sparse \(method)", regularizer: regularizer)
            timings.regularizationSeconds = Date().timeIntervalSince(t0)
            timings.regularizationEpochSeconds = run.seconds
            timings.regularizerGradientSeconds = regularizer.timing.totalSeconds
            sparseAccuracy = run.last
        }

        // Stages 2-3: grouping and iterative pruning to the target speed-up.
        var config = PruningConfig(importance: importance, globalPruning: scheme.isGlobal, pruningRatio: 1.0, targetSpeedup: target,
                                   iterativeSteps: steps.steps, maxPruningRatio: scheme.maxPruningRatio,
                                   ignoredLayers: classifier.map(Model.moduleName).sorted())
        config.seed = UInt64(spec.seed)
        if config.isDataDriven {
            // Calibration (§4.1, §7.6): the training split with its training transform, drawn afresh each step.
            config.calibration = .init(dataset: spec.dataset.name.rawValue, dataDirectory: dataDirectory, batches: steps.calibrationBatches,
                                       batchSize: steps.calibrationBatchSize, seed: UInt64(spec.seed))
        }
        try config.checkApplicable(to: model, source: "experiment \(spec.id)")
        let pruner = try Pruner(model: model, config: config)
        if config.isDataDriven {
            let loader = try BatchLoader(dataset: data.train, batchSize: steps.calibrationBatchSize, shuffle: true,
                                         seed: UInt64(spec.seed), transform: data.trainTransform, prefetch: false)
            pruner.calibration = loader.calibrationSource(batches: steps.calibrationBatches)
        }
        // A progress line at most every 2 s: data-driven criteria can take seconds per step.
        var lastReport = Date()
        let log = self.log, total = steps.steps
        pruner.onStep = { step, speedup in
            guard Date().timeIntervalSince(lastReport) >= 2 else { return }
            lastReport = Date()
            log("prune step \(step)/\(total)" + (speedup.map { String(format: ": speed-up %.3fx of %gx", $0, target) } ?? ""))
        }
        let outcome = try pruner.run()
        let reached = outcome.speedup >= target
        log("pruned with \(importance.rawValue) (\(scheme.rawValue)): \(outcome.steps) steps, speed-up \(String(format: "%.3f", outcome.speedup))x"
            + (reached ? "" : " (target \(target)x not reached)"))
        timings.pruneStepSeconds = outcome.stepSeconds
        timings.pruneStepMeanSeconds = outcome.stepSeconds.isEmpty ? 0 : outcome.stepSeconds.reduce(0, +) / Double(outcome.stepSeconds.count)
        timings.pruneTotalSeconds = outcome.totalSeconds
        let afterPruning = try evaluate(model, data)

        // Stage 4: finetuning.
        let t0 = Date()
        let run = try train(model, phase: finetune, data: data, seed: spec.seed, label: "finetune")
        timings.finetuneSeconds = Date().timeIntervalSince(t0)
        let latency = Latency.profile(model)
        timings.latencyBatch1Seconds = latency.batch1; timings.latencyBatch64Seconds = latency.batch64
        let best = run.epochs.max() ?? afterPruning
        let path = try prepareCheckpointPath(spec.id)
        try PrunedCheckpoint.save(model, spec: spec.model, history: pruner.history, to: path,
                                  extra: ["prunebench.experiment": spec.id, "prunebench.base": baseID])
        var m = ExperimentResult.Metrics(
            kind: .prune, seed: spec.seed, threads: Parallel.threadCount, trainFingerprint: data.train.fingerprint,
            testFingerprint: data.test.fingerprint, trainImages: data.train.count, testImages: data.test.count,
            accuracy: best, lastEpochAccuracy: run.last, epochAccuracies: run.epochs, parameters: outcome.paramsAfter,
            macs: outcome.macsAfter, checkpointSHA256: try ContentDigest.file(atPath: path))
        m.baseID = baseID; m.baseAccuracy = baseAccuracy; m.deltaAccuracy = best - baseAccuracy
        m.accuracyAfterPruning = afterPruning; m.accuracyAfterSparseTraining = sparseAccuracy
        m.parametersBefore = outcome.paramsBefore
        m.parametersLeftPercent = 100 * Double(outcome.paramsAfter) / Double(outcome.paramsBefore)
        m.macsBefore = outcome.macsBefore; m.targetSpeedup = target; m.achievedSpeedup = outcome.speedup
        m.targetReached = reached; m.stepsTaken = outcome.steps; m.importance = importance.rawValue
        m.regularizer = isRegularizerRow ? method : nil; m.baseCheckpointSHA256 = baseDigest
        return ExperimentResult(id: spec.id, name: spec.readableName, spec: spec, metrics: m, timings: timings)
    }

    // MARK: Pieces

    struct LoadedData {
        var train: Dataset, test: Dataset
        var trainTransform: TransformConfig, evalTransform: TransformConfig
    }

    /// The spec's data set and subsets, with the transforms that turn it into the model's input
    /// (a stand-in's resize and channel replication).
    func loadData(_ spec: ExperimentSpec) throws -> LoadedData {
        let ref = spec.dataset
        let (train, test) = try DatasetCatalog.load(ref.name, directory: dataDirectory, trainLimit: spec.settings.data.trainSubset,
                                                    testLimit: spec.settings.data.testSubset)
        let shape = spec.model.inputShape
        func transform(augment: Bool) -> TransformConfig {
            switch ref.transform {
            case nil: DatasetCatalog.transform(ref.name, augment: augment, model: spec.model)
            case .upscale64RGB: .fashionMNIST(augment: augment, resizeTo: 64, outputChannels: 3)
            }
        }
        let data = LoadedData(train: train, test: test, trainTransform: transform(augment: true),
                              evalTransform: transform(augment: false))
        let out = try ImageTransform(data.evalTransform, channels: train.channels, height: train.height, width: train.width)
        guard [out.outputChannels, out.outputHeight, out.outputWidth] == shape else {
            throw ExperimentError("dataset '\(ref.name.rawValue)' with transform '\(ref.transform?.rawValue ?? "none")' gives \(out.outputChannels)x\(out.outputHeight)x\(out.outputWidth) images, the model takes \(shape.map(String.init).joined(separator: "x"))")
        }
        return data
    }

    /// The training config of a phase.
    public static func trainingConfig(_ phase: TrainPhase, seed: Int) throws -> TrainingConfig {
        var c = TrainingConfig()
        c.epochs = phase.epochs; c.batchSize = phase.batchSize; c.seed = UInt64(seed)
        switch phase.optimizer {
        case .sgd: c.optimizer = .sgd
        case .adamw: c.optimizer = .adamw
        case .ultralytics: throw ExperimentError("optimizer 'ultralytics' belongs to detector recipes; the classification trainer takes sgd or adamw")
        }
        c.learningRate = Float(phase.lr); c.momentum = Float(phase.momentum ?? 0); c.nesterov = false
        c.weightDecay = Float(phase.weightDecay)
        switch phase.schedule {
        case .cosine: c.schedule = .cosine
        case .constant: c.schedule = .constant
        case .multistep(let milestones): c.schedule = .multistep; c.milestones = milestones
        case .step(let n): c.schedule = .multistep; c.milestones = Array(stride(from: n, to: max(phase.epochs, n), by: n))
        case .ultralytics: throw ExperimentError("schedule 'ultralytics' belongs to detector recipes; the classification trainer takes cosine, constant, multistep or step")
        }
        return c
    }

    struct PhaseRun { var epochs: [Double]; var seconds: [Double]; var last: Double }

    /// Trains `model` for one phase; accuracies in percent.
    func train(_ model: Model, phase: TrainPhase, data: LoadedData, seed: Int, label: String,
               regularizer: (any SparsityRegularizer)? = nil) throws -> PhaseRun {
        let config = try Self.trainingConfig(phase, seed: seed)
        let trainer = Trainer(config: config, model: model, train: data.train, test: data.test,
                              trainTransform: data.trainTransform, evalTransform: data.evalTransform)
        trainer.regularizer = regularizer
        let log = self.log
        let result = try trainer.run { event in
            if case let .epoch(m) = event {
                log("\(label) epoch \(m.epoch)/\(phase.epochs): loss \(String(format: "%.4f", m.trainLoss)), test accuracy \(String(format: "%.2f", m.testAccuracy * 100))%, \(String(format: "%.1f", m.seconds)) s")
            }
        }
        let accuracies = result.epochs.map { $0.testAccuracy * 100 }
        return PhaseRun(epochs: accuracies, seconds: result.epochs.map(\.seconds), last: accuracies.last ?? 0)
    }

    func evaluate(_ model: Model, _ data: LoadedData) throws -> Double {
        // Decoded 224x224 files in batches of 50: 500 would hold gigabytes of activations.
        try Evaluation.run(model: model, dataset: data.test, transform: data.evalTransform,
                           batchSize: data.test.files == nil ? 500 : 50).accuracy * 100
    }

    func prepareCheckpointPath(_ id: String) throws -> String {
        try FileManager.default.createDirectory(at: artifacts.appendingPathComponent(id), withIntermediateDirectories: true)
        return checkpointPath(id)
    }
}
