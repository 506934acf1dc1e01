/// The object a checkpoint's pickle describes, rebuilt as data. Nothing here was produced by
/// running code: globals are either one of the allowlisted torch/collections constructors
/// (which become dicts and tensors) or, in inert-object mode only, inert records.
public indirect enum PickleValue: Sendable {
    /// Python `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// Any integer that fits in 64 bits.
    case int(Int64)
    /// A `LONG1`/`LONG4` integer beyond 64 bits: little-endian two's complement bytes, as pickled.
    case bigInt(littleEndianBytes: [UInt8])
    /// A Python float (`BINFLOAT`).
    case float(Double)
    /// A `str` (invalid UTF-8 is replaced, never rejected).
    case string(String)
    /// A `bytes` / `bytearray`.
    case bytes([UInt8])
    /// A list, in order.
    case list([PickleValue])
    /// A tuple, in order.
    case tuple([PickleValue])
    /// A `set` / `frozenset` (protocol 4 `EMPTY_SET`/`FROZENSET`, or `builtins.set` in inert mode), in pickle order.
    case set([PickleValue])
    /// A `dict`, `collections.OrderedDict` (or, in inert mode, `defaultdict`/`Counter`), in insertion order.
    case dict(PickleDict)
    /// A tensor or `nn.Parameter`, materialised.
    case tensor(TorchTensor)
    /// A reference to a global that was never called (e.g. `torch.float32` in inert mode).
    case global(module: String, name: String)
    /// An inert record: `argparse.Namespace` (state = its attribute dict) in every mode, or, in
    /// inert-object mode, any non-denied class or callable "called" with `args` by REDUCE/NEWOBJ and
    /// given `state` by BUILD (nil if there was no BUILD). Nothing was executed to make it.
    case object(module: String, name: String, args: [PickleValue], state: PickleValue?)
}

/// A pickled dictionary in insertion order. Keys may be any value (optimizer state uses ints).
public struct PickleDict: Sendable {
    /// `"dict"`, `"collections.OrderedDict"`, or in inert mode `"collections.defaultdict"` etc.
    public var typeName: String
    /// The items, in insertion order (a repeated key keeps its first position, like Python).
    public var entries: [(key: PickleValue, value: PickleValue)]
    /// Attributes set by `BUILD` on the dict (an `OrderedDict`'s `_metadata`); never items.
    public var attributes: [(name: String, value: PickleValue)]

    /// Creates a dictionary value (e.g. for tests or for building checkpoints in memory).
    public init(typeName: String = "dict", entries: [(key: PickleValue, value: PickleValue)] = [],
                attributes: [(name: String, value: PickleValue)] = []) {
        self.typeName = typeName
        self.entries = entries
        self.attributes = attributes
    }

    /// The number of items.
    public var count: Int { entries.count }

    /// The value under a string key, if any.
    public subscript(key: String) -> PickleValue? {
        for entry in entries {
            if case .string(let k) = entry.key, k == key { return entry.value }
        }
        return nil
    }

    /// The value of an attribute set by BUILD (e.g. `_metadata`).
    public func attribute(_ name: String) -> PickleValue? {
        attributes.first(where: { $0.name == name })?.value
    }
}

extension PickleValue {
    /// For a dict: the value under `key`. For an object (Namespace, inert module): the entry of its
    /// state dict. Otherwise nil.
    public subscript(key: String) -> PickleValue? {
        switch self {
        case .dict(let dict): return dict[key]
        case .object(_, _, _, let state?): return state[key]
        default: return nil
        }
    }

    /// The string of a `.string`.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer of an `.int`.
    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    /// The number of a `.float` or `.int`.
    public var doubleValue: Double? {
        switch self {
        case .float(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    /// The flag of a `.bool`.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The tensor of a `.tensor`.
    public var tensorValue: TorchTensor? { if case .tensor(let t) = self { return t }; return nil }
    /// The dictionary of a `.dict`.
    public var dictValue: PickleDict? { if case .dict(let d) = self { return d }; return nil }
    /// The elements of a list or tuple.
    public var sequenceValue: [PickleValue]? {
        switch self {
        case .list(let items), .tuple(let items): return items
        default: return nil
        }
    }

    /// A short name of the value's kind, for messages ("OrderedDict", "tensor float32 [8, 3]", ...).
    public var kindDescription: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .list: return "list"
        case .tuple: return "tuple"
        case .set: return "set"
        case .dict(let d): return d.typeName
        case .tensor(let t): return "tensor \(t.dtype) \(t.shape)"
        case .global(let m, let n): return "global \(m).\(n)"
        case .object(let m, let n, _, _): return "\(m).\(n) object"
        }
    }

    /// The text used for a dict key in tensor names: strings as-is, integers in decimal.
    var keyText: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .float(let d): return String(d)
        case .none: return "None"
        case .bytes(let b): return TorchCheckpointError.quote(bytes: b)
        case .tuple(let items): return items.map(\.keyText).joined(separator: ",")
        default: return kindDescription
        }
    }
}
