import Experiments
import Foundation
import Models
import NN

/// Checkpoints of pruned models: the full pruned state dict plus, in the metadata, the model's
/// ``ModelSpec`` (`prunebench.model`), every layer's out width (`prunebench.widths`) and the
/// pruning history (`prunebench.pruning_history`: `[[root, is_out, [indices]], ...]`), which
/// rebuilds the pruned shapes from the spec.
public enum PrunedCheckpoint {
    public static let widthsKey = "prunebench.widths"
    public static let historyKey = "prunebench.pruning_history"

    /// Each layer's width entries as its adapter declares them
    /// (``PrunableLayer/checkpointWidths(module:)``): module name → out channels (conv, linear) or
    /// channels (batch norm, layer norm); for a ViT attention, `<name>.qkv` → qkv out features and
    /// `<name>.proj` → proj out features. Kinds without widths (and without an adapter) add none.
    public static func widths(_ model: Model) -> [String: Int] {
        var w: [String: Int] = [:]
        for node in model.nodes.dropFirst() {
            for (key, width) in PrunableLayers.adapter(for: node.layer)?.checkpointWidths(module: Model.moduleName(node.name)) ?? [] {
                w[key] = width
            }
        }
        return w
    }

    static func jsonString(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Writes the pruned `model` (built from `spec`, pruned by `history`) to `path`.
    public static func save(_ model: Model, spec: ModelSpec, history: [PruningRecord], to path: String,
                            extra: [String: String] = [:]) throws {
        let records: [[Any]] = history.map { [$0.root, $0.isOut, $0.indices] }
        var metadata = extra
        metadata[widthsKey] = try jsonString(widths(model))
        metadata[historyKey] = try jsonString(records)
        try Checkpoint.save(model, spec: spec, to: path, extra: metadata)
    }

    /// Reopens a pruned checkpoint: builds the spec's model, replays the history, loads the weights
    /// and checks the widths.
    public static func load(_ path: String) throws -> (model: Model, spec: ModelSpec, history: [PruningRecord]) {
        let (file, spec) = try Checkpoint.read(path)
        let model = try spec.build()
        var history: [PruningRecord] = []
        if let h = file.metadata[historyKey] {
            guard let list = try JSONSerialization.jsonObject(with: Data(h.utf8)) as? [[Any]] else {
                throw PruningGraphError("\(path): metadata '\(historyKey)' is not a list of records")
            }
            for r in list {
                guard r.count == 3, let root = r[0] as? String, let isOut = r[1] as? Bool, let idx = r[2] as? [Int] else {
                    throw PruningGraphError("\(path): metadata '\(historyKey)' has a malformed record")
                }
                history.append(PruningRecord(root: root, isOut: isOut, indices: idx))
            }
            try DependencyGraph(model: model).replay(history)
        }
        try model.load(file, source: path)
        if let w = file.metadata[widthsKey],
           let expected = try JSONSerialization.jsonObject(with: Data(w.utf8)) as? [String: Int], expected != widths(model) {
            throw PruningGraphError("\(path): the replayed widths differ from metadata '\(widthsKey)'")
        }
        return (model, spec, history)
    }
}
