import Experiments

/// Everything that determines a training run. The same config gives the same model, bit for bit,
/// for the same thread count.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case sgd, adamw }
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case cosine, multistep, constant }

    public var model = "resnet18"
    public var variant = "cifar"
    public var width = 0.25
    public var dataset = DatasetName.fashionMNIST
    public var dataDirectory: String? = nil
    public var epochs = 15
    public var batchSize = 128
    public var optimizer = OptimizerKind.sgd
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var nesterov = true
    public var weightDecay: Float = 5e-4
    public var schedule = ScheduleKind.cosine
    public var warmupEpochs = 0
    /// Epochs at which a multi-step schedule multiplies the rate by `gamma`.
    public var milestones: [Int] = []
    public var gamma: Float = 0.1
    public var labelSmoothing: Float = 0
    public var gradientClip: Float? = nil
    public var augment = true
    public var seed: UInt64 = 0
    /// Evaluation batches are this large (no gradients are kept).
    public var evaluationBatchSize = 500
    /// Train on only the first N training images (for quick runs and tests); nil for all.
    public var trainLimit: Int? = nil
    /// Evaluate on only the first N test images; nil for all.
    public var testLimit: Int? = nil

    public init() {}
}
