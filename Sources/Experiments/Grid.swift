import Foundation

/// Which cells of a sweep to expand; an empty set means "all".
public struct GridFilter: Sendable, Equatable {
    public var leaderboards: Set<String> = []
    /// Model names from the sweep (`resnet18_cifar`) or architectures (`resnet18`).
    public var models: Set<String> = []
    public var methods: Set<String> = []
    public var schemes: Set<Scheme> = []
    public var speedups: Set<Double> = []

    public init(leaderboards: Set<String> = [], models: Set<String> = [], methods: Set<String> = [],
                schemes: Set<Scheme> = [], speedups: Set<Double> = []) {
        self.leaderboards = leaderboards; self.models = models; self.methods = methods; self.schemes = schemes; self.speedups = speedups
    }
}

/// A sweep expanded into experiments: the pruning experiments of every (selected) leaderboard cell,
/// repeated per seed, and the pretrain experiments they depend on (one per dataset, model and seed).
public struct Grid: Sendable {
    public let sweep: Sweep
    public let profile: String
    public let seeds: Int
    /// Pretrain experiments, each once, in first-use order.
    public private(set) var pretrain: [Experiment]
    /// Pruning experiments in board, seed, speedup, row order.
    public private(set) var pruning: [Experiment]

    /// All experiments: pretrain first, so every base precedes its dependents.
    public var all: [Experiment] { pretrain + pruning }

    /// Pruning experiments per leaderboard, in the sweep's board order (boards with none omitted).
    public var countsByLeaderboard: [(leaderboard: String, count: Int)] {
        var counts = [String: Int]()
        for e in pruning { counts[e.spec.leaderboard!, default: 0] += 1 }
        return sweep.leaderboards.compactMap { b in counts[b.key].map { (b.key, $0) } }
    }

    public init(sweep: Sweep, profile: String? = nil, seeds: Int = 1, filter: GridFilter = GridFilter()) throws {
        let profileName = profile ?? sweep.defaultProfile
        guard let prof = sweep.profiles[profileName] else {
            throw SweepError("\(sweep.name): profile '\(profileName)' is not defined (\(sweep.profiles.keys.sorted().joined(separator: ", ")))")
        }
        guard seeds >= 1 else { throw SweepError("--seeds must be at least 1, got \(seeds)") }
        try Self.checkFilter(filter, sweep: sweep)
        self.sweep = sweep; self.profile = profileName; self.seeds = seeds

        var pretrain = [Experiment]()
        var pretrainIDs = Set<String>()
        var pruning = [Experiment]()
        for board in sweep.leaderboards {
            let dataset = sweep.datasets[board.dataset]!, model = sweep.models[board.model]!, recipe = prof.recipes[board.recipe]!
            guard filter.leaderboards.isEmpty || filter.leaderboards.contains(board.key),
                  filter.models.isEmpty || filter.models.contains(board.model) || filter.models.contains(model.spec.arch),
                  filter.schemes.isEmpty || filter.schemes.contains(board.scheme) else { continue }
            let needs = Array(Set(dataset.needs + model.needs)).sorted()
            let modelSpec = model.needs.isEmpty ? Self.scaled(model.spec, by: prof.widthScale) : model.spec
            // Pretrained weights replace the pretrain recipe where the model keeps its width.
            let weights = modelSpec == model.spec ? try model.weights.map { file in
                guard let digest = try? ContentDigest.file(atPath: file) else {
                    throw SweepError("\(sweep.name): models.\(board.model).weights: '\(file)' cannot be read (a safetensors or torch.save file)")
                }
                return (file, WeightsRef(sha256: digest))
            } : nil
            for seed in 0..<seeds {
                let base = ExperimentSpec(kind: .pretrain, task: board.task, model: modelSpec, dataset: dataset.ref, profile: profileName,
                                          settings: ExperimentSettings(pretrain: weights == nil ? recipe.pretrain : nil, data: recipe.data),
                                          seed: seed, weights: weights?.1)
                let baseID = base.id
                var used = false
                for speedup in board.speedups where filter.speedups.isEmpty || filter.speedups.contains(speedup) {
                    for row in board.rows where filter.methods.isEmpty || filter.methods.contains(row) {
                        let regularized = LeaderboardRow.named(row)?.regularizer != nil
                        let settings = ExperimentSettings(sparse: regularized ? recipe.sparse : nil, finetune: recipe.finetune,
                                                          pruning: recipe.pruning, data: recipe.data)
                        let spec = ExperimentSpec(kind: .prune, task: board.task, model: modelSpec, dataset: dataset.ref, method: row,
                                                  scheme: board.scheme, speedup: speedup, leaderboard: board.key, base: baseID,
                                                  profile: profileName, settings: settings, seed: seed)
                        pruning.append(Experiment(spec: spec, needs: needs, datasetPath: dataset.path))
                        used = true
                    }
                }
                if used, pretrainIDs.insert(baseID).inserted {
                    pretrain.append(Experiment(spec: base, needs: needs, datasetPath: dataset.path, weightsPath: weights?.0))
                }
            }
        }
        self.pretrain = pretrain
        self.pruning = pruning
    }

    /// Sets the ``Experiment/cost`` of every runnable experiment (those that need nothing the
    /// project lacks) from its model's MAC count (`macs`, called once per distinct model) and its settings.
    public mutating func estimateCosts(macs: (ModelSpec) throws -> Int) rethrows {
        var cache = [String: Int]()
        func cost(_ e: Experiment) throws -> Experiment {
            guard e.needs.isEmpty else { return e }
            let key = e.spec.model.json()
            let m = try cache[key] ?? macs(e.spec.model)
            cache[key] = m
            var costed = e
            costed.cost = ExperimentCost.estimate(e.spec, macs: m)
            return costed
        }
        pretrain = try pretrain.map(cost)
        pruning = try pruning.map(cost)
    }

    /// The model with the profile's width scale applied (CNN width; ViT embedding and MLP sizes,
    /// kept divisible by the head count).
    static func scaled(_ spec: ModelSpec, by scale: Double) -> ModelSpec {
        guard scale != 1 else { return spec }
        var s = spec
        if ModelSpec.cnnArchitectures.contains(spec.arch) {
            s.width = (spec.width ?? 1) * scale
        } else if let embed = spec.embedDim, let heads = spec.numHeads, let mlp = spec.mlpHidden {
            s.embedDim = max(1, Int((Double(embed) * scale / Double(heads)).rounded())) * heads
            s.mlpHidden = max(1, Int((Double(mlp) * scale).rounded()))
        }
        return s
    }

    /// Rejects filter values that match nothing in the sweep (a typo should not give an empty grid).
    static func checkFilter(_ filter: GridFilter, sweep: Sweep) throws {
        let boards = Set(sweep.leaderboards.map(\.key))
        if let bad = filter.leaderboards.subtracting(boards).sorted().first {
            throw SweepError("leaderboard '\(bad)' is not in sweep '\(sweep.name)' (\(boards.sorted().joined(separator: ", ")))")
        }
        let models = Set(sweep.models.keys).union(sweep.models.values.map(\.spec.arch))
        if let bad = filter.models.subtracting(models).sorted().first {
            throw SweepError("model '\(bad)' is not in sweep '\(sweep.name)' (\(models.sorted().joined(separator: ", ")))")
        }
        if let bad = filter.methods.subtracting(LeaderboardRow.keys).sorted().first {
            throw SweepError("method '\(bad)' is not a leaderboard row (\(LeaderboardRow.keys.joined(separator: ", ")))")
        }
        let speedups = Set(sweep.leaderboards.flatMap(\.speedups))
        if let bad = filter.speedups.subtracting(speedups).sorted().first {
            throw SweepError("speedup \(JSONValue.format(bad)) is not a target in sweep '\(sweep.name)' (\(speedups.sorted().map(JSONValue.format).joined(separator: ", ")))")
        }
    }
}
