import Foundation

/// One experiment as a value (ARCHITECTURE.md, "An experiment is a value"). Its canonical JSON
/// (`JSONValue.canonical`) is hashed with SHA-256 to give its `id`; the same spec gives the same
/// ID on every machine and in every sweep. Base models are experiments of kind `pretrain`; each
/// pruning experiment names its base by ID in `base`.
///
/// Only what determines the result is part of the spec: dataset paths, the sweep's name and
/// "needs the detector" markers live outside it (`Experiment`).
public struct ExperimentSpec: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case pretrain, prune }
    public enum Task: String, Codable, Sendable, CaseIterable { case classification, detection }

    public var kind: Kind
    public var task: Task
    public var model: ModelSpec
    public var dataset: DatasetRef
    /// Leaderboard row key (pruningbench.md §5), e.g. `l1`, `group_slim`; nil for pretrain.
    public var method: String?
    /// `global_protected` (max ratio 0.9), `global_unprotected` or `local` (§6); nil for pretrain.
    public var scheme: Scheme?
    /// Target speedup (a minimum, §7); nil for pretrain.
    public var speedup: Double?
    /// Board key (§9); nil for pretrain.
    public var leaderboard: String?
    /// ID of the pretrain experiment this one prunes; nil for pretrain.
    public var base: String?
    /// Profile name: smoke, default or paper.
    public var profile: String
    /// The profile's resolved settings that this experiment uses.
    public var settings: ExperimentSettings
    public var seed: Int
    /// A pretrain experiment that imports given weights instead of training: the weights file's
    /// SHA-256, so other weights make another experiment. Nil (and absent from the canonical
    /// JSON, keeping every other ID unchanged) for trained bases and pruning experiments.
    public var weights: WeightsRef?

    public init(kind: Kind, task: Task, model: ModelSpec, dataset: DatasetRef, method: String? = nil, scheme: Scheme? = nil,
                speedup: Double? = nil, leaderboard: String? = nil, base: String? = nil, profile: String,
                settings: ExperimentSettings, seed: Int, weights: WeightsRef? = nil) {
        self.kind = kind; self.task = task; self.model = model; self.dataset = dataset; self.method = method
        self.scheme = scheme; self.speedup = speedup; self.leaderboard = leaderboard; self.base = base
        self.profile = profile; self.settings = settings; self.seed = seed; self.weights = weights
    }

    /// The canonical JSON text: sorted keys, no whitespace, canonical numbers.
    public var canonicalJSON: String { try! JSONValue.canonical(self) }

    /// SHA-256 (hex) of `canonicalJSON`: the experiment's identity.
    public var id: String { ContentDigest.hex(canonicalJSON) }

    /// `<board>@<speedup>x/<row>` for pruning experiments (§9), `pretrain/<dataset>/<arch>` otherwise.
    public var readableName: String {
        if kind == .prune, let leaderboard, let speedup, let method {
            return "\(leaderboard)@\(JSONValue.format(speedup))x/\(method)"
        }
        return "pretrain/\(dataset.role)/\(model.arch)-\(model.variant ?? "")"
    }
}

/// Pretrained weights by content: the SHA-256 (hex) of the file's bytes.
public struct WeightsRef: Codable, Equatable, Sendable {
    public var sha256: String
    public init(sha256: String) { self.sha256 = sha256 }
}

/// A pruning scheme (pruningbench.md §6).
public enum Scheme: String, Codable, Sendable, CaseIterable {
    case globalProtected = "global_protected"
    case globalUnprotected = "global_unprotected"
    case local

    /// Maximum per-group pruning ratio: 0.9 for protected global, 1.0 otherwise.
    public var maxPruningRatio: Double { self == .globalProtected ? 0.9 : 1.0 }
    public var isGlobal: Bool { self != .local }
}

/// The data an experiment trains and evaluates on.
public struct DatasetRef: Codable, Equatable, Sendable {
    /// The data actually used.
    public var name: DatasetName
    /// The benchmark dataset this stands for.
    public var role: DatasetRole
    /// True when `name` is a stand-in for `role`.
    public var standIn: Bool
    /// Preprocessing that turns `name` into the model's input; nil = none.
    public var transform: DataTransform?

    enum CodingKeys: String, CodingKey { case name, role, standIn = "stand_in", transform }

    public init(name: DatasetName, role: DatasetRole, standIn: Bool, transform: DataTransform? = nil) {
        self.name = name; self.role = role; self.standIn = standIn; self.transform = transform
    }
}

/// One training phase's hyper-parameters.
public struct TrainPhase: Codable, Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var lr: Double
    public var momentum: Double?
    public var weightDecay: Double
    public var schedule: ScheduleSpec
    /// Regularization strength λ (sparse training only).
    public var lambda: Double?
    /// GrowingReg δ (sparse training only).
    public var delta: Double?

    enum CodingKeys: String, CodingKey {
        case epochs, batchSize = "batch_size", optimizer, lr, momentum, weightDecay = "weight_decay", schedule, lambda, delta
    }

    public init(epochs: Int, batchSize: Int, optimizer: OptimizerKind, lr: Double, momentum: Double? = nil, weightDecay: Double,
                schedule: ScheduleSpec, lambda: Double? = nil, delta: Double? = nil) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer; self.lr = lr; self.momentum = momentum
        self.weightDecay = weightDecay; self.schedule = schedule; self.lambda = lambda; self.delta = delta
    }
}

/// Iterative pruning parameters (§7, §14).
public struct PruningSettings: Codable, Equatable, Sendable {
    public var steps: Int
    public var calibrationBatches: Int
    public var calibrationBatchSize: Int

    enum CodingKeys: String, CodingKey {
        case steps, calibrationBatches = "calibration_batches", calibrationBatchSize = "calibration_batch_size"
    }

    public init(steps: Int, calibrationBatches: Int, calibrationBatchSize: Int) {
        self.steps = steps; self.calibrationBatches = calibrationBatches; self.calibrationBatchSize = calibrationBatchSize
    }
}

/// Which part of the data set is used (nil = all of it).
public struct DataSettings: Codable, Equatable, Sendable {
    public var trainSubset: Int?
    public var testSubset: Int?

    enum CodingKeys: String, CodingKey { case trainSubset = "train_subset", testSubset = "test_subset" }

    public init(trainSubset: Int? = nil, testSubset: Int? = nil) { self.trainSubset = trainSubset; self.testSubset = testSubset }
}

/// The resolved settings of an experiment: a pretrain experiment carries `pretrain` and `data`;
/// a pruning one `pruning`, `finetune`, `data`, and `sparse` only for regularizer rows (the
/// criterion track has no stage 1, §9).
public struct ExperimentSettings: Codable, Equatable, Sendable {
    public var pretrain: TrainPhase?
    public var sparse: TrainPhase?
    public var finetune: TrainPhase?
    public var pruning: PruningSettings?
    public var data: DataSettings

    public init(pretrain: TrainPhase? = nil, sparse: TrainPhase? = nil, finetune: TrainPhase? = nil,
                pruning: PruningSettings? = nil, data: DataSettings) {
        self.pretrain = pretrain; self.sparse = sparse; self.finetune = finetune; self.pruning = pruning; self.data = data
    }
}

/// An expanded experiment: its spec and ID plus what is not part of its identity.
public struct Experiment: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var spec: ExperimentSpec
    /// Capabilities the experiment needs that the project does not have yet (e.g. `detector`).
    public var needs: [String]
    /// Where the data lives on this machine, from the sweep (not part of the identity).
    public var datasetPath: String?
    /// Where the pretrained weights file of a ``ExperimentSpec/weights`` base lives, from the
    /// sweep (not part of the identity: the spec holds the file's digest, checked before use).
    public var weightsPath: String?
    /// Expected duration in arbitrary units (``ExperimentCost``), set when the grid is costed;
    /// not part of the identity and not encoded.
    public var cost: Double?

    enum CodingKeys: String, CodingKey { case id, name, spec, needs, datasetPath = "dataset_path", weightsPath = "weights_path" }

    public init(spec: ExperimentSpec, needs: [String] = [], datasetPath: String? = nil, weightsPath: String? = nil, cost: Double? = nil) {
        self.spec = spec; self.id = spec.id; self.name = spec.readableName; self.needs = needs; self.datasetPath = datasetPath
        self.weightsPath = weightsPath
        self.cost = cost
    }
}
