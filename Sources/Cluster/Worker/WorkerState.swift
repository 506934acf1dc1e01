import Experiments
import Foundation

/// Checkpoints the worker holds, by SHA-256: those its pretrain jobs produced and those it
/// fetched. `<root>/<experiment>/model.sha256` marks each, so the cache survives restarts.
final class CheckpointCache {
    let root: String
    private var paths: [String: String] = [:]

    init(root: String) {
        self.root = root
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            let marker = "\(root)/\(name)/model.sha256", model = "\(root)/\(name)/model.safetensors"
            if let d = try? String(contentsOfFile: marker, encoding: .utf8), fm.fileExists(atPath: model) {
                paths[d.trimmingCharacters(in: .whitespacesAndNewlines)] = model
            }
        }
    }

    var digests: [String] { paths.keys.sorted() }
    func path(_ digest: String) -> String? { paths[digest] }

    func add(digest: String, path: String) {
        paths[digest] = path
        let marker = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("model.sha256")
        try? Data((digest + "\n").utf8).write(to: marker, options: .atomic)
    }

    /// Registers the checkpoint of a finished experiment.
    func addResult(_ r: ExperimentResult) {
        add(digest: r.metrics.checkpointSHA256, path: "\(root)/\(r.id)/model.safetensors")
    }
}

/// The daemon's record of its running attempts (cluster.md §7.2): one empty file per attempt in
/// `<root>/running/`, created before the job starts and removed once its result is in the outbox.
final class RunningRecords {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    private func path(_ ref: AttemptRef) -> String { "\(directory)/\(ref.experiment)-\(ref.attempt)" }

    func add(_ ref: AttemptRef) throws {
        guard FileManager.default.createFile(atPath: path(ref), contents: nil) else { throw ClusterError("cannot create \(path(ref))") }
    }

    func remove(_ ref: AttemptRef) { try? FileManager.default.removeItem(atPath: path(ref)) }

    /// Every recorded attempt with the time it was recorded.
    func all() -> [(AttemptRef, Date)] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { name in
            let parts = name.split(separator: "-")
            guard parts.count == 2, parts[0].count == 64, let n = Int(parts[1]) else { return nil }
            let date = (try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)"))?[.modificationDate] as? Date
            return (AttemptRef(String(parts[0]), n), date ?? .distantPast)
        }
    }
}
