import ArgumentParser
import Cluster
import Experiments
import Foundation

/// `prunebench worker`: a worker daemon that runs the coordinator's experiments as child processes.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker daemon: connect to a coordinator, run its experiments in N slots, keep results until acknowledged.",
        discussion: """
        Each experiment runs as a child `prunebench run` process with cores / slots threads (or --threads). \
        Results wait in WORK/outbox until the coordinator acknowledges them, so a worker or coordinator \
        crash loses nothing. SIGINT/SIGTERM stop the daemon and its jobs; the coordinator re-queues them.
        """
    )

    @Option(help: "Coordinator endpoint, e.g. tcp://HOST:5555.") var connect: String
    @Option(help: "Job slots.") var slots = 1
    @Option(help: "Threads per job (default: cores / slots).") var threads: Int?
    @Option(help: "Worker ID (default: the host name).") var id: String?
    @Option(help: "Work directory (attempt directories, cached checkpoints, outbox).") var work = "runs/worker"
    @Option(help: "Folder of the data set files: DIR for every data set, NAME=DIR for one (imagenet=/data/imagenet); repeatable (default: the sweep's path, else Debian's).")
    var dataDir: [String] = []
    @Option(help: "This worker's CURVE key file (prunebench keygen).") var key: String?
    @Option(help: "The coordinator's public key (file or Z85 text).") var serverKey: String?
    @Flag(help: "Exit when the coordinator reports the sweep complete and no job runs.") var exitWhenComplete = false
    @Option(help: "Cap each job's memory (address space) at this many GB; a job that runs out is recorded as oom.") var jobMemory: Double?

    func validate() throws {
        guard slots >= 1, slots <= 1024 else { throw ValidationError("--slots must be 1...1024") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if (key == nil) != (serverKey == nil) { throw ValidationError("--key and --server-key go together") }
        if let jobMemory, !(jobMemory >= 0.1 && jobMemory <= 1_000_000) { throw ValidationError("--job-memory must be a number of GB from 0.1") }
    }

    func run() throws {
        let logger = LogSetup.logger("prunebench.worker")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workerID = id ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "worker"
        var config = WorkerConfig(workerID: workerID, endpoint: connect, slots: slots, threadsPerJob: threads ?? WorkerConfig.threadsPerJob(cores: cores, jobs: slots),
                                  root: URL(fileURLWithPath: work).standardizedFileURL.path, executable: SweepCommand.executablePath())
        do { config.dataDirectories = try DataDirectories(parsing: dataDir) } catch { throw CommandFailure(error) }
        config.exitWhenComplete = exitWhenComplete
        config.jobMemoryBytes = jobMemory.map { Int($0 * 1e9) }
        let daemon: WorkerDaemon
        do {
            if let key, let serverKey {
                config.curve = CurveSettings(keys: try CurveKeyPair.load(key), serverPublicKey: try CurveKeyPair.loadPublicKey(serverKey))
            }
            daemon = try WorkerDaemon(config: config, logger: logger)
        } catch { throw CommandFailure(error) }
        let stop = SignalFlag([SIGINT, SIGTERM])
        defer { stop.stop() }
        do { try daemon.run { stop.isSet } } catch { throw CommandFailure(error) }
    }
}
