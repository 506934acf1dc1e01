/// The opcodes that "call" something — REDUCE, NEWOBJ, BUILD, BINPERSID — implemented as data
/// constructors for the resolved globals only. Nothing is ever executed.
extension PickleMachine {
    /// The most dimensions a tensor may have.
    static let maxRank = 64

    mutating func reduce() throws {
        let args = try pop()
        let callable = try pop()
        guard case .global(let global) = callable else {
            throw malformed("REDUCE needs a global to call, found \(callable.kindName)")
        }
        let a = nodes[try nodeIndex(args, [.tuple], "the REDUCE arguments")].items
        switch global {
        case .orderedDict:
            guard a.isEmpty else { throw malformed("collections.OrderedDict must be called with no arguments") }
            push(newDict(typeName: global.qualifiedName))
        case .dictLike:
            let dict = newDict(typeName: global.qualifiedName)
            // Counter(dict) carries its items as the argument; defaultdict's argument is the factory.
            if global == .dictLike(module: "collections", name: "Counter"), let first = a.first,
               case .node(let source) = first, nodes[source].kind == .dict, case .node(let d) = dict {
                for (k, v) in zip(nodes[source].keys, nodes[source].items) { setItem(d, key: k, value: v) }
            }
            push(dict)
        case .setLike:
            let set = newNode(.set)
            if let first = a.first, case .node(let source) = first,
               [.list, .tuple, .set].contains(nodes[source].kind), case .node(let s) = set {
                for item in nodes[source].items { addToSet(s, item) }
            }
            push(set)
        case .rebuildTensorV2:
            push(try rebuildTensor(a))
        case .rebuildParameter, .rebuildParameterWithState:
            push(try rebuildParameter(a, expected: global == .rebuildParameter ? 3 : 4))
        case .namespace, .inert:
            push(newObject(global, args: a))
        case .storage:
            throw error(.refusedGlobal(global.qualifiedName),
                        "calling \(global.qualifiedName) is not allowed (storages come from persistent ids); nothing was loaded")
        }
    }

    mutating func newObj() throws {
        let args = try pop()
        let cls = try pop()
        guard case .global(let global) = cls else {
            throw malformed("NEWOBJ needs a class, found \(cls.kindName)")
        }
        let a = nodes[try nodeIndex(args, [.tuple], "the NEWOBJ arguments")].items
        switch global {
        case .namespace, .inert: push(newObject(global, args: a))
        case .orderedDict, .dictLike: push(newDict(typeName: global.qualifiedName))
        case .setLike: push(newNode(.set))
        case .rebuildTensorV2, .rebuildParameter, .rebuildParameterWithState, .storage:
            throw error(.refusedGlobal(global.qualifiedName),
                        "NEWOBJ on \(global.qualifiedName) is not allowed; nothing was loaded")
        }
    }

    mutating func build() throws {
        let state = try pop()
        let target = try top()
        let index = try nodeIndex(target, [.dict, .object], "the BUILD target")
        switch state {
        case .none: break
        case .node(let s) where nodes[s].kind == .dict || nodes[s].kind == .tuple: break
        case .node(let s): throw malformed("BUILD state must be a dict or tuple, not \(nodes[s].kindName)")
        default: throw malformed("BUILD state must be a dict or tuple, not \(state.kindName)")
        }
        nodes[index].state = state
    }

    /// `BINPERSID`: only `('storage', ...)` ids, in the shape of the container's format.
    mutating func persistentLoad() throws {
        let pid = try pop()
        guard format != .none else {
            throw error(.unsupported, "a persistent id in a bare pickle: no storage records to resolve it")
        }
        guard case .node(let p) = pid, nodes[p].kind == .tuple, case .string(let tag)? = nodes[p].items.first else {
            throw error(.unsupported, "refused persistent id of type \(pid.kindName): only ('storage', ...) tuples are allowed; nothing was loaded")
        }
        let a = nodes[p].items
        if tag == "module" {
            throw error(.unsupported, "a ('module', ...) persistent id: the file pickles a whole nn.Module (legacy torch.save(model)); save model.state_dict() instead")
        }
        guard tag == "storage" else {
            throw error(.unsupported, "refused persistent id ('\(TorchCheckpointError.quote(tag))', ...): only ('storage', ...) is allowed; nothing was loaded")
        }
        let expected = format == .zip ? 5 : 6
        guard a.count == expected else {
            throw malformed("a storage persistent id has \(a.count) fields; the \(format == .zip ? "zip" : "legacy") format has \(expected)")
        }
        guard case .global(.storage(let dtype)) = a[1] else {
            throw malformed("the storage type must be a torch.<Type>Storage global, not \(a[1].kindName)")
        }
        guard case .string(let key) = a[2], !key.isEmpty, key.utf8.count <= 1024 else {
            throw malformed("the storage key must be a non-empty string")
        }
        guard case .string = a[3] else { throw malformed("the storage location must be a string") }
        let numel = try intArg(a[4], "the storage numel")
        guard !numel.multipliedReportingOverflow(by: dtype.elementSize).overflow else {
            throw error(.limitExceeded, "storage numel \(numel) is too large")
        }
        var viewOffset = 0
        var viewCount = numel
        if format == .legacy, case .node(let v) = a[5] {
            let view = nodes[v].items
            guard nodes[v].kind == .tuple, view.count == 3, case .string = view[0] else {
                throw malformed("legacy view metadata must be (view_key, offset, size)")
            }
            viewOffset = try intArg(view[1], "the view offset")
            viewCount = try intArg(view[2], "the view size")
            guard viewOffset <= numel, viewCount <= numel - viewOffset else {
                throw malformed("the legacy storage view [\(viewOffset), +\(viewCount)) lies outside its storage of \(numel) elements")
            }
        } else if format == .legacy, !isNone(a[5]) {
            throw malformed("legacy view metadata must be None or a tuple, not \(a[5].kindName)")
        }
        if let known = storageRefs[key], known.dtype != dtype || known.numel != numel {
            throw malformed("storage '\(TorchCheckpointError.quote(key))' is named both as \(known.numel) x \(known.dtype) and as \(numel) x \(dtype)")
        }
        let ref = StorageRef(key: key, dtype: dtype, numel: numel, viewOffset: viewOffset, viewCount: viewCount)
        if storageRefs[key] == nil { storageRefs[key] = ref }
        push(.storage(ref))
    }

    // MARK: - Constructors

    mutating func newDict(typeName: String) -> PObj {
        var node = Node(kind: .dict)
        node.typeName = typeName
        return newNode(node)
    }

    mutating func newObject(_ global: ResolvedGlobal, args: [PObj]) -> PObj {
        var node = Node(kind: .object)
        switch global {
        case .inert(let module, let name):
            node.module = module
            node.name = name
        default:
            node.module = "argparse"
            node.name = "Namespace"
        }
        node.items = args
        return newNode(node)
    }

    func isNone(_ value: PObj) -> Bool {
        if case .none = value { return true }
        return false
    }

    func intArg(_ value: PObj, _ role: String) throws -> Int {
        guard case .int(let i) = value else { throw malformed("\(role) must be an int, not \(value.kindName)") }
        guard i >= 0, i <= Int64(Int.max / 16) else { throw malformed("\(role) \(i) is out of range") }
        return Int(i)
    }

    func intTuple(_ value: PObj, _ role: String) throws -> [Int] {
        let items = nodes[try nodeIndex(value, [.tuple], role)].items
        guard items.count <= Self.maxRank else { throw error(.limitExceeded, "\(role) has \(items.count) dimensions") }
        return try items.map { try intArg($0, "an element of \(role)") }
    }

    func boolArg(_ value: PObj, _ role: String) throws -> Bool {
        switch value {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        default: throw malformed("\(role) must be a bool, not \(value.kindName)")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    mutating func rebuildTensor(_ a: [PObj]) throws -> PObj {
        guard a.count == 6 || a.count == 7 else {
            throw malformed("_rebuild_tensor_v2 takes 6 or 7 arguments, got \(a.count)")
        }
        guard case .storage(let storage) = a[0] else {
            throw malformed("the first argument of _rebuild_tensor_v2 must be a storage (persistent id), not \(a[0].kindName)")
        }
        let offset = try intArg(a[1], "the storage offset")
        let shape = try intTuple(a[2], "the size")
        let stride = try intTuple(a[3], "the stride")
        guard shape.count == stride.count else {
            throw malformed("size has \(shape.count) dimension(s) but stride has \(stride.count)")
        }
        let requiresGrad = try boolArg(a[4], "requires_grad")
        var node = Node(kind: .tensor)
        node.tensor = PendingTensor(storage: storage, offset: offset, shape: shape, stride: stride, requiresGrad: requiresGrad)
        return newNode(node)
    }

    /// `_rebuild_parameter(tensor, requires_grad, backward_hooks)` (and `_with_state`, whose state is ignored).
    mutating func rebuildParameter(_ a: [PObj], expected: Int) throws -> PObj {
        guard a.count == expected else { throw malformed("_rebuild_parameter takes \(expected) arguments, got \(a.count)") }
        let source = try nodeIndex(a[0], [.tensor], "the parameter's data")
        guard var pending = nodes[source].tensor else { throw malformed("the parameter's data is not a tensor") }
        pending.requiresGrad = try boolArg(a[1], "requires_grad")
        var node = Node(kind: .tensor)
        node.tensor = pending
        return newNode(node)
    }
}
