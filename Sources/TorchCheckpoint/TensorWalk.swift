/// Collects the tensors of a `PickleValue` tree with their key-path names (see `TorchCheckpoint.tensors(in:)`).
/// Converted trees are bounded in depth and expanded size, so the recursion here is bounded too.
enum TensorWalk {
    static func join(_ path: String?, _ part: String, separator: String = "/") -> String {
        guard let path else { return part }
        return path + separator + part
    }

    static func collect(_ value: PickleValue, path: String?, into out: inout [(name: String, tensor: TorchTensor)]) {
        switch value {
        case .tensor(let tensor):
            out.append((name: path ?? "", tensor: tensor))
        case .dict(let dict):
            for entry in dict.entries { collect(entry.value, path: join(path, entry.key.keyText), into: &out) }
        case .list(let items), .tuple(let items), .set(let items):
            for (i, item) in items.enumerated() { collect(item, path: join(path, String(i)), into: &out) }
        case .object(_, _, let args, let state):
            if let module = moduleState(value) {
                var entries: [(name: String, tensor: TorchTensor)] = []
                appendStateDict(of: module, prefix: "", into: &entries)
                for entry in entries { out.append((name: join(path, entry.name), tensor: entry.tensor)) }
                return
            }
            if let state { collect(state, path: path, into: &out) }
            for (i, arg) in args.enumerated() { collect(arg, path: join(path, String(i)), into: &out) }
        case .none, .bool, .int, .bigInt, .float, .string, .bytes, .global:
            break
        }
    }

    /// The state dict of an inert `nn.Module` object: its BUILD state when that holds `_parameters`,
    /// `_buffers` or `_modules` (as every `torch.nn.Module.__dict__` does), else nil.
    static func moduleState(_ value: PickleValue) -> PickleDict? {
        guard case .object(_, _, _, let state?) = value else { return nil }
        let dict: PickleDict
        switch state {
        case .dict(let d): dict = d
        case .tuple(let parts):
            guard let first = parts.first, case .dict(let d) = first else { return nil }
            dict = d
        default: return nil
        }
        guard dict["_parameters"] != nil || dict["_modules"] != nil || dict["_buffers"] != nil else { return nil }
        return dict
    }

    /// `module.state_dict()` order: own parameters, own persistent buffers, then each submodule
    /// (`None` entries skipped), names joined with `.`.
    static func appendStateDict(of module: PickleDict, prefix: String, into out: inout [(name: String, tensor: TorchTensor)]) {
        if case .dict(let parameters)? = module["_parameters"] {
            for entry in parameters.entries {
                if case .tensor(let t) = entry.value { out.append((name: prefix + entry.key.keyText, tensor: t)) }
            }
        }
        if case .dict(let buffers)? = module["_buffers"] {
            let nonPersistent = Set(stringElements(of: module["_non_persistent_buffers_set"]))
            for entry in buffers.entries where !nonPersistent.contains(entry.key.keyText) {
                if case .tensor(let t) = entry.value { out.append((name: prefix + entry.key.keyText, tensor: t)) }
            }
        }
        if case .dict(let modules)? = module["_modules"] {
            for entry in modules.entries {
                if let child = moduleState(entry.value) {
                    appendStateDict(of: child, prefix: prefix + entry.key.keyText + ".", into: &out)
                }
            }
        }
    }

    /// The strings of a set/list/tuple value, or of an inert `builtins.set([...])` record.
    static func stringElements(of value: PickleValue?) -> [String] {
        switch value {
        case .set(let items)?, .list(let items)?, .tuple(let items)?:
            return items.compactMap(\.stringValue)
        case .object(_, _, let args, _)?:
            return args.flatMap { stringElements(of: $0) }
        default:
            return []
        }
    }
}
