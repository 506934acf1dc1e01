import Experiments
import ArgumentParser
import Bench
import Cluster
import CSystem
import Foundation
import Tensor

/// `prunebench run`: runs one experiment of the grid and prints its result as JSON.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one experiment (pretrain or prune) from its spec; prints the result as JSON.",
        discussion: """
        The spec is an experiment's `spec` object as `prunebench grid --json` prints it, or a whole \
        experiment entry as printed there (`id`, `name`, `spec`, `needs`, `dataset_path`). Artifacts are kept by \
        experiment ID: <artifacts>/<id>/model.safetensors and result.json; a pruning experiment loads its \
        base from <artifacts>/<base id>/model.safetensors, so run the pretrain experiment first. Progress \
        goes to stderr.

        Example: prunebench grid --profile smoke --json | jq '.experiments[0]' | prunebench run --spec -
        """
    )

    @Option(help: "Experiment spec JSON file, or - for stdin.") var spec: String
    @Option(help: "Artifact directory.") var artifacts = "runs/artifacts"
    @Option(help: "Folder of the data set files: DIR, or NAME=DIR for one data set; repeatable (default: the entry's dataset_path if it exists, else where Debian installs them).")
    var dataDir: [String] = []
    @Option(help: "Threads (default: one per core).") var threads: Int?
    @Option(help: "The pretrained weights file of a base that imports weights (default: the entry's weights_path).")
    var weights: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let logger = LogSetup.logger("prunebench.run")
        // A cluster job dies with its worker daemon (cluster.md §9): no orphan keeps the cores busy.
        if ProcessInfo.processInfo.environment["PRUNEBENCH_PARENT_DEATH_SIGNAL"] == "1" {
            _ = prunebench_set_parent_death_signal(SIGKILL)
            if getppid() == 1 { throw ExitCode(EXIT_FAILURE) }  // the daemon died before the signal was armed
        }
        if let limit = ProcessInfo.processInfo.environment[OutOfMemory.limitVariable] {
            guard let bytes = rlim_t(limit), bytes > 0 else { throw CommandFailure("\(OutOfMemory.limitVariable)=\(limit) is not a byte count") }
            var rl = rlimit(rlim_cur: bytes, rlim_max: bytes)
            guard setrlimit(Int32(RLIMIT_AS.rawValue), &rl) == 0 else { throw CommandFailure("cannot cap the job's memory: errno \(errno)") }
        }
        if let threads { Parallel.setThreadCount(threads) }
        let data: Data
        do {
            data = spec == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: spec))
        } catch { throw CommandFailure("cannot read --spec \(spec): \(error.localizedDescription)") }
        let source = spec == "-" ? "stdin" : spec
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CommandFailure("\(source): not a JSON object")
        }
        let experiment: Experiment
        do {
            if object["spec"] != nil {
                experiment = try JSONDecoder().decode(Experiment.self, from: data)
            } else {
                experiment = Experiment(spec: try JSONDecoder().decode(ExperimentSpec.self, from: data))
            }
        } catch { throw CommandFailure("\(source): not an experiment spec: \(error)") }
        if experiment.id != experiment.spec.id {
            throw CommandFailure("\(source): 'id' \(experiment.id) does not match the spec's ID \(experiment.spec.id)")
        }
        if experiment.needs.contains("detector") {
            throw CommandFailure("experiment \(experiment.id) (\(experiment.name)) needs the detector, which prunebench does not have yet")
        }
        logger.info("running", metadata: ["id": "\(experiment.id)", "name": "\(experiment.name)", "threads": "\(Parallel.threadCount)"])
        MemoryTestHook.allocateIfAsked(experimentName: experiment.name)
        // The sweep's dataset_path is used when it exists on this machine; otherwise the default.
        var isDirectory: ObjCBool = false
        let sweepPath = experiment.datasetPath.flatMap {
            FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue ? $0 : nil
        }
        let folders: DataDirectories
        do { folders = try DataDirectories(parsing: dataDir) } catch { throw CommandFailure(error) }
        let folder = folders.directory(for: experiment.spec.dataset.name) ?? sweepPath
        let runner = ExperimentRunner(artifacts: artifacts, dataDirectory: folder) { logger.info("\($0)") }
        runner.weightsPath = weights ?? experiment.weightsPath
        do {
            let result = try runner.run(experiment.spec)
            print(String(decoding: try result.json(), as: UTF8.self))
        } catch { throw CommandFailure(error) }
    }
}
