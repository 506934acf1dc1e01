/// Picks the model state dict out of a checkpoint the way timm's `load_state_dict` does (spec §4.8)
/// and cleans its keys.
///
/// From a top-level dict it takes, in order: `state_dict_ema` then `model_ema` (both only with
/// `useEMA`, as in timm), `state_dict`, `model` — a key is taken only if its value is a dict or an
/// (inert) `nn.Module` object — else the object itself. It then strips the `_orig_mod.`
/// (torch.compile) and `module.` (DataParallel/DDP) prefixes, in either order and repeatedly, from
/// every key that has them. Infixes such as `features.module.0.weight` are left alone.
public struct StateDictSelection: Sendable {
    /// What the selection did, for a CLI line such as "took 'state_dict', stripped 'module.'".
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        /// The top-level key taken, or nil when the object itself is the state dict.
        public let takenKey: String?
        /// The prefixes stripped from at least one key, in the order first met.
        public let strippedPrefixes: [String]
        /// Entries of the state dict that are not tensors (or have non-string keys), skipped.
        public let skippedNonTensorCount: Int

        /// E.g. `took 'state_dict', stripped 'module.'`.
        public var description: String {
            let took = takenKey.map { "took '\($0)'" } ?? "took the top-level object"
            let stripped = strippedPrefixes.isEmpty ? "stripped nothing"
                : "stripped " + strippedPrefixes.map { "'\($0)'" }.joined(separator: " and ")
            let skipped = skippedNonTensorCount == 0 ? "" : ", skipped \(skippedNonTensorCount) non-tensor entr\(skippedNonTensorCount == 1 ? "y" : "ies")"
            return "\(took), \(stripped)\(skipped)"
        }
    }

    /// The prefixes removed from keys.
    public static let wrapperPrefixes = ["_orig_mod.", "module."]

    /// The state dict's tensors in order, with cleaned names.
    public let tensors: [(name: String, tensor: TorchTensor)]
    /// What was taken and stripped.
    public let report: Report

    /// Selects and cleans the state dict of `checkpoint` (as returned by `TorchCheckpoint.read`).
    /// - Parameters:
    ///   - useEMA: prefer `state_dict_ema` / `model_ema` when present.
    ///   - file: the name used in error messages.
    /// - Throws: if the selected value is not a dict or module, or two keys clash after stripping.
    public init(from checkpoint: PickleValue, useEMA: Bool = false, file: String = "checkpoint") throws {
        var takenKey: String?
        var selected = checkpoint
        if case .dict(let top) = checkpoint {
            let candidates = (useEMA ? ["state_dict_ema", "model_ema"] : []) + ["state_dict", "model"]
            for key in candidates {
                guard let value = top[key] else { continue }
                if case .dict = value {} else if TensorWalk.moduleState(value) == nil { continue }
                takenKey = key
                selected = value
                break
            }
        }
        var raw: [(name: String, tensor: TorchTensor)] = []
        var skipped = 0
        switch selected {
        case .dict(let dict):
            for entry in dict.entries {
                if case .string(let name) = entry.key, case .tensor(let tensor) = entry.value {
                    raw.append((name: name, tensor: tensor))
                } else {
                    skipped += 1
                }
            }
        default:
            guard let module = TensorWalk.moduleState(selected) else {
                let taken = takenKey.map { "'\($0)'" } ?? "the top-level object"
                throw TorchCheckpointError(.malformed, file: file,
                                           "\(taken) is a \(TorchCheckpointError.quote(selected.kindDescription)), not a state dict")
            }
            TensorWalk.appendStateDict(of: module, prefix: "", into: &raw)
        }
        var stripped: [String] = []
        var seen: [String: String] = [:]
        var cleaned: [(name: String, tensor: TorchTensor)] = []
        cleaned.reserveCapacity(raw.count)
        for (original, tensor) in raw {
            var name = Substring(original)
            stripping: while true {
                for prefix in Self.wrapperPrefixes where name.hasPrefix(prefix) {
                    name = name.dropFirst(prefix.count)
                    if !stripped.contains(prefix) { stripped.append(prefix) }
                    continue stripping
                }
                break
            }
            let key = String(name)
            if let other = seen[key] {
                throw TorchCheckpointError(.malformed, file: file,
                                           "keys '\(TorchCheckpointError.quote(other))' and '\(TorchCheckpointError.quote(original))' both become '\(TorchCheckpointError.quote(key))' after stripping wrapper prefixes")
            }
            seen[key] = original
            cleaned.append((name: key, tensor: tensor))
        }
        self.tensors = cleaned
        self.report = Report(takenKey: takenKey, strippedPrefixes: stripped, skippedNonTensorCount: skipped)
    }

    /// The tensor with a cleaned name, if any.
    public subscript(name: String) -> TorchTensor? {
        tensors.first(where: { $0.name == name })?.tensor
    }
}
