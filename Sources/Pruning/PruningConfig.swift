import Experiments
import Foundation
import NN

/// A pruning run, as the `pruning` object of the golden `case.json` schema describes it
/// (Torch-Pruning's `BasePruner` configuration).
public struct PruningConfig: Sendable, Equatable {
    /// The criterion; a data-driven one (``Criterion/needsCalibration``) needs a calibration source.
    public var importance: Criterion
    /// Exponent for the magnitude family (l1: 1, l2/lamp/fpgm: 2 unless given).
    public var p: Float?
    public var groupReduction: GroupReduction = .mean
    public var normalizer: ScoreNormalizer = .mean
    public var bias = false
    public var globalPruning: Bool
    public var pruningRatio: Double
    /// Progressive pruning to this MAC speed-up (ratio 1.0, ``iterativeSteps`` steps) instead of one ratio.
    public var targetSpeedup: Double?
    public var iterativeSteps = 1
    public var maxPruningRatio = 1.0
    public var roundTo: Int?
    public var ignoredLayers: [String] = []
    /// Seed of the random criterion.
    public var seed: UInt64 = 0
    /// Where a data-driven criterion's calibration batches come from (the `calibration` object).
    public var calibration: CalibrationSettings?

    /// The `calibration` object: `{"dataset": "fashion-mnist", "batches": 10, "batch_size": 128,
    /// "data_dir": null, "seed": 0}`. The data set is resolved by the caller (the Pruning module
    /// does not read data).
    public struct CalibrationSettings: Sendable, Equatable {
        public var dataset: String
        public var dataDirectory: String?
        public var batches = 10
        public var batchSize = 128
        public var seed: UInt64 = 0

        public init(dataset: String, dataDirectory: String? = nil, batches: Int = 10, batchSize: Int = 128, seed: UInt64 = 0) {
            self.dataset = dataset; self.dataDirectory = dataDirectory; self.batches = batches; self.batchSize = batchSize
            self.seed = seed
        }
    }

    /// Whether the criterion needs calibration data.
    public var isDataDriven: Bool { importance.needsCalibration }

    public init(importance: Criterion, globalPruning: Bool, pruningRatio: Double, targetSpeedup: Double? = nil,
                iterativeSteps: Int = 1, maxPruningRatio: Double = 1, roundTo: Int? = nil, ignoredLayers: [String] = []) {
        self.importance = importance; self.globalPruning = globalPruning; self.pruningRatio = pruningRatio
        self.targetSpeedup = targetSpeedup; self.iterativeSteps = iterativeSteps; self.maxPruningRatio = maxPruningRatio
        self.roundTo = roundTo; self.ignoredLayers = ignoredLayers
    }

    /// Keys of the `pruning` object. Informative ones (`pruner`, `importance_class`,
    /// `importance_effective`, `iterative_pruning_ratio_scheduler`, `root_module_types`,
    /// `example_input_shape`) are accepted and checked for plausibility only.
    public static let knownKeys: Set<String> = [
        "pruner", "importance", "importance_class", "importance_args", "importance_effective", "group_reduction",
        "normalizer", "scope", "global_pruning", "pruning_ratio", "target_speedup", "iterative_steps",
        "iterative_pruning_ratio_scheduler", "max_pruning_ratio", "ignored_layers", "round_to", "isomorphic",
        "pruning_ratio_dict", "root_module_types", "in_channel_groups", "out_channel_groups", "example_input_shape",
        "unwrapped_parameters_auto_detected", "seed", "num_heads", "prune_num_heads", "prune_head_dims", "calibration",
    ]

    /// Parses a `pruning` object; every problem names its field.
    public static func parse(_ object: [String: Any], source: String = "pruning") throws -> PruningConfig {
        func fail(_ field: String, _ message: String) -> PruningConfigError {
            PruningConfigError("\(source): field '\(field)' \(message)")
        }
        let unknown = Set(object.keys).subtracting(knownKeys)
        if let key = unknown.sorted().first { throw fail(key, "is not a known pruning setting") }
        func isNull(_ key: String) -> Bool { object[key] == nil || object[key] is NSNull }
        func number(_ key: String) throws -> Double? {
            if isNull(key) { return nil }
            guard let n = object[key] as? NSNumber, !isBoolean(n) else {
                throw fail(key, "must be a number")
            }
            return n.doubleValue
        }
        func integer(_ key: String) throws -> Int? {
            guard let d = try number(key) else { return nil }
            guard d == d.rounded(), abs(d) < 1e15 else { throw fail(key, "must be an integer, got \(d)") }
            return Int(d)
        }
        func bool(_ key: String) throws -> Bool? {
            if isNull(key) { return nil }
            guard let n = object[key] as? NSNumber, isBoolean(n) else { throw fail(key, "must be true or false") }
            return n.boolValue
        }
        func string(_ key: String) throws -> String? {
            if isNull(key) { return nil }
            guard let s = object[key] as? String else { throw fail(key, "must be a string") }
            return s
        }

        guard let key = try string("importance") else { throw fail("importance", "is required") }
        guard let importance = Criterion(rawValue: key) else {
            throw fail("importance", "is '\(key)'; expected one of \(Criterion.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let scope = try string("scope")
        if let scope, !["local", "global"].contains(scope) { throw fail("scope", "must be 'local' or 'global', got '\(scope)'") }
        let global = try bool("global_pruning") ?? (scope == "global")
        if let scope, (scope == "global") != global { throw fail("scope", "'\(scope)' contradicts global_pruning = \(global)") }
        guard let ratio = try number("pruning_ratio") else { throw fail("pruning_ratio", "is required") }
        guard (0...1).contains(ratio) else { throw fail("pruning_ratio", "must be in [0, 1], got \(ratio)") }
        var config = PruningConfig(importance: importance, globalPruning: global, pruningRatio: ratio)
        config.targetSpeedup = try number("target_speedup")
        if let t = config.targetSpeedup, !(t >= 1) { throw fail("target_speedup", "must be >= 1, got \(t)") }
        config.iterativeSteps = try integer("iterative_steps") ?? 1
        guard config.iterativeSteps >= 1 else { throw fail("iterative_steps", "must be >= 1") }
        config.maxPruningRatio = try number("max_pruning_ratio") ?? 1
        guard config.maxPruningRatio > 0 && config.maxPruningRatio <= 1 else { throw fail("max_pruning_ratio", "must be in (0, 1]") }
        config.roundTo = try integer("round_to")
        if let r = config.roundTo, r < 1 { throw fail("round_to", "must be null or >= 1") }
        if !isNull("ignored_layers") {
            guard let names = object["ignored_layers"] as? [String] else { throw fail("ignored_layers", "must be a list of layer names") }
            config.ignoredLayers = names
        }
        if let iso = try bool("isomorphic"), iso { throw fail("isomorphic", "true is not supported") }
        if !isNull("pruning_ratio_dict") { throw fail("pruning_ratio_dict", "per-layer ratios are not supported (must be null)") }
        for key in ["in_channel_groups", "out_channel_groups"] where !isNull(key) {
            guard let d = object[key] as? [String: Any], d.isEmpty else { throw fail(key, "must be empty (channel groups are not supported)") }
        }
        if !isNull("unwrapped_parameters_auto_detected") {
            // The only unwrapped parameters the engine knows are a ViT's cls_token and pos_embed
            // (pruned on the last dimension, as part of the hidden-dimension group).
            guard let l = object["unwrapped_parameters_auto_detected"] as? [Any],
                  l.allSatisfy({ e in ["cls_token", "pos_embed"].contains { String(describing: e).contains($0) } }) else {
                throw fail("unwrapped_parameters_auto_detected", "may name only a ViT's cls_token and pos_embed")
            }
        }
        // ViT (§4.8): head-dim pruning with a constant head count is the only attention mode.
        if let h = try bool("prune_num_heads"), h { throw fail("prune_num_heads", "true is not supported (heads are kept)") }
        if let h = try bool("prune_head_dims"), !h { throw fail("prune_head_dims", "false is not supported (head dims are pruned)") }
        if let s = try integer("seed") { config.seed = UInt64(truncatingIfNeeded: s) }
        if !isNull("calibration") {
            guard let c = object["calibration"] as? [String: Any] else { throw fail("calibration", "must be an object") }
            let known: Set<String> = ["dataset", "data_dir", "batches", "batch_size", "seed"]
            if let k = Set(c.keys).subtracting(known).sorted().first { throw fail("calibration.\(k)", "is not a calibration setting") }
            guard let dataset = c["dataset"] as? String else { throw fail("calibration.dataset", "is required and must be a string") }
            var settings = CalibrationSettings(dataset: dataset)
            if let d = c["data_dir"], !(d is NSNull) {
                guard let d = d as? String else { throw fail("calibration.data_dir", "must be a string") }
                settings.dataDirectory = d
            }
            for (key, path) in [("batches", \CalibrationSettings.batches), ("batch_size", \CalibrationSettings.batchSize)] {
                guard let v = c[key] else { continue }
                guard let n = v as? NSNumber, !isBoolean(n), n.doubleValue == n.doubleValue.rounded(), n.intValue >= 1 else {
                    throw fail("calibration.\(key)", "must be a positive integer")
                }
                settings[keyPath: path] = n.intValue
            }
            if let v = c["seed"] {
                guard let n = v as? NSNumber, !isBoolean(n), n.int64Value >= 0 else { throw fail("calibration.seed", "must be a non-negative integer") }
                settings.seed = UInt64(n.int64Value)
            }
            config.calibration = settings
        }

        // Criterion options: importance_args wins, then the top-level group_reduction/normalizer.
        if let r = try string("group_reduction") {
            guard let v = GroupReduction(rawValue: r) else { throw fail("group_reduction", "is '\(r)'; expected \(GroupReduction.allCases.map(\.rawValue).joined(separator: ", "))") }
            config.groupReduction = v
        }
        if let n = try string("normalizer") {
            guard let v = ScoreNormalizer(rawValue: n) else { throw fail("normalizer", "is '\(n)'; expected \(ScoreNormalizer.allCases.map(\.rawValue).joined(separator: ", "))") }
            config.normalizer = v
        }
        if !isNull("importance_args") {
            guard let args = object["importance_args"] as? [String: Any] else { throw fail("importance_args", "must be an object") }
            let known: Set<String> = ["p", "group_reduction", "normalizer", "bias"]
            if let k = Set(args.keys).subtracting(known).sorted().first { throw fail("importance_args.\(k)", "is not a known criterion argument") }
            if let p = args["p"] {
                guard let n = p as? NSNumber, n.doubleValue > 0 else { throw fail("importance_args.p", "must be a positive number") }
                config.p = n.floatValue
            }
            if let r = args["group_reduction"] {
                guard let s = r as? String, let v = GroupReduction(rawValue: s) else { throw fail("importance_args.group_reduction", "is not a known reduction") }
                config.groupReduction = v
            }
            if let n = args["normalizer"] {
                if n is NSNull { config.normalizer = .none } else {
                    guard let s = n as? String, let v = ScoreNormalizer(rawValue: s) else { throw fail("importance_args.normalizer", "is not a known normalizer") }
                    config.normalizer = v
                }
            }
            if let b = args["bias"] {
                guard let n = b as? NSNumber, isBoolean(n) else { throw fail("importance_args.bias", "must be true or false") }
                config.bias = n.boolValue
            }
        }
        return config
    }

    /// Checks that the criterion applies to `model`, with one error naming what does not fit
    /// (bnscale on a model without batch norm, a data-driven criterion without calibration data).
    public func checkApplicable(to model: Model, source: String = "pruning") throws {
        if importance == .bnscale && !PrunableLayers.model(model, owns: .batchNorm) {
            throw PruningConfigError("\(source): field 'importance': 'bnscale' scores batch-norm scales, and this model has no batch norm")
        }
        if isDataDriven && calibration == nil {
            throw PruningConfigError("\(source): field 'importance': '\(importance.rawValue)' is data-driven; add a 'calibration' object naming a dataset (and batches)")
        }
        let names = Set(model.nodes.map { Model.moduleName($0.name) })
        if let unknown = ignoredLayers.first(where: { name in !names.contains(name) && !names.contains { $0.hasPrefix(name + ".") } }) {
            throw PruningConfigError("\(source): field 'ignored_layers': no layer named '\(unknown)' in this model")
        }
    }

    /// The criterion this configuration names: the one place a registry key becomes an instance.
    public func makeCriterion() -> any ImportanceCriterion {
        switch importance {
        case .l1: GroupMagnitude(p: p ?? 1, reduction: groupReduction, normalizer: normalizer, bias: bias)
        case .l2: GroupMagnitude(p: p ?? 2, reduction: groupReduction, normalizer: normalizer, bias: bias)
        case .bnscale: GroupMagnitude.bnScale(normalizer: normalizer)
        case .lamp: GroupMagnitude.lamp(p: p ?? 2, bias: bias)
        case .fpgm: FPGMImportance(p: p ?? 2, reduction: groupReduction, normalizer: normalizer)
        case .taylor: TaylorImportance(reduction: groupReduction, normalizer: normalizer)
        case .hessian: HessianImportance(reduction: groupReduction, normalizer: normalizer)
        case .obdc: OBDCImportance(seed: seed, reduction: groupReduction, normalizer: normalizer)
        case .cp: CPImportance(seed: seed, normalizer: normalizer)
        case .thinet: ThiNetImportance(seed: seed, normalizer: normalizer)
        case .hrank: HRankImportance(reduction: groupReduction, normalizer: normalizer)
        case .random: RandomImportance(seed: seed)
        }
    }
}

/// Whether a JSONSerialization number is a JSON boolean.
func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

/// A pruning configuration that cannot be used, naming the field.
public struct PruningConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
