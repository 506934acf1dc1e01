import NN

/// Torch-Pruning's `BasePruner` step (§7), on a ``DependencyGraph``.
///
/// Each ``step()`` re-enumerates the groups with current sizes, scores them, ranks them per scope
/// (one global scope, or one per group) against `int(initial_scope * (1 - ratio_k))` with
/// ratio_k = (k/N)·r in binary64, and applies the selected channels group by group.
public final class Pruner {
    public let graph: DependencyGraph
    public let config: PruningConfig
    public let criterion: any ImportanceCriterion
    /// Steps taken so far (the step counter; a step beyond N prunes nothing).
    public private(set) var stepsTaken = 0
    /// One record per applied group, in order (Torch-Pruning's pruning history).
    public private(set) var history: [PruningRecord] = []
    /// The calibration set of a data-driven criterion, drawn with the step index before every
    /// step (required when ``ImportanceCriterion/needsCalibration``).
    public var calibration: CalibrationSource?

    private let ignored: Set<String>
    private var initial: [PruningTarget: Int] = [:]
    private var initialScope: [String: Int] = [:]

    public init(model: Model, config: PruningConfig, criterion: (any ImportanceCriterion)? = nil) throws {
        graph = try DependencyGraph(model: model)
        self.config = config
        self.criterion = criterion ?? config.makeCriterion()
        ignored = Set(config.ignoredLayers)
        for name in config.ignoredLayers where !model.nodes.contains(where: { DependencyGraph.isIgnored($0.name, [name]) }) {
            throw PruningConfigError("pruning: field 'ignored_layers' names '\(name)', which is not a layer of the model")
        }
        for node in 1..<model.nodes.count {
            for side in [ChannelSide.out, .in, .inner] {
                let t = PruningTarget(node: node, side: side)
                if let c = graph.channels(t) { initial[t] = c }
            }
        }
    }

    /// The scheduled ratio of step k: (k/N)·r, evaluated in binary64 exactly as written.
    public func ratio(atStep k: Int) -> Double {
        (Double(k) / Double(config.iterativeSteps)) * config.pruningRatio
    }

    /// The hard floor of a layer side: max(1, ceil(C0·(1 − max_pruning_ratio) − 1e-9)).
    public func floor(of target: PruningTarget) -> Int? {
        guard let c0 = initial[target] else { return nil }
        return max(1, Int((Double(c0) * (1 - config.maxPruningRatio) - 1e-9).rounded(.up)))
    }

    /// Torch-Pruning's pre-step skip check: false if some item's layer already has fewer channels
    /// than initial·(1 − max_pruning_ratio) on its pruned side, or exactly 1.
    func passesProtection(_ g: Group) -> Bool {
        for item in g.items where item.target.node >= 0 {
            guard let c = graph.channels(item.target), let c0 = initial[item.target] else { continue }
            if Double(c) < Double(c0) * (1 - config.maxPruningRatio) || c == 1 { return false }
        }
        return true
    }

    /// How many root positions the group may lose this step under the hard floor (nil: no limit,
    /// when max_pruning_ratio = 1).
    func allowance(_ g: Group) -> Int? {
        guard config.maxPruningRatio < 1 else { return nil }
        var a = Int.max
        for item in g.items where item.target.node >= 0 && !item.indices.isEmpty {
            guard let c = graph.channels(item.target), let f = floor(of: item.target) else { continue }
            let perRoot = max(1, item.indices.count / max(1, Set(item.rootIndices).count))
            a = min(a, max(0, c - f) / perRoot)
        }
        return a
    }

    /// The `count` lowest positions of `scores` among `candidates`, by (score, position).
    static func lowest(_ count: Int, of scores: [Float], among candidates: [Int]) -> [Int] {
        Array(candidates.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(max(0, count)))
    }

    /// Channel-group folding (§6.4): scores of length C reshaped to (G, C/G) and averaged over G.
    static func fold(_ s: [Float], groups: Int) -> [Float] {
        guard groups > 1, s.count % groups == 0 else { return s }
        let w = s.count / groups
        return (0..<w).map { i in (0..<groups).reduce(Float(0)) { $0 + s[$1 * w + i] } / Float(groups) }
    }

    /// Runs one pruning step; returns the records of the groups it applied.
    @discardableResult
    public func step() throws -> [PruningRecord] {
        stepsTaken += 1
        guard stepsTaken <= config.iterativeSteps else { return [] }
        let ratio = ratio(atStep: stepsTaken)
        if criterion.needsCalibration {
            guard let calibration else {
                preconditionFailure("pruning: criterion '\(criterion.name)' needs calibration data (Pruner.calibration)")
            }
            criterion.prepare(graph: graph, batches: try calibration(stepsTaken))
        }
        defer { criterion.releaseCalibration() }

        // Phase 1: score and assign scopes.
        var scopes: [(key: String, entries: [(group: Group, scores: [Float])])] = []
        for g in graph.allGroups(ignoring: ignored) {
            guard passesProtection(g), let full = criterion.scores(of: g, in: graph) else { continue }
            let d = Self.fold(full, groups: graph.channelGroups(g))
            let key = config.globalPruning ? "<global>" : graph.name(g.rootNode)
            if let i = scopes.firstIndex(where: { $0.key == key }) { scopes[i].entries.append((g, d)) }
            else { scopes.append((key, [(g, d)])) }
        }

        // Phase 2: thresholds and removal.
        var records: [PruningRecord] = []
        for scope in scopes {
            let concat = scope.entries.flatMap(\.scores)
            if concat.isEmpty { continue }
            if initialScope[scope.key] == nil { initialScope[scope.key] = concat.count }
            let n = concat.count - Int(Double(initialScope[scope.key]!) * (1 - ratio))
            if n <= 0 { continue }
            let threshold = concat.sorted()[n - 1]
            for (g, d) in scope.entries {
                let positions = Array(d.indices)
                var selected = config.globalPruning ? positions.filter { d[$0] <= threshold }
                                                    : Self.lowest(n, of: d, among: positions)
                let c = graph.channels(g.root) ?? d.count
                if let r = config.roundTo, !selected.isEmpty {
                    let kept = (c - selected.count) / r * r
                    selected = Self.lowest(max(c - kept, 0), of: d, among: positions)
                }
                let cg = graph.channelGroups(g)
                if let a0 = allowance(g), case let a = a0 / cg, selected.count > a {
                    var limit = a
                    if let r = config.roundTo {
                        // The floor wins over round_to: keep the smallest multiple of round_to >= c - a.
                        let kept = (c - a + r - 1) / r * r
                        limit = max(0, c - kept)
                    }
                    selected = Self.lowest(limit, of: d, among: selected)
                }
                // Channel groups: each relative position is removed in every channel group (§7.3 step 6).
                if cg > 1 { selected = (0..<cg).flatMap { k in selected.map { $0 + k * d.count } } }
                let group = graph.group(root: g.root, indices: Array(Set(selected)).sorted())
                guard graph.isValid(group) else { continue }
                let record = graph.apply(group)
                records.append(record)
            }
        }
        history += records
        return records
    }

    /// The outcome of ``prune(counting:)``.
    public struct Outcome: Sendable {
        public var macsBefore: Int, macsAfter: Int
        public var paramsBefore: Int, paramsAfter: Int
        public var steps: Int
        /// Wall time of each step in seconds.
        public var stepSeconds: [Double]
        /// Wall time of the whole run: every step and every MAC recount (not the initial count).
        public var totalSeconds: Double
        public var speedup: Double { Double(macsBefore) / Double(macsAfter) }
    }

    /// Called by ``run()`` after each step with the number of steps taken and, when the schedule has
    /// a target, the speed-up reached so far (for progress reports).
    public var onStep: ((_ steps: Int, _ speedup: Double?) -> Void)?

    /// Runs the configured schedule: with a target speed-up, steps until base/current MACs reaches
    /// it (or step N ran); otherwise all N steps.
    public func run() throws -> Outcome {
        if criterion.needsCalibration && calibration == nil {
            throw PruningConfigError("pruning: importance '\(criterion.name)' is data-driven and needs calibration data, which this run does not provide")
        }
        let before = try graph.model.counts()
        var macs = before.macs, times: [Double] = []
        let start = ContinuousClock.now
        for _ in 0..<config.iterativeSteps {
            let t0 = ContinuousClock.now
            try step()
            let dt = ContinuousClock.now - t0
            times.append(Double(dt.components.seconds) + Double(dt.components.attoseconds) * 1e-18)
            if let target = config.targetSpeedup {
                macs = try graph.model.counts().macs
                onStep?(stepsTaken, Double(before.macs) / Double(macs))
                if Double(before.macs) / Double(macs) >= target { break }
            } else {
                onStep?(stepsTaken, nil)
            }
        }
        let total = ContinuousClock.now - start
        let after = try graph.model.counts()
        return Outcome(macsBefore: before.macs, macsAfter: after.macs, paramsBefore: before.parameters,
                       paramsAfter: after.parameters, steps: stepsTaken, stepSeconds: times,
                       totalSeconds: Double(total.components.seconds) + Double(total.components.attoseconds) * 1e-18)
    }
}
