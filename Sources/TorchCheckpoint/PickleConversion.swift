/// Storage bytes of one checkpoint: each storage located (and size-checked) once, each distinct view
/// copied once, so tensors sharing a storage or a memo entry share the lookup and the bytes.
final class StorageBytes {
    let bytes: [UInt8]
    let bigEndian: Bool
    let file: String
    /// Finds a storage's whole byte range and checks it holds `numel * elementSize` bytes.
    private let locate: (StorageRef) throws -> Range<Int>
    private var located: [String: (range: Range<Int>, dtype: TorchDType, numel: Int)] = [:]
    private var views: [ViewKey: [UInt8]] = [:]
    /// Bytes the distinct views may still materialise. Only overlapping views (stride 0, `expand`)
    /// can be larger than their storage, so this stops a few bytes of pickle from asking for terabytes.
    private var budget: Int

    init(bytes: [UInt8], bigEndian: Bool, file: String, locate: @escaping (StorageRef) throws -> Range<Int>) {
        self.bytes = bytes
        self.bigEndian = bigEndian
        self.file = file
        self.locate = locate
        self.budget = 4 * bytes.count + (512 << 20)
    }

    private func rootRange(_ ref: StorageRef) throws -> Range<Int> {
        if let known = located[ref.key] {
            guard known.dtype == ref.dtype, known.numel == ref.numel else {
                throw TorchCheckpointError(.malformed, file: file,
                                           "storage '\(TorchCheckpointError.quote(ref.key))' is used both as \(known.numel) x \(known.dtype) and as \(ref.numel) x \(ref.dtype)")
            }
            return known.range
        }
        let range = try locate(ref)
        located[ref.key] = (range, ref.dtype, ref.numel)
        return range
    }

    func tensor(_ pending: PendingTensor) throws -> TorchTensor {
        let key = pending.viewKey
        if let cached = views[key] {
            return TorchTensor(validated: pending.storage.dtype, shape: pending.shape, rawBytes: cached, requiresGrad: pending.requiresGrad)
        }
        let ref = pending.storage
        let root = try rootRange(ref)
        let size = ref.dtype.elementSize
        let count = TorchTensor.elementCount(pending.shape) ?? Int.max
        let (needed, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, needed <= budget else {
            throw TorchCheckpointError(.limitExceeded, file: file,
                                       "materialising a tensor of size \(pending.shape) would exceed the memory budget for this file (\(4 * bytes.count + (512 << 20)) bytes in all; its views overlap their storages)")
        }
        budget -= needed
        let viewStart = root.lowerBound + ref.viewOffset * size
        let storage = viewStart..<(viewStart + ref.viewCount * size)
        let quotedKey = TorchCheckpointError.quote(ref.key)
        let raw = try StridedCopy.materialize(
            bytes: bytes, storage: storage, storageCount: ref.viewCount, dtype: ref.dtype,
            offset: pending.offset, shape: pending.shape, stride: pending.stride, bigEndian: bigEndian,
            fail: { TorchCheckpointError(.malformed, file: self.file, "tensor on storage '\(quotedKey)' (\(ref.dtype.storageName)): \($0)") })
        views[key] = raw
        return TorchTensor(validated: ref.dtype, shape: pending.shape, rawBytes: raw, requiresGrad: pending.requiresGrad)
    }
}

/// Turns the machine's arena graph into `PickleValue`s. Shared nodes are converted once (Swift's
/// copy-on-write arrays then share the result), the expanded tree size and the nesting depth are
/// bounded so walking the result can never blow up, and self-referencing structures are refused.
struct PickleConverter {
    static let maxDepth = 400
    static let maxExpandedValues = 20_000_000

    let nodes: [Node]
    let storages: StorageBytes?
    let file: String
    private var done: [Int: (value: PickleValue, size: Int)] = [:]
    private var active: Set<Int> = []

    init(nodes: [Node], storages: StorageBytes?, file: String) {
        self.nodes = nodes
        self.storages = storages
        self.file = file
    }

    mutating func convert(_ root: PObj) throws -> PickleValue {
        try convert(root, depth: 0).value
    }

    private func fail(_ kind: TorchCheckpointError.Kind, _ message: String) -> TorchCheckpointError {
        TorchCheckpointError(kind, file: file, message)
    }

    private mutating func convert(_ obj: PObj, depth: Int) throws -> (value: PickleValue, size: Int) {
        switch obj {
        case .none: return (.none, 1)
        case .bool(let b): return (.bool(b), 1)
        case .int(let i): return (.int(i), 1)
        case .bigInt(let b): return (.bigInt(littleEndianBytes: b), 1)
        case .float(let d): return (.float(d), 1)
        case .string(let s): return (.string(s), 1)
        case .bytes(let b): return (.bytes(b), 1)
        case .global(let g):
            let q = g.qualifiedName
            let dot = q.lastIndex(of: ".") ?? q.startIndex
            return (.global(module: String(q[..<dot]), name: String(q[q.index(after: dot)...])), 1)
        case .storage(let ref):
            // A storage saved on its own: a 1-d tensor of its elements.
            let pending = PendingTensor(storage: ref, offset: 0, shape: [ref.viewCount], stride: [1], requiresGrad: false)
            return (.tensor(try tensor(pending)), 1)
        case .node(let index):
            if let cached = done[index] { return cached }
            guard depth < Self.maxDepth else {
                throw fail(.limitExceeded, "the object nests deeper than \(Self.maxDepth) levels")
            }
            guard active.insert(index).inserted else {
                throw fail(.unsupported, "the pickle builds a self-referencing structure (a container that contains itself)")
            }
            let result = try convertNode(nodes[index], depth: depth)
            active.remove(index)
            guard result.size <= Self.maxExpandedValues else {
                throw fail(.limitExceeded, "the object expands to more than \(Self.maxExpandedValues) values (through shared references)")
            }
            done[index] = result
            return result
        }
    }

    private mutating func convertAll(_ items: [PObj], depth: Int) throws -> (values: [PickleValue], size: Int) {
        var values: [PickleValue] = []
        values.reserveCapacity(items.count)
        var size = 1
        for item in items {
            let converted = try convert(item, depth: depth + 1)
            values.append(converted.value)
            size = size.addingReportingOverflow(converted.size).partialValue
            guard size <= Self.maxExpandedValues else {
                throw fail(.limitExceeded, "the object expands to more than \(Self.maxExpandedValues) values (through shared references)")
            }
        }
        return (values, size)
    }

    private func tensor(_ pending: PendingTensor) throws -> TorchTensor {
        guard let storages else { throw fail(.unsupported, "a tensor without storage records") }
        return try storages.tensor(pending)
    }

    private mutating func convertNode(_ node: Node, depth: Int) throws -> (value: PickleValue, size: Int) {
        switch node.kind {
        case .list:
            let (values, size) = try convertAll(node.items, depth: depth)
            return (.list(values), size)
        case .tuple:
            let (values, size) = try convertAll(node.items, depth: depth)
            return (.tuple(values), size)
        case .set:
            let (values, size) = try convertAll(node.items, depth: depth)
            return (.set(values), size)
        case .dict:
            let (keys, keySize) = try convertAll(node.keys, depth: depth)
            let (values, valueSize) = try convertAll(node.items, depth: depth)
            var attributes: [(name: String, value: PickleValue)] = []
            var size = keySize + valueSize
            if let state = node.state {
                let converted = try convert(state, depth: depth + 1)
                size += converted.size
                attributes = Self.attributes(of: converted.value)
            }
            let entries = zip(keys, values).map { (key: $0.0, value: $0.1) }
            return (.dict(PickleDict(typeName: node.typeName, entries: entries, attributes: attributes)), size)
        case .object:
            let (args, argSize) = try convertAll(node.items, depth: depth)
            var state: PickleValue?
            var size = argSize
            if let s = node.state {
                let converted = try convert(s, depth: depth + 1)
                state = converted.value
                size += converted.size
            }
            return (.object(module: node.module, name: node.name, args: args, state: state), size)
        case .tensor:
            guard let pending = node.tensor else { throw fail(.malformed, "a tensor node without a rebuild call") }
            return (.tensor(try tensor(pending)), 1)
        }
    }

    /// BUILD state on a dict: `{name: value}` or `(dict_state, slot_state)`; string keys only.
    static func attributes(of state: PickleValue) -> [(name: String, value: PickleValue)] {
        switch state {
        case .dict(let d):
            return d.entries.compactMap { entry in entry.key.stringValue.map { (name: $0, value: entry.value) } }
        case .tuple(let parts):
            return parts.flatMap { attributes(of: $0) }
        default:
            return []
        }
    }
}
