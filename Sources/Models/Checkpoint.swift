import Experiments
import Foundation
import NN

/// Self-describing checkpoints: the state dict plus, in the safetensors metadata, the model's
/// ``ModelSpec`` (`prunebench.model`), so a checkpoint reopens without knowing how it was built.
/// A pruned checkpoint (`PrunedCheckpoint` in the Pruning module) adds its pruning history, which
/// is replayed on the spec's model to rebuild the pruned shapes, and every layer's width as a check.
public enum Checkpoint {
    public static let specKey = "prunebench.model"
    public static let formatKey = "format"

    /// Writes `model` (built from `spec`) to `path`, with `extra` metadata.
    public static func save(_ model: Model, spec: ModelSpec, to path: String, extra: [String: String] = [:]) throws {
        var st = model.stateDict()
        st.metadata = extra.merging([formatKey: "pt", specKey: spec.json()]) { $1 }
        try st.write(to: path)
    }

    /// Reads a checkpoint's tensors and its model description.
    public static func read(_ path: String) throws -> (file: SafeTensors, spec: ModelSpec) {
        let file = try SafeTensors.read(path)
        guard let raw = file.metadata[specKey] else {
            throw ModelSpecError("\(path): no '\(specKey)' metadata: not a prunebench checkpoint (a plain state dict needs --config)")
        }
        return (file, try ModelSpec.parse(Data(raw.utf8), source: "\(path) metadata '\(specKey)'"))
    }

    /// Opens an unpruned checkpoint: rebuilds the model from its metadata and loads the weights.
    /// (`PrunedCheckpoint.load` in the Pruning module also opens pruned ones.)
    public static func load(_ path: String) throws -> (model: Model, spec: ModelSpec, file: SafeTensors) {
        let (file, spec) = try read(path)
        let model = try spec.build()
        try model.load(file, source: path)
        return (model, spec, file)
    }
}
