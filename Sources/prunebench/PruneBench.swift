import ArgumentParser

@main
struct PruneBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prunebench",
        abstract: "Structural pruning benchmark for vision models (PruningBench, in Swift).",
        subcommands: [Train.self, ModelsCommand.self, Inspect.self, Benchmark.self, Prune.self, GridCommand.self, Run.self, SweepCommand.self, LeaderboardCommand.self,
                      CoordinatorCommand.self, WorkerCommand.self, StatusCommand.self, DrainCommand.self, CancelCommand.self,
                      KeygenCommand.self, MergeCommand.self, DatasetCommand.self, ImportCommand.self, ExportCommand.self, MapCommand.self]
    )
}
