import Foundation

/// The element types of the legacy typed storages `torch.save` writes (spec §4.6).
public enum TorchDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var elementSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// True for float32/16, bfloat16 and float64.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }

    /// The `torch.<Name>Storage` class that holds this dtype.
    public var storageName: String {
        switch self {
        case .float32: return "FloatStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .float64: return "DoubleStorage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .int16: return "ShortStorage"
        case .int8: return "CharStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    /// Looks a dtype up by its storage class name (`FloatStorage` -> `.float32`).
    public init?(storageName: String) {
        guard let match = TorchDType.allCases.first(where: { $0.storageName == storageName }) else { return nil }
        self = match
    }

    /// The torch name (`float32`, `bfloat16`, ...).
    public var description: String { rawValue }
}

/// How globals (`GLOBAL` / `STACK_GLOBAL`) are treated.
public enum ObjectTreeMode: Sendable, Equatable {
    /// The default: exactly the allowlist of spec §4.4, like `torch.load(weights_only=True)`.
    case strictAllowlist
    /// For files that pickle whole model objects (Ultralytics `.pt`): any global that is not on the
    /// denylist of dangerous callables becomes an inert `PickleValue.object` record when called,
    /// and `BUILD` only stores its state. Nothing is ever executed in either mode.
    case inertObjects
    /// For pickled NumPy data (CIFAR's python batches): the allowlist plus NumPy's array
    /// reconstruction (`numpy.core.multiarray._reconstruct` or `numpy._core...`, `numpy.ndarray`,
    /// `numpy.dtype`), which become inert records for ``NumpyArray`` to read. Nothing else.
    case numpyArrays
}

/// A global the pickle machine has resolved. Only these values can be called.
enum ResolvedGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case storage(TorchDType)
    case namespace
    /// Inert-object mode: `collections.defaultdict` / `Counter`, rebuilt as plain dicts.
    case dictLike(module: String, name: String)
    /// Inert-object mode: `builtins.set` / `frozenset`, rebuilt as sets.
    case setLike(name: String)
    /// Inert-object mode: anything else not denied. Calling it makes an inert object record.
    case inert(module: String, name: String)

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .storage(let dtype): return "torch." + dtype.storageName
        case .namespace: return "argparse.Namespace"
        case .dictLike(let module, let name), .inert(let module, let name): return module + "." + name
        case .setLike(let name): return "builtins." + name
        }
    }
}

/// The allowlist (spec §4.4), the inert-mode denylist, and the resolution of `(module, name)` pairs.
enum TorchGlobals {
    /// The exact allowlist, in the order error messages list it.
    static let allowed: [(module: String, name: String, value: ResolvedGlobal)] = {
        var list: [(String, String, ResolvedGlobal)] = [
            ("collections", "OrderedDict", .orderedDict),
            ("torch._utils", "_rebuild_tensor_v2", .rebuildTensorV2),
            ("torch._utils", "_rebuild_parameter", .rebuildParameter),
            ("torch._utils", "_rebuild_parameter_with_state", .rebuildParameterWithState),
        ]
        for dtype in TorchDType.allCases { list.append(("torch", dtype.storageName, .storage(dtype))) }
        list.append(("argparse", "Namespace", .namespace))
        return list.map { (module: $0.0, name: $0.1, value: $0.2) }
    }()

    /// The allowlist, compactly: `collections.OrderedDict, torch._utils._rebuild_tensor_v2, ...`.
    static let allowedSummary: String = {
        let storages = TorchDType.allCases.map { $0.storageName.replacingOccurrences(of: "Storage", with: "") }
        return "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter(_with_state), "
            + "torch.{" + storages.joined(separator: ",") + "}Storage, argparse.Namespace"
    }()

    /// Known torch globals that carry data this reader cannot represent: refused in every mode,
    /// with the reason. (In inert mode they would otherwise silently become objects.)
    static func unsupportedTorchGlobal(module: String, name: String) -> String? {
        if module == "torch" {
            if name.hasPrefix("Complex") && name.hasSuffix("Storage") { return "complex tensors are not supported" }
            if name.hasPrefix("Q") && name.hasSuffix("Storage") { return "quantized tensors are not supported" }
            if name == "UntypedStorage" { return "untyped storages (newer dtypes: float8, uint16/32/64) are not supported" }
            if name.hasSuffix("Storage") { return "this storage type is not supported" }
        }
        if module == "torch._utils" {
            if name == "_rebuild_tensor_v3" { return "_rebuild_tensor_v3 (newer dtypes) is not supported" }
            if knownOtherRebuilds.contains(name) {
                return "this kind of tensor (sparse, quantized, nested, meta, device, wrapper subclass) is not supported"
            }
        }
        return nil
    }

    /// torch's other tensor rebuild functions (torch/_utils.py).
    static let knownOtherRebuilds: Set<String> = [
        "_rebuild_tensor", "_rebuild_qtensor", "_rebuild_sparse_tensor", "_rebuild_sparse_csr_tensor",
        "_rebuild_nested_tensor", "_rebuild_device_tensor_from_numpy", "_rebuild_device_tensor_from_cpu_tensor",
        "_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass", "_rebuild_xla_tensor", "_rebuild_mtia_tensor",
    ]

    /// Modules whose globals are callables with side effects (or that reach them); refused in
    /// inert-object mode too. A module matches itself and its submodules.
    static let deniedModules: Set<String> = [
        "builtins", "__builtin__", "__builtins__", "os", "posix", "nt", "posixpath", "ntpath", "genericpath",
        "subprocess", "sys", "importlib", "imp", "pkgutil", "zipimport", "runpy", "code", "codeop", "pty",
        "shutil", "socket", "ssl", "select", "selectors", "ctypes", "cffi", "_ctypes", "pickle", "_pickle", "cPickle",
        "pickletools", "copyreg", "copy_reg", "marshal", "shelve", "dill", "cloudpickle", "joblib", "types",
        "functools", "operator", "_operator", "itertools", "inspect", "ast", "dis", "gc", "weakref",
        "webbrowser", "multiprocessing", "concurrent", "threading", "_thread", "signal", "asyncio", "pdb", "bdb",
        "timeit", "trace", "profile", "cProfile", "platform", "tempfile", "io", "_io", "codecs", "_codecs",
        "pathlib", "glob", "fileinput", "urllib", "urllib2", "http", "httplib", "requests", "ftplib", "telnetlib",
        "smtplib", "poplib", "imaplib", "xmlrpc", "commands", "popen2", "pip", "setuptools", "distutils",
        "site", "sysconfig", "logging", "atexit", "yaml", "ruamel", "jinja2", "numexpr", "sympy",
        "torch.hub", "torch.jit", "torch._C", "torch.ops", "torch._ops", "torch.classes", "torch.serialization",
        "torch.utils.cpp_extension", "torch._dynamo", "torch._inductor", "torch.fx", "torch.package",
        "torch.distributed", "torch.multiprocessing", "torch.cuda", "torch.backends", "torch.library",
        "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.lib.npyio", "numpy.ctypeslib",
    ]

    /// The globals a pickled `numpy.ndarray` names (NumPy 1 and 2 spellings).
    static let numpyArrayGlobals: Set<String> = [
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
    ]

    /// Builtin data types that stay allowed (inert) in inert-object mode, e.g. the `list` of a
    /// `defaultdict(list)`; every other `builtins` global is refused.
    static let pureDataBuiltins: Set<String> = [
        "list", "dict", "tuple", "int", "float", "str", "bool", "bytes", "bytearray", "complex", "slice", "range",
    ]

    /// Names refused in inert-object mode whatever their module.
    static let deniedNames: Set<String> = [
        "eval", "exec", "execfile", "compile", "open", "system", "popen", "spawn", "fork", "getattr", "setattr",
        "delattr", "globals", "locals", "vars", "input", "breakpoint", "apply", "call", "check_call",
        "check_output", "run", "Popen", "load", "loads", "load_state_dict_from_url", "urlopen", "fromfile",
        "unsafe_load", "full_load", "import_module", "reload", "attrgetter", "methodcaller", "partial",
        "save", "from_file", "remove", "unlink", "rmtree", "rename", "write", "exit",
    ]

    static func isDenied(module: String, name: String) -> Bool {
        if name.hasPrefix("__") || deniedNames.contains(name) { return true }
        if name.hasPrefix("spawn") || name.hasPrefix("exec") || name.hasPrefix("popen") { return true }
        var prefix = module
        while true {
            if deniedModules.contains(prefix) { return true }
            guard let dot = prefix.lastIndex(of: ".") else { return false }
            prefix = String(prefix[..<dot])
        }
    }

    /// A dotted Python identifier (`torch._utils`, `ultralytics.nn.tasks`), bounded in length.
    static func isIdentifierPath(_ text: String, allowDots: Bool) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 256 else { return false }
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = part.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
            for c in part.utf8 {
                let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
                if !ok { return false }
            }
        }
        return allowDots || !text.contains(".")
    }

    /// Resolves a global or throws the refusal error. Called at the `GLOBAL` opcode itself, so
    /// nothing after a refused global runs.
    static func resolve(module: String, name: String, mode: ObjectTreeMode, file: String, offset: Int) throws -> ResolvedGlobal {
        let qualified = TorchCheckpointError.quote(module + "." + name, limit: 120)
        let at = "at offset \(TorchCheckpointError.hex(offset)) of the pickle"
        if let match = allowed.first(where: { $0.module == module && $0.name == name }) { return match.value }
        if let reason = unsupportedTorchGlobal(module: module, name: name) {
            throw TorchCheckpointError(.unsupported, file: file, "unsupported global '\(qualified)' \(at): \(reason); nothing was loaded")
        }
        switch mode {
        case .numpyArrays where numpyArrayGlobals.contains(module + "." + name):
            return .inert(module: module, name: name)
        case .strictAllowlist, .numpyArrays:
            throw TorchCheckpointError(.refusedGlobal(module + "." + name), file: file,
                                       "refused global '\(qualified)' \(at) (only \(allowedSummary) are allowed); nothing was loaded")
        case .inertObjects:
            if module == "builtins" || module == "__builtin__" {
                if name == "set" || name == "frozenset" { return .setLike(name: name) }
                if pureDataBuiltins.contains(name) { return .inert(module: "builtins", name: name) }
            }
            if module == "collections" && (name == "defaultdict" || name == "Counter") {
                return .dictLike(module: module, name: name)
            }
            if module == "torch._utils" && name.hasPrefix("_rebuild_") {
                throw TorchCheckpointError(.unsupported, file: file,
                                           "unsupported global '\(qualified)' \(at): an unknown tensor rebuild function; nothing was loaded")
            }
            guard isIdentifierPath(module, allowDots: true), isIdentifierPath(name, allowDots: false),
                  !isDenied(module: module, name: name) else {
                throw TorchCheckpointError(.refusedGlobal(module + "." + name), file: file,
                                           "refused global '\(qualified)' \(at): it is on the denylist of callables even in inert-object mode; nothing was loaded")
            }
            return .inert(module: module, name: name)
        }
    }
}
