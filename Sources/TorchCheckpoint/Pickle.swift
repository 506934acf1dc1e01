/// Where the storages of persistent ids come from, which fixes the id's shape.
enum StorageFormat {
    /// `('storage', type, key, location, numel)`: records `data/<key>` of a zip.
    case zip
    /// `('storage', type, key, location, numel, view_metadata)`: the storage area after the pickles.
    case legacy
    /// A bare pickle: persistent ids are refused.
    case none
}

/// The opcode machine: protocol 0-5 framing, the opcodes torch's `weights_only` unpickler accepts
/// (plus the harmless protocol 3/4 ones), and nothing that executes. Globals are checked by
/// `TorchGlobals.resolve` at the `GLOBAL` opcode itself, so the load stops before anything after a
/// refused global runs. All reads are bounds-checked; stack, mark and memo misuse are errors.
struct PickleMachine {
    let mode: ObjectTreeMode
    let format: StorageFormat
    let file: String
    /// The record being unpickled, for messages ("data.pkl").
    let part: String
    /// The arena of containers; `PObj.node(i)` indexes it.
    var nodes: [Node] = []
    var stack: [PObj] = []
    var marks: [Int] = []
    var memo: [Int: PObj] = [:]
    /// Every storage a persistent id named, by key (the legacy reader needs their dtypes).
    var storageRefs: [String: StorageRef] = [:]
    /// The offset and opcode being executed, for messages.
    var opOffset = 0
    var opcode: UInt8 = 0

    init(mode: ObjectTreeMode, format: StorageFormat, file: String, part: String) {
        self.mode = mode
        self.format = format
        self.file = file
        self.part = part
    }

    // MARK: - Errors

    func error(_ kind: TorchCheckpointError.Kind, _ message: String) -> TorchCheckpointError {
        let name = Op.name(opcode) ?? "opcode"
        return TorchCheckpointError(kind, file: file, "\(part) at offset \(TorchCheckpointError.hex(opOffset)) (\(name)): \(message)")
    }

    func malformed(_ message: String) -> TorchCheckpointError { error(.malformed, message) }

    // MARK: - Stack

    mutating func push(_ value: PObj) { stack.append(value) }

    mutating func pop() throws -> PObj {
        guard stack.count > (marks.last ?? 0) else { throw malformed("stack underflow") }
        return stack.removeLast()
    }

    func top() throws -> PObj {
        guard stack.count > (marks.last ?? 0), let last = stack.last else { throw malformed("stack underflow") }
        return last
    }

    mutating func popMark() throws -> [PObj] {
        guard let mark = marks.popLast() else { throw malformed("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func newNode(_ node: Node) -> PObj {
        nodes.append(node)
        return .node(nodes.count - 1)
    }

    mutating func newNode(_ kind: Node.Kind, items: [PObj] = []) -> PObj {
        var node = Node(kind: kind)
        node.items = items
        if kind == .dict { node.typeName = "dict" }
        return newNode(node)
    }

    /// The arena index of a container of the given kinds, or an error naming what was found.
    func nodeIndex(_ value: PObj, _ kinds: [Node.Kind], _ role: String) throws -> Int {
        if case .node(let i) = value, kinds.contains(nodes[i].kind) { return i }
        let found: String
        if case .node(let i) = value { found = nodes[i].kindName } else { found = value.kindName }
        throw malformed("\(role) must be a \(kinds.map { "\($0)" }.sorted().joined(separator: " or ")), not \(TorchCheckpointError.quote(found))")
    }

    mutating func setItem(_ dict: Int, key: PObj, value: PObj) {
        if let hashable = DictKey(key), let existing = nodes[dict].keyIndex[hashable] {
            nodes[dict].items[existing] = value
            return
        }
        if let hashable = DictKey(key) { nodes[dict].keyIndex[hashable] = nodes[dict].items.count }
        nodes[dict].keys.append(key)
        nodes[dict].items.append(value)
    }

    mutating func addToSet(_ set: Int, _ value: PObj) {
        if let hashable = DictKey(value) {
            if nodes[set].keyIndex[hashable] != nil { return }
            nodes[set].keyIndex[hashable] = nodes[set].items.count
        }
        nodes[set].items.append(value)
    }

    // MARK: - Running

    /// Runs opcodes from the reader's position up to and including `STOP`; returns the result.
    mutating func run(_ reader: inout ByteReader) throws -> PObj {
        while true {
            opOffset = reader.relativeOffset
            guard !reader.isAtEnd else {
                opcode = 0
                throw error(.truncated, "the pickle ends before STOP (truncated file?)")
            }
            opcode = try reader.u8("opcode")
            if opcode == Op.stop { return try pop() }
            try step(opcode, &reader)
        }
    }

    private func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A Python 2 `str` (`BINSTRING`): text when it is valid UTF-8 (names, keys), else its bytes
    /// (NumPy array data in old pickles). Either way the bytes are kept exactly.
    private func python2String(_ bytes: ArraySlice<UInt8>) -> PObj {
        if let string = String(validating: bytes, as: UTF8.self) { return .string(string) }
        return .bytes(Array(bytes))
    }

    private mutating func step(_ op: UInt8, _ r: inout ByteReader) throws {
        switch op {
        case Op.proto:
            let version = try r.u8("protocol")
            guard version <= 5 else { throw error(.unsupported, "pickle protocol \(version) is newer than 5") }
        case Op.frame:
            let length = try r.u64("frame length")
            guard length <= UInt64(r.remaining) else { throw r.truncated("FRAME of \(length) bytes", needed: Int(min(length, UInt64(Int.max)))) }
        case Op.mark: marks.append(stack.count)
        case Op.none: push(.none)
        case Op.newTrue: push(.bool(true))
        case Op.newFalse: push(.bool(false))
        case Op.binInt: push(.int(Int64(Int32(bitPattern: try r.u32("BININT")))))
        case Op.binInt1: push(.int(Int64(try r.u8("BININT1"))))
        case Op.binInt2: push(.int(Int64(try r.u16("BININT2"))))
        case Op.long1: push(makeLong(try r.take(Int(try r.u8("LONG1 length")), "LONG1 bytes")))
        case Op.long4:
            let length = Int32(bitPattern: try r.u32("LONG4 length"))
            guard length >= 0 else { throw malformed("negative LONG4 length") }
            push(makeLong(try r.take(Int(length), "LONG4 bytes")))
        case Op.binFloat: push(.float(Double(bitPattern: UInt64(bigEndian: UInt64(littleEndian: try r.u64("BINFLOAT"))))))
        case Op.binUnicode: push(.string(text(try r.take(Int(try r.u32("BINUNICODE length")), "BINUNICODE text"))))
        case Op.shortBinUnicode: push(.string(text(try r.take(Int(try r.u8("length")), "SHORT_BINUNICODE text"))))
        case Op.binUnicode8: push(.string(text(try r.take(try length64(&r), "BINUNICODE8 text"))))
        case Op.shortBinString: push(python2String(try r.take(Int(try r.u8("length")), "SHORT_BINSTRING text")))
        case Op.binString:
            let length = Int32(bitPattern: try r.u32("BINSTRING length"))
            guard length >= 0 else { throw malformed("negative BINSTRING length") }
            push(python2String(try r.take(Int(length), "BINSTRING text")))
        case Op.binBytes: push(.bytes(Array(try r.take(Int(try r.u32("BINBYTES length")), "BINBYTES data"))))
        case Op.shortBinBytes: push(.bytes(Array(try r.take(Int(try r.u8("length")), "SHORT_BINBYTES data"))))
        case Op.binBytes8, Op.byteArray8: push(.bytes(Array(try r.take(try length64(&r), "bytes data"))))
        case Op.emptyTuple: push(newNode(.tuple))
        case Op.emptyList: push(newNode(.list))
        case Op.emptyDict: push(newNode(.dict))
        case Op.emptySet: push(newNode(.set))
        case Op.tuple: push(newNode(.tuple, items: try popMark()))
        case Op.tuple1, Op.tuple2, Op.tuple3:
            let n = Int(op - Op.tuple1) + 1
            var items: [PObj] = []
            for _ in 0..<n { items.append(try pop()) }
            push(newNode(.tuple, items: items.reversed()))
        case Op.list: push(newNode(.list, items: try popMark()))
        case Op.dict:
            let items = try popMark()
            guard items.count % 2 == 0 else { throw malformed("DICT with an odd number of items") }
            let dict = newNode(.dict)
            guard case .node(let d) = dict else { return }
            for i in stride(from: 0, to: items.count, by: 2) { setItem(d, key: items[i], value: items[i + 1]) }
            push(dict)
        case Op.append:
            let value = try pop()
            nodes[try nodeIndex(try top(), [.list], "the APPEND target")].items.append(value)
        case Op.appends:
            let values = try popMark()
            nodes[try nodeIndex(try top(), [.list], "the APPENDS target")].items.append(contentsOf: values)
        case Op.setItem:
            let value = try pop()
            let key = try pop()
            setItem(try nodeIndex(try top(), [.dict], "the SETITEM target"), key: key, value: value)
        case Op.setItems:
            let items = try popMark()
            guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
            let d = try nodeIndex(try top(), [.dict], "the SETITEMS target")
            for i in stride(from: 0, to: items.count, by: 2) { setItem(d, key: items[i], value: items[i + 1]) }
        case Op.addItems:
            let items = try popMark()
            let s = try nodeIndex(try top(), [.set], "the ADDITEMS target")
            for item in items { addToSet(s, item) }
        case Op.frozenSet:
            let items = try popMark()
            let set = newNode(.set)
            if case .node(let s) = set { for item in items { addToSet(s, item) } }
            push(set)
        case Op.pop:
            if stack.count > (marks.last ?? 0) { _ = try pop() } else { _ = try popMark() }
        case Op.popMark: _ = try popMark()
        case Op.dup: push(try top())
        case Op.binPut: memo[Int(try r.u8("memo index"))] = try top()
        case Op.longBinPut: memo[Int(try r.u32("memo index"))] = try top()
        case Op.memoize: memo[memo.count] = try top()
        case Op.binGet: try get(Int(try r.u8("memo index")))
        case Op.longBinGet: try get(Int(try r.u32("memo index")))
        case Op.global:
            let module = try r.line("GLOBAL module")
            let name = try r.line("GLOBAL name")
            push(.global(try resolveGlobal(moduleBytes: module, nameBytes: name)))
        case Op.stackGlobal:
            let name = try pop()
            let module = try pop()
            guard case .string(let n) = name, case .string(let m) = module else {
                throw malformed("STACK_GLOBAL needs two strings, found \(module.kindName) and \(name.kindName)")
            }
            push(.global(try TorchGlobals.resolve(module: m, name: n, mode: mode, file: file, offset: opOffset)))
        case Op.reduce: try reduce()
        case Op.newObj: try newObj()
        case Op.build: try build()
        case Op.binPersId: try persistentLoad()
        case Op.inst:
            let module = try r.line("INST module")
            let name = try r.line("INST name")
            let qualified = TorchCheckpointError.quote(text(module) + "." + text(name))
            throw error(.refusedGlobal(text(module) + "." + text(name)),
                        "refused INST of global '\(qualified)': INST/OBJ (protocol 0/1 object creation) are never allowed; nothing was loaded")
        case Op.obj, Op.newObjEx, Op.ext1, Op.ext2, Op.ext4:
            throw error(.unsupportedOpcode, "this opcode builds objects from the extension registry or keyword calls and is never allowed; nothing was loaded")
        case Op.float, Op.int, Op.long, Op.string, Op.unicode, Op.get, Op.put, Op.persId:
            throw error(.unsupportedOpcode, "protocol-0 text opcodes are not supported (torch.save writes protocol 2)")
        case Op.nextBuffer, Op.readonlyBuffer:
            throw error(.unsupportedOpcode, "out-of-band buffers (protocol 5) are not supported")
        default:
            throw error(.unsupportedOpcode, "unknown opcode byte \(TorchCheckpointError.hex(Int(op)))")
        }
    }

    private mutating func get(_ index: Int) throws {
        guard let value = memo[index] else { throw malformed("memo index \(index) was never stored") }
        push(value)
    }

    private func length64(_ r: inout ByteReader) throws -> Int {
        let length = try r.u64("length")
        guard length <= UInt64(r.remaining) else { throw r.truncated("a declared length of \(length)", needed: Int(min(length, UInt64(Int.max)))) }
        return Int(length)
    }

    private mutating func resolveGlobal(moduleBytes: ArraySlice<UInt8>, nameBytes: ArraySlice<UInt8>) throws -> ResolvedGlobal {
        guard let module = strictUTF8(moduleBytes), let name = strictUTF8(nameBytes) else {
            let shown = TorchCheckpointError.quote(bytes: moduleBytes) + "." + TorchCheckpointError.quote(bytes: nameBytes)
            throw error(.refusedGlobal(shown), "refused global '\(shown)' (not UTF-8); nothing was loaded")
        }
        return try TorchGlobals.resolve(module: module, name: name, mode: mode, file: file, offset: opOffset)
    }

    /// `LONG1`/`LONG4` payload: little-endian two's complement; `.int` when it fits 64 bits.
    private func makeLong(_ bytes: ArraySlice<UInt8>) -> PObj {
        var trimmed = Array(bytes)
        // Drop redundant sign-extension bytes.
        while trimmed.count > 1 {
            let last = trimmed[trimmed.count - 1]
            let prevNegative = trimmed[trimmed.count - 2] & 0x80 != 0
            if (last == 0x00 && !prevNegative) || (last == 0xFF && prevNegative) { trimmed.removeLast() } else { break }
        }
        guard trimmed.count <= 8 else { return .bigInt(Array(bytes)) }
        guard let last = trimmed.last else { return .int(0) }
        var value: UInt64 = last & 0x80 != 0 ? UInt64.max : 0
        for (i, byte) in trimmed.enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            value |= UInt64(byte) << (8 * UInt64(i))
        }
        return .int(Int64(bitPattern: value))
    }
}
