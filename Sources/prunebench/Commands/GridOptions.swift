import ArgumentParser
import Bench
import Experiments

/// The sweep, profile, filters and seeds shared by `grid` and `sweep`.
struct GridOptions: ParsableArguments {
    @Option(help: "Sweep file (default: the built-in copy of cluster/sweeps/fashion.yaml).") var sweep: String?
    @Option(help: "Profile: smoke, default or paper (default: the sweep's default_profile).") var profile: String?
    @Option(help: "Only this leaderboard (repeatable).") var leaderboard: [String] = []
    @Option(help: "Only this model: a sweep model name or an architecture (repeatable).") var model: [String] = []
    @Option(help: "Only this method row key, e.g. l1 or group_slim (repeatable).") var method: [String] = []
    @Option(help: "Only this scheme: global_protected, global_unprotected or local (repeatable).") var scheme: [String] = []
    @Option(help: "Only this speedup target, e.g. 2 (repeatable).") var speedup: [Double] = []
    @Option(help: "Repeat every cell with seeds 0..N-1 (pretrain per seed too).") var seeds = 1
    @Option(help: "Start a sweep model from pretrained weights instead of its pretrain recipe: MODEL=FILE (safetensors or .pth; repeatable; profiles with width_scale 1).")
    var weights: [String] = []

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        for s in scheme where Scheme(rawValue: s) == nil {
            throw ValidationError("--scheme: '\(s)' is not one of \(Scheme.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The filtered grid of the chosen sweep and profile, every experiment costed.
    func makeGrid() throws -> Grid {
        let filter = GridFilter(leaderboards: Set(leaderboard), models: Set(model), methods: Set(method),
                                schemes: Set(scheme.compactMap(Scheme.init(rawValue:))), speedups: Set(speedup))
        var loaded = try sweep.map { try Sweep.load(path: $0) } ?? Sweep.embeddedFashion()
        try loaded.setWeights(weights)
        var grid = try Grid(sweep: loaded, profile: profile, seeds: seeds, filter: filter)
        try grid.estimateCosts()
        return grid
    }
}
