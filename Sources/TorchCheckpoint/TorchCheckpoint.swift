import Foundation

/// Reads PyTorch `torch.save` files (`.pth`, `.pt`, `pytorch_model.bin`) without executing anything.
///
/// The container is recognised by content (spec §4.1): a zip (torch >= 1.6, read through its
/// central directory, STORED records only) or the legacy format (torch < 1.6). The pickle inside is
/// interpreted by a data-only opcode machine with an exact global allowlist, like
/// `torch.load(weights_only=True)`: a refused global stops the load at that opcode, with an error
/// naming it. TorchScript archives, safetensors files and bare pickles are refused with a hint.
public enum TorchCheckpoint {
    /// The container a file's first bytes announce.
    public enum Container: Sendable, Equatable {
        /// `PK\x03\x04`: torch >= 1.6 (or TorchScript, refused when read).
        case zip
        /// PROTO 2 + the LONG1 magic number: torch < 1.6.
        case legacy
        /// An 8-byte header length then `{`: not read here.
        case safetensors
        /// A pickle with no container (no tensor data): refused.
        case barePickle
        /// Anything else: refused.
        case unknown
    }

    /// Recognises the container from the first bytes.
    public static func container(of bytes: [UInt8]) -> Container {
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .zip }
        if bytes.starts(with: LegacyCheckpoint.signature) { return .legacy }
        if bytes.count >= 9 {
            let length = readLE(bytes, 0, 8)
            if length <= UInt64(bytes.count - 8), bytes[8] == UInt8(ascii: "{") { return .safetensors }
        }
        if bytes.first == 0x80 { return .barePickle }
        return .unknown
    }

    /// Reads the file at `path` and returns its top-level object, tensors materialised.
    /// - Parameters:
    ///   - path: the file; errors name its last path component.
    ///   - mode: `.strictAllowlist` (default) or the explicit `.inertObjects` for whole-model pickles.
    public static func read(path: String, mode: ObjectTreeMode = .strictAllowlist) throws -> PickleValue {
        let name = (path as NSString).lastPathComponent
        return try read(bytes: try readFile(path, name: name), name: name, mode: mode)
    }

    /// `read(path:mode:)` with `.inertObjects` when `allowingInertObjects` is true (e.g. Ultralytics `.pt`).
    public static func read(path: String, allowingInertObjects: Bool) throws -> PickleValue {
        try read(path: path, mode: allowingInertObjects ? .inertObjects : .strictAllowlist)
    }

    /// Reads a checkpoint held in memory; `name` is used in error messages.
    public static func read(data: Data, name: String, mode: ObjectTreeMode = .strictAllowlist) throws -> PickleValue {
        try read(bytes: [UInt8](data), name: name, mode: mode)
    }

    /// Reads a checkpoint held in memory; `name` is used in error messages.
    public static func read(bytes: [UInt8], name: String, mode: ObjectTreeMode = .strictAllowlist) throws -> PickleValue {
        switch container(of: bytes) {
        case .zip:
            return try ZipCheckpoint.read(bytes: bytes, file: name, mode: mode)
        case .legacy:
            return try LegacyCheckpoint.read(bytes: bytes, file: name, mode: mode)
        case .safetensors:
            throw TorchCheckpointError(.unsupported, file: name, "this is a safetensors file, not a torch.save checkpoint; use the safetensors reader")
        case .barePickle:
            throw TorchCheckpointError(.unsupported, file: name,
                                       "this is a bare pickle (no zip or legacy torch container), so it holds no tensor data; not a torch.save checkpoint")
        case .unknown:
            let head = TorchCheckpointError.quote(bytes: bytes.prefix(8))
            throw TorchCheckpointError(.unsupported, file: name,
                                       "not a PyTorch checkpoint: expected a zip ('PK\\x03\\x04') or the legacy magic number, found '\(head)' (\(bytes.count) bytes)")
        }
    }

    /// Reads a bare pickle (no torch container, so no tensors): e.g. CIFAR's python batches with
    /// `mode: .numpyArrays`. The same data-only machine and global rules as ``read(bytes:name:mode:)``;
    /// persistent ids are refused. `name` is used in error messages.
    public static func readPickle(bytes: [UInt8], name: String, mode: ObjectTreeMode = .strictAllowlist) throws -> PickleValue {
        guard bytes.first == 0x80 else {
            let head = TorchCheckpointError.quote(bytes: bytes.prefix(8))
            throw TorchCheckpointError(.unsupported, file: name, "not a binary pickle: expected a PROTO opcode (0x80), found '\(head)' (\(bytes.count) bytes)")
        }
        var reader = ByteReader(bytes: bytes, start: 0, file: name, part: "the pickle")
        var machine = PickleMachine(mode: mode, format: .none, file: name, part: "the pickle")
        let root = try machine.run(&reader)
        var converter = PickleConverter(nodes: machine.nodes, storages: nil, file: name)
        return try converter.convert(root)
    }

    /// Reads the bare pickle at `path` (see ``readPickle(bytes:name:mode:)``); errors name its last path component.
    public static func readPickle(path: String, mode: ObjectTreeMode = .strictAllowlist) throws -> PickleValue {
        let name = (path as NSString).lastPathComponent
        return try readPickle(bytes: try readFile(path, name: name), name: name, mode: mode)
    }

    /// Every tensor in `value`, in pickle (insertion) order (a bare top-level tensor is named `""`), named by key path (spec README `weights/`):
    /// dict keys (integers in decimal) and list/tuple indices joined by `/`, so a top-level state dict
    /// gives its keys (`layer1.0.bn1.running_var`) and a training checkpoint `state_dict/module.conv1.weight`
    /// or `optimizer/state/0/momentum_buffer`. A tensor referenced twice (tied weights) appears under
    /// both names. `nn.Module` objects (inert-object mode) contribute their state dict, named with `.`
    /// (`model/model.0.conv.weight`); other objects contribute their BUILD state's entries.
    public static func tensors(in value: PickleValue) -> [(name: String, tensor: TorchTensor)] {
        var out: [(name: String, tensor: TorchTensor)] = []
        TensorWalk.collect(value, path: nil, into: &out)
        return out
    }

    /// Reads a whole file into memory; the errors name `name`.
    static func readFile(_ path: String, name: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TorchCheckpointError(.io, file: name, "cannot open '\(TorchCheckpointError.quote(path, limit: 200))'")
        }
        defer { try? handle.close() }
        do {
            let data = try handle.readToEnd() ?? Data()
            return [UInt8](data)
        } catch {
            throw TorchCheckpointError(.io, file: name, "cannot read: \(TorchCheckpointError.quote("\(error)", limit: 200))")
        }
    }
}

extension TorchCheckpointError {
    /// Whether the error refused a callable that would execute something even when read as an
    /// inert object tree (as opposed to a model class that `ObjectTreeMode.inertObjects` reads).
    public var refusesDangerousCallable: Bool {
        guard case .refusedGlobal(let qualified) = kind else { return false }
        guard let dot = qualified.lastIndex(of: ".") else { return true }
        return TorchGlobals.isDenied(module: String(qualified[..<dot]), name: String(qualified[qualified.index(after: dot)...]))
    }
}
