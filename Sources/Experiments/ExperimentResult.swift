import Foundation

/// The software version recorded in every result.
public let prunebenchVersion = "prunebench 0.1.0"

/// What one experiment produced (pruningbench.md §11.1). `metrics` depends only on the spec, the
/// data and the thread count, so two runs of the same experiment give byte-identical `metrics`
/// JSON; wall-clock measurements live in `timings`.
public struct ExperimentResult: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var spec: ExperimentSpec
    public var metrics: Metrics
    public var timings: Timings

    public init(id: String, name: String, spec: ExperimentSpec, metrics: Metrics, timings: Timings) {
        self.id = id; self.name = name; self.spec = spec; self.metrics = metrics; self.timings = timings
    }

    /// Deterministic outcomes. Accuracies are top-1 in percent; `delta_accuracy` in points.
    public struct Metrics: Codable, Equatable, Sendable {
        public var kind: ExperimentSpec.Kind
        public var softwareVersion: String = prunebenchVersion
        public var seed: Int
        public var threads: Int
        public var trainFingerprint: String
        public var testFingerprint: String
        public var trainImages: Int
        public var testImages: Int
        /// Pretrain: the trained model's accuracy. Prune: the finetuned model's best-epoch accuracy.
        public var accuracy: Double
        /// Accuracy after the last training epoch.
        public var lastEpochAccuracy: Double
        /// Per epoch of the final training phase (pretrain or finetune).
        public var epochAccuracies: [Double]
        public var parameters: Int
        public var macs: Int
        public var checkpointSHA256: String
        // Pruning only.
        public var baseID: String?
        public var baseAccuracy: Double?
        public var deltaAccuracy: Double?
        public var accuracyAfterPruning: Double?
        public var accuracyAfterSparseTraining: Double?
        public var parametersBefore: Int?
        public var parametersLeftPercent: Double?
        public var macsBefore: Int?
        public var targetSpeedup: Double?
        public var achievedSpeedup: Double?
        public var targetReached: Bool?
        public var stepsTaken: Int?
        public var importance: String?
        public var regularizer: String?
        public var baseCheckpointSHA256: String?

        /// The fields every experiment records; the pruning-only ones start nil.
        public init(kind: ExperimentSpec.Kind, seed: Int, threads: Int, trainFingerprint: String, testFingerprint: String,
                    trainImages: Int, testImages: Int, accuracy: Double, lastEpochAccuracy: Double, epochAccuracies: [Double],
                    parameters: Int, macs: Int, checkpointSHA256: String) {
            self.kind = kind; self.seed = seed; self.threads = threads
            self.trainFingerprint = trainFingerprint; self.testFingerprint = testFingerprint
            self.trainImages = trainImages; self.testImages = testImages
            self.accuracy = accuracy; self.lastEpochAccuracy = lastEpochAccuracy; self.epochAccuracies = epochAccuracies
            self.parameters = parameters; self.macs = macs; self.checkpointSHA256 = checkpointSHA256
        }

        enum CodingKeys: String, CodingKey {
            case kind, seed, threads, accuracy, parameters, macs, importance, regularizer
            case softwareVersion = "software_version", trainFingerprint = "train_fingerprint"
            case testFingerprint = "test_fingerprint", trainImages = "train_images", testImages = "test_images"
            case lastEpochAccuracy = "last_epoch_accuracy", epochAccuracies = "epoch_accuracies"
            case checkpointSHA256 = "checkpoint_sha256", baseID = "base_id", baseAccuracy = "base_accuracy"
            case deltaAccuracy = "delta_accuracy", accuracyAfterPruning = "accuracy_after_pruning"
            case accuracyAfterSparseTraining = "accuracy_after_sparse_training", parametersBefore = "parameters_before"
            case parametersLeftPercent = "parameters_left_percent", macsBefore = "macs_before"
            case targetSpeedup = "target_speedup", achievedSpeedup = "achieved_speedup", targetReached = "target_reached"
            case stepsTaken = "steps_taken", baseCheckpointSHA256 = "base_checkpoint_sha256"
        }
    }

    /// Wall-clock measurements, in seconds.
    public struct Timings: Codable, Equatable, Sendable {
        public var wallSeconds: Double = 0
        public var pretrainSeconds: Double?
        /// Total wall time of the sparse-training stage (§11.1 "Reg time"), and per epoch.
        public var regularizationSeconds: Double?
        public var regularizationEpochSeconds: [Double]?
        /// Wall time spent adding the regularizer's gradients alone.
        public var regularizerGradientSeconds: Double?
        /// Mean wall time of one pruning step (§11.1 "Step time"), every step, and the whole loop
        /// including MAC recounts.
        public var pruneStepMeanSeconds: Double?
        public var pruneStepSeconds: [Double]?
        public var pruneTotalSeconds: Double?
        public var finetuneSeconds: Double?
        /// Measured CPU inference latency of the experiment's model (the pruned model for a pruning
        /// experiment): median seconds of one evaluation forward pass at batch 1 and 64, the
        /// experiment's thread count.
        public var latencyBatch1Seconds: Double?
        public var latencyBatch64Seconds: Double?
        /// The same for the base model, measured in the same process before pruning.
        public var baseLatencyBatch1Seconds: Double?
        public var baseLatencyBatch64Seconds: Double?

        /// Base latency over pruned latency at batch 1 and 64: the real speed-up, beside the MAC one.
        public var measuredSpeedupBatch1: Double? { ratio(baseLatencyBatch1Seconds, latencyBatch1Seconds) }
        public var measuredSpeedupBatch64: Double? { ratio(baseLatencyBatch64Seconds, latencyBatch64Seconds) }

        private func ratio(_ base: Double?, _ pruned: Double?) -> Double? {
            guard let base, let pruned, pruned > 0 else { return nil }
            return base / pruned
        }

        public init(wallSeconds: Double = 0, pretrainSeconds: Double? = nil) {
            self.wallSeconds = wallSeconds; self.pretrainSeconds = pretrainSeconds
        }

        enum CodingKeys: String, CodingKey {
            case wallSeconds = "wall_seconds", pretrainSeconds = "pretrain_seconds"
            case regularizationSeconds = "regularization_seconds", regularizationEpochSeconds = "regularization_epoch_seconds"
            case regularizerGradientSeconds = "regularizer_gradient_seconds", pruneStepMeanSeconds = "prune_step_mean_seconds"
            case pruneStepSeconds = "prune_step_seconds", pruneTotalSeconds = "prune_total_seconds"
            case finetuneSeconds = "finetune_seconds"
            case latencyBatch1Seconds = "latency_batch1_seconds", latencyBatch64Seconds = "latency_batch64_seconds"
            case baseLatencyBatch1Seconds = "base_latency_batch1_seconds", baseLatencyBatch64Seconds = "base_latency_batch64_seconds"
        }
    }

    /// Pretty JSON with sorted keys (the `run` command's output and `result.json`).
    public func json() throws -> Data { try Self.encode(self) }

    /// `metrics` alone as compact sorted-key JSON, for byte-for-byte comparison.
    public func metricsJSON() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(metrics)
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(value)
    }
}
