import Foundation
import Yams

/// A sweep file (cluster/sweeps/*.yaml, documented in docs/grid.md): datasets, models, profiles
/// and leaderboards. `Grid` expands it into experiments.
public struct Sweep: Sendable, Equatable {
    public struct Dataset: Sendable, Equatable {
        public var ref: DatasetRef
        /// Where the data lives (user-given; not part of any experiment's identity).
        public var path: String?
        public var needs: [String]
    }

    public struct Model: Sendable, Equatable {
        public var spec: ModelSpec
        public var needs: [String]
        /// Pretrained weights (safetensors or a torch.save file) to start from instead of the
        /// pretrain recipe, in profiles that keep the model's width (width_scale 1).
        public var weights: String?
    }

    /// The settings of one task family (§10) within a profile.
    public struct Recipe: Sendable, Equatable {
        public var pretrain: TrainPhase
        public var sparse: TrainPhase
        public var finetune: TrainPhase
        public var pruning: PruningSettings
        public var data: DataSettings
    }

    public struct Profile: Sendable, Equatable {
        /// Multiplies CNN widths and ViT embedding/MLP sizes (runnable models only); 1 = as listed.
        public var widthScale: Double
        public var recipes: [String: Recipe]
    }

    public struct Leaderboard: Sendable, Equatable {
        public var key: String
        public var task: ExperimentSpec.Task
        public var dataset: String
        public var model: String
        public var scheme: Scheme
        public var speedups: [Double]
        public var rows: [String]
        public var recipe: String
    }

    public var name: String
    public var defaultProfile: String
    public var datasets: [String: Dataset]
    public var models: [String: Model]
    public var profiles: [String: Profile]
    public var leaderboards: [Leaderboard]

    /// Loads and validates a sweep file; any problem is one `SweepError` naming the file and field.
    public static func load(path: String) throws -> Sweep {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SweepError("\(path): cannot read the sweep file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, source: path)
    }

    /// Points sweep models at pretrained weights files (`MODEL=FILE`, as `--weights` takes them),
    /// overriding the sweep's own `weights` fields.
    public mutating func setWeights(_ assignments: [String]) throws {
        for a in assignments {
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex, a.index(after: eq) != a.endIndex else {
                throw SweepError("--weights: '\(a)' is not MODEL=FILE")
            }
            let key = String(a[..<eq]), file = String(a[a.index(after: eq)...])
            guard models[key] != nil else {
                throw SweepError("--weights: '\(key)' is not a model of sweep \(name) (\(models.keys.sorted().joined(separator: ", ")))")
            }
            models[key]!.weights = file
        }
    }

    /// Parses and validates sweep YAML; `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws -> Sweep {
        let root: Yams.Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw SweepError("\(source): the sweep file is empty") }
            root = node
        } catch let error as SweepError { throw error } catch {
            let detail = "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            throw SweepError("\(source): not valid YAML: \(detail.joined(separator: " "))")
        }
        return try SweepParser(source: source).sweep(root)
    }
}

/// A sweep that cannot be loaded, and why (one line naming the file and field).
public struct SweepError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Walks the composed YAML, checking every key and value and naming the field on failure.
private struct SweepParser {
    let source: String

    func fail(_ field: String, _ node: Yams.Node?, _ message: String) -> SweepError {
        let at = node?.mark.map { " (line \($0.line))" } ?? ""
        return SweepError("\(source): field '\(field)'\(at): \(message)")
    }

    /// The mapping at `field`, with its keys checked against `required` and `optional`.
    func mapping(_ node: Yams.Node, _ field: String, required: [String], optional: [String] = []) throws -> [String: Yams.Node] {
        guard let map = node.mapping else { throw fail(field, node, "expected a mapping") }
        var out = [String: Yams.Node]()
        for (k, v) in map {
            guard let key = k.string else { throw fail(field, k, "keys must be strings") }
            let path = field.isEmpty ? key : "\(field).\(key)"
            guard required.contains(key) || optional.contains(key) else {
                throw fail(path, k, "unknown key '\(key)'; expected one of \((required + optional).sorted().joined(separator: ", "))")
            }
            guard out[key] == nil else { throw fail(path, k, "duplicate key") }
            out[key] = v
        }
        for key in required where out[key] == nil {
            throw fail(field.isEmpty ? key : "\(field).\(key)", node, "missing")
        }
        return out
    }

    /// A mapping with free-form keys (names of datasets, models, profiles, recipes).
    func namedMapping(_ node: Yams.Node, _ field: String) throws -> [(String, Yams.Node)] {
        guard let map = node.mapping, !map.isEmpty else { throw fail(field, node, "expected a non-empty mapping") }
        var seen = Set<String>()
        return try map.map { k, v in
            guard let key = k.string, !key.isEmpty else { throw fail(field, k, "names must be non-empty strings") }
            guard seen.insert(key).inserted else { throw fail("\(field).\(key)", k, "duplicate name") }
            return (key, v)
        }
    }

    func scalar(_ node: Yams.Node, _ field: String) throws -> String {
        guard let s = node.scalar?.string else { throw fail(field, node, "expected a scalar value") }
        return s
    }

    func string(_ node: Yams.Node, _ field: String) throws -> String {
        let s = try scalar(node, field)
        guard !s.isEmpty else { throw fail(field, node, "must not be empty") }
        return s
    }

    func int(_ node: Yams.Node, _ field: String, min: Int = 1) throws -> Int {
        let s = try scalar(node, field)
        guard let v = Int(s) else { throw fail(field, node, "expected an integer, got '\(s)'") }
        guard v >= min else { throw fail(field, node, "must be at least \(min), got \(v)") }
        return v
    }

    func double(_ node: Yams.Node, _ field: String, positive: Bool = false) throws -> Double {
        let s = try scalar(node, field)
        guard let v = Double(s), v.isFinite else { throw fail(field, node, "expected a number, got '\(s)'") }
        guard v >= 0, !positive || v > 0 else { throw fail(field, node, "must be \(positive ? "positive" : "non-negative"), got '\(s)'") }
        return v
    }

    /// A value of a closed vocabulary, spelled as its raw value.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Yams.Node, _ field: String, _ type: T.Type) throws -> T
        where T.RawValue == String {
        let s = try string(node, field)
        guard let v = T(rawValue: s) else {
            throw fail(field, node, "'\(s)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    func bool(_ node: Yams.Node, _ field: String) throws -> Bool {
        switch try scalar(node, field) {
        case "true": return true
        case "false": return false
        case let s: throw fail(field, node, "expected true or false, got '\(s)'")
        }
    }

    func list(_ node: Yams.Node, _ field: String) throws -> [Yams.Node] {
        guard let seq = node.sequence else { throw fail(field, node, "expected a list") }
        return Array(seq)
    }

    func strings(_ node: Yams.Node, _ field: String) throws -> [String] {
        try list(node, field).enumerated().map { try string($1, "\(field)[\($0)]") }
    }

    func sweep(_ root: Yams.Node) throws -> Sweep {
        let top = try mapping(root, "", required: ["name", "default_profile", "datasets", "models", "row_sets", "profiles",
                                                   "leaderboards"], optional: ["description"])
        let name = try string(top["name"]!, "name")
        if let d = top["description"] { _ = try scalar(d, "description") }

        var datasets = [String: Sweep.Dataset]()
        for (key, node) in try namedMapping(top["datasets"]!, "datasets") {
            let f = "datasets.\(key)"
            let m = try mapping(node, f, required: ["name", "role", "stand_in"], optional: ["transform", "path", "needs"])
            let role = try choice(m["role"]!, "\(f).role", DatasetRole.self)
            let name = try choice(m["name"]!, "\(f).name", DatasetName.self)
            let transform = try m["transform"].map { try choice($0, "\(f).transform", DataTransform.self) }
            if let transform, !transform.appliesTo.contains(name) {
                throw fail("\(f).transform", m["transform"], "'\(transform.rawValue)' applies to \(transform.appliesTo.map(\.rawValue).joined(separator: ", ")), not '\(name.rawValue)'")
            }
            let ref = DatasetRef(name: name, role: role, standIn: try bool(m["stand_in"]!, "\(f).stand_in"), transform: transform)
            datasets[key] = Sweep.Dataset(ref: ref, path: try m["path"].map { try scalar($0, "\(f).path") },
                                          needs: try m["needs"].map { try strings($0, "\(f).needs") } ?? [])
        }

        var models = [String: Sweep.Model]()
        for (key, node) in try namedMapping(top["models"]!, "models") {
            let f = "models.\(key)"
            let m = try mapping(node, f, required: ["arch", "input_shape", "num_classes"],
                                optional: ["variant", "width", "patch_size", "embed_dim", "depth", "num_heads", "mlp_hidden", "needs", "weights"])
            let shape = try list(m["input_shape"]!, "\(f).input_shape").enumerated().map { try int($1, "\(f).input_shape[\($0)]") }
            var spec = ModelSpec(arch: try string(m["arch"]!, "\(f).arch"), variant: try m["variant"].map { try string($0, "\(f).variant") },
                                 width: try m["width"].map { try double($0, "\(f).width", positive: true) },
                                 inputShape: shape, numClasses: try int(m["num_classes"]!, "\(f).num_classes"))
            spec.patchSize = try m["patch_size"].map { try int($0, "\(f).patch_size") }
            spec.embedDim = try m["embed_dim"].map { try int($0, "\(f).embed_dim") }
            spec.depth = try m["depth"].map { try int($0, "\(f).depth") }
            spec.numHeads = try m["num_heads"].map { try int($0, "\(f).num_heads") }
            spec.mlpHidden = try m["mlp_hidden"].map { try int($0, "\(f).mlp_hidden") }
            let needs = try m["needs"].map { try strings($0, "\(f).needs") } ?? []
            if needs.isEmpty {  // Runnable models must be buildable; detector models are only listed.
                do { try spec.validate(source: f) } catch { throw SweepError("\(source): \(error)") }
            }
            let weights = try m["weights"].map { try string($0, "\(f).weights") }
            models[key] = Sweep.Model(spec: spec, needs: needs, weights: weights)
        }

        var rowSets = [String: [String]]()
        for (key, node) in try namedMapping(top["row_sets"]!, "row_sets") {
            let f = "row_sets.\(key)"
            let rows = try strings(node, f)
            for (i, r) in rows.enumerated() where LeaderboardRow.named(r) == nil {
                throw fail("\(f)[\(i)]", node, "unknown row key '\(r)'; expected one of \(LeaderboardRow.keys.joined(separator: ", "))")
            }
            guard Set(rows).count == rows.count else { throw fail(f, node, "lists a row twice") }
            rowSets[key] = rows
        }

        var profiles = [String: Sweep.Profile]()
        for (key, node) in try namedMapping(top["profiles"]!, "profiles") {
            let f = "profiles.\(key)"
            let m = try mapping(node, f, required: ["width_scale", "recipes"])
            var recipes = [String: Sweep.Recipe]()
            for (rk, rn) in try namedMapping(m["recipes"]!, "\(f).recipes") {
                recipes[rk] = try recipe(rn, "\(f).recipes.\(rk)")
            }
            profiles[key] = Sweep.Profile(widthScale: try double(m["width_scale"]!, "\(f).width_scale", positive: true), recipes: recipes)
        }
        let recipeNames = Set(profiles.values.flatMap(\.recipes.keys))
        for (key, p) in profiles {
            if let missing = recipeNames.subtracting(p.recipes.keys).sorted().first {
                throw fail("profiles.\(key).recipes.\(missing)", top["profiles"], "missing (other profiles define it)")
            }
        }
        let defaultProfile = try string(top["default_profile"]!, "default_profile")
        guard profiles[defaultProfile] != nil else {
            throw fail("default_profile", top["default_profile"], "'\(defaultProfile)' is not a profile (\(profiles.keys.sorted().joined(separator: ", ")))")
        }

        var boards = [Sweep.Leaderboard]()
        var boardKeys = Set<String>()
        for (i, node) in try list(top["leaderboards"]!, "leaderboards").enumerated() {
            let f = "leaderboards[\(i)]"
            let m = try mapping(node, f, required: ["key", "task", "dataset", "model", "scheme", "speedups", "rows", "recipe"])
            let key = try string(m["key"]!, "\(f).key")
            guard boardKeys.insert(key).inserted else { throw fail("\(f).key", m["key"], "duplicate leaderboard '\(key)'") }
            let task = try choice(m["task"]!, "\(f).task", ExperimentSpec.Task.self)
            let scheme = try choice(m["scheme"]!, "\(f).scheme", Scheme.self)
            let dataset = try string(m["dataset"]!, "\(f).dataset")
            guard datasets[dataset] != nil else { throw fail("\(f).dataset", m["dataset"], "'\(dataset)' is not listed under datasets") }
            let model = try string(m["model"]!, "\(f).model")
            guard models[model] != nil else { throw fail("\(f).model", m["model"], "'\(model)' is not listed under models") }
            let rows = try string(m["rows"]!, "\(f).rows")
            guard let rowList = rowSets[rows] else { throw fail("\(f).rows", m["rows"], "'\(rows)' is not listed under row_sets") }
            let recipe = try string(m["recipe"]!, "\(f).recipe")
            guard recipeNames.contains(recipe) else { throw fail("\(f).recipe", m["recipe"], "'\(recipe)' is not a recipe of the profiles") }
            let speedups = try list(m["speedups"]!, "\(f).speedups").enumerated().map { j, n in
                let v = try double(n, "\(f).speedups[\(j)]")
                guard v > 1 else { throw fail("\(f).speedups[\(j)]", n, "a speedup target must exceed 1, got \(v)") }
                return v
            }
            guard !speedups.isEmpty, Set(speedups).count == speedups.count else {
                throw fail("\(f).speedups", m["speedups"], "must list distinct targets")
            }
            boards.append(Sweep.Leaderboard(key: key, task: task, dataset: dataset, model: model, scheme: scheme, speedups: speedups,
                                            rows: rowList, recipe: recipe))
        }
        return Sweep(name: name, defaultProfile: defaultProfile, datasets: datasets, models: models, profiles: profiles, leaderboards: boards)
    }

    func phase(_ node: Yams.Node, _ f: String, sparse: Bool = false) throws -> TrainPhase {
        let m = try mapping(node, f, required: ["epochs", "batch_size", "optimizer", "lr", "weight_decay", "schedule"] + (sparse ? ["lambda", "delta"] : []),
                            optional: ["momentum"])
        let optimizer = try choice(m["optimizer"]!, "\(f).optimizer", OptimizerKind.self)
        let scheduleText = try string(m["schedule"]!, "\(f).schedule")
        guard let schedule = ScheduleSpec(scheduleText) else {
            throw fail("\(f).schedule", m["schedule"], "expected \(ScheduleSpec.forms), got '\(scheduleText)'")
        }
        return TrainPhase(epochs: try int(m["epochs"]!, "\(f).epochs", min: 0), batchSize: try int(m["batch_size"]!, "\(f).batch_size"),
                          optimizer: optimizer, lr: try double(m["lr"]!, "\(f).lr", positive: true),
                          momentum: try m["momentum"].map { try double($0, "\(f).momentum") },
                          weightDecay: try double(m["weight_decay"]!, "\(f).weight_decay"), schedule: schedule,
                          lambda: try m["lambda"].map { try double($0, "\(f).lambda", positive: true) },
                          delta: try m["delta"].map { try double($0, "\(f).delta", positive: true) })
    }

    func recipe(_ node: Yams.Node, _ f: String) throws -> Sweep.Recipe {
        let m = try mapping(node, f, required: ["pretrain", "sparse", "finetune", "pruning", "data"])
        let p = try mapping(m["pruning"]!, "\(f).pruning", required: ["steps", "calibration_batches", "calibration_batch_size"])
        let d = try mapping(m["data"]!, "\(f).data", required: [], optional: ["train_subset", "test_subset"])
        return Sweep.Recipe(
            pretrain: try phase(m["pretrain"]!, "\(f).pretrain"), sparse: try phase(m["sparse"]!, "\(f).sparse", sparse: true),
            finetune: try phase(m["finetune"]!, "\(f).finetune"),
            pruning: PruningSettings(steps: try int(p["steps"]!, "\(f).pruning.steps"),
                                     calibrationBatches: try int(p["calibration_batches"]!, "\(f).pruning.calibration_batches"),
                                     calibrationBatchSize: try int(p["calibration_batch_size"]!, "\(f).pruning.calibration_batch_size")),
            data: DataSettings(trainSubset: try d["train_subset"].map { try int($0, "\(f).data.train_subset") },
                               testSubset: try d["test_subset"].map { try int($0, "\(f).data.test_subset") }))
    }
}
