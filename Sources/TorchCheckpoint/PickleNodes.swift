/// The pickle machine's working values. Containers live in an arena (`PickleMachine.nodes`) and
/// are referenced by index, so memo sharing and later mutation (`EMPTY_DICT BINPUT ... SETITEMS`)
/// behave as in Python, and tearing down a hostile, deeply linked graph never recurses.
enum PObj {
    case none
    case bool(Bool)
    case int(Int64)
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A resolved (allowed) global, not yet called.
    case global(ResolvedGlobal)
    /// The result of `BINPERSID` on a `('storage', ...)` id.
    case storage(StorageRef)
    /// A container, object or tensor in the arena.
    case node(Int)

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .global(let g): return "global \(g.qualifiedName)"
        case .storage: return "storage"
        case .node: return "container"
        }
    }
}

/// A storage named by a persistent id: `('storage', type, key, location, numel[, view_metadata])`.
struct StorageRef: Hashable {
    let key: String
    let dtype: TorchDType
    /// Elements in the whole (root) storage.
    let numel: Int
    /// Legacy views: the element offset of the view inside the root storage (0 otherwise).
    let viewOffset: Int
    /// Legacy views: the view's element count (== `numel` otherwise).
    let viewCount: Int
}

/// A `_rebuild_tensor_v2` call, kept until the storages are available.
struct PendingTensor: Hashable {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let stride: [Int]
    var requiresGrad: Bool

    /// Identifies the bytes (not the grad flag): tensors with equal keys share one copy.
    var viewKey: ViewKey { ViewKey(storage: storage, offset: offset, shape: shape, stride: stride) }
}

/// The geometry of a view; equal keys mean equal bytes.
struct ViewKey: Hashable {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let stride: [Int]
}

/// A hashable form of the dict keys pickles use, so a repeated key replaces the value in place
/// (as Python does) without quadratic scans. Keys that are containers never compare equal.
enum DictKey: Hashable {
    case none
    case int(Int64)
    case float(UInt64)
    case string(String)
    case bytes([UInt8])
    case big([UInt8])

    init?(_ obj: PObj) {
        switch obj {
        case .none: self = .none
        case .bool(let b): self = .int(b ? 1 : 0)
        case .int(let i): self = .int(i)
        case .float(let d):
            if d == d.rounded(), abs(d) < 9.2e18 { self = .int(Int64(d)) } else { self = .float(d.bitPattern) }
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .bytes(b)
        case .bigInt(let b): self = .big(b)
        case .global, .storage, .node: return nil
        }
    }
}

/// One arena entry.
struct Node {
    enum Kind { case list, tuple, set, dict, object, tensor }

    var kind: Kind
    /// list/tuple/set elements, object args, dict values.
    var items: [PObj] = []
    /// dict keys, parallel to `items`.
    var keys: [PObj] = []
    var keyIndex: [DictKey: Int] = [:]
    /// dict: its type name; object: its module and name.
    var typeName = ""
    var module = ""
    var name = ""
    /// dict: the BUILD state (attributes); object: its BUILD state.
    var state: PObj?
    /// tensor: the rebuild call.
    var tensor: PendingTensor?

    init(kind: Kind) { self.kind = kind }

    var kindName: String {
        switch kind {
        case .list: return "list"
        case .tuple: return "tuple"
        case .set: return "set"
        case .dict: return typeName
        case .object: return "\(module).\(name) object"
        case .tensor: return "tensor"
        }
    }
}
