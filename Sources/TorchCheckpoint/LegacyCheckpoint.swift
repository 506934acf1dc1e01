/// The legacy format (torch < 1.6, `_use_new_zipfile_serialization=False`, spec §4.7): five pickles
/// back to back — magic number, protocol version 1001, sys_info, the object, the sorted storage
/// keys — then, per key in that order, an int64 little-endian element count and the raw bytes.
/// torch writes the counts and data little-endian whatever the machine (sys_info only records it).
enum LegacyCheckpoint {
    /// `0x1950a86a20f9469cfc6c` as LONG1 payload bytes (little-endian).
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    /// The first bytes of every legacy file: PROTO 2, LONG1 of 10 bytes, the magic.
    static let signature: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + magic

    static func read(bytes: [UInt8], file: String, mode: ObjectTreeMode) throws -> PickleValue {
        var reader = ByteReader(bytes: bytes, file: file, part: "the legacy file")

        let magicValue = try header(&reader, bytes: bytes, file: file, part: "the legacy magic-number pickle")
        guard case .bigInt(let found) = magicValue, found == magic else {
            throw TorchCheckpointError(.malformed, file: file, "the legacy magic number is wrong (got \(magicValue.kindDescription))")
        }
        let version = try header(&reader, bytes: bytes, file: file, part: "the legacy protocol-version pickle")
        guard version.intValue == 1001 else {
            throw TorchCheckpointError(.unsupported, file: file,
                                       "legacy protocol version \(version.intValue.map(String.init) ?? version.kindDescription), expected 1001")
        }
        let sysInfo = try header(&reader, bytes: bytes, file: file, part: "the legacy sys_info pickle")
        guard case .dict = sysInfo else {
            throw TorchCheckpointError(.malformed, file: file, "the legacy sys_info is a \(sysInfo.kindDescription), expected a dict")
        }

        var objectReader = ByteReader(bytes: bytes, start: reader.position, file: file, part: "the legacy object pickle")
        var machine = PickleMachine(mode: mode, format: .legacy, file: file, part: "the legacy object pickle")
        let root = try machine.run(&objectReader)
        reader.position = objectReader.position

        let keysValue = try header(&reader, bytes: bytes, file: file, part: "the legacy storage-key pickle")
        guard case .list(let keyValues) = keysValue else {
            throw TorchCheckpointError(.malformed, file: file, "the legacy storage-key list is a \(keysValue.kindDescription), expected a list")
        }
        var storage = ByteReader(bytes: bytes, start: reader.position, file: file, part: "the legacy storage area")
        var ranges: [String: Range<Int>] = [:]
        for keyValue in keyValues {
            guard case .string(let key) = keyValue else {
                throw TorchCheckpointError(.malformed, file: file, "a legacy storage key is a \(keyValue.kindDescription), expected a str")
            }
            let quoted = TorchCheckpointError.quote(key)
            guard let ref = machine.storageRefs[key] else {
                throw TorchCheckpointError(.malformed, file: file,
                                           "legacy storage '\(quoted)' is listed but no tensor uses it (its element size is unknown)")
            }
            guard ranges[key] == nil else {
                throw TorchCheckpointError(.malformed, file: file, "legacy storage '\(quoted)' is listed twice")
            }
            let count = try storage.u64("the element count of storage '\(quoted)'")
            guard count == UInt64(ref.numel) else {
                throw TorchCheckpointError(.malformed, file: file,
                                           "legacy storage '\(quoted)' holds \(count) elements, but its persistent id declares \(ref.numel)")
            }
            ranges[key] = try storage.range(ref.numel * ref.dtype.elementSize, "the data of storage '\(quoted)'")
        }
        let storages = StorageBytes(bytes: bytes, bigEndian: false, file: file) { ref in
            guard let range = ranges[ref.key] else {
                throw TorchCheckpointError(.malformed, file: file,
                                           "legacy storage '\(TorchCheckpointError.quote(ref.key))' is not in the file's storage list")
            }
            return range
        }
        var converter = PickleConverter(nodes: machine.nodes, storages: storages, file: file)
        return try converter.convert(root)
    }

    /// Runs one of the small header pickles (no globals, no persistent ids allowed) and converts it.
    private static func header(_ reader: inout ByteReader, bytes: [UInt8], file: String, part: String) throws -> PickleValue {
        var sub = ByteReader(bytes: bytes, start: reader.position, file: file, part: part)
        var machine = PickleMachine(mode: .strictAllowlist, format: .none, file: file, part: part)
        let root = try machine.run(&sub)
        reader.position = sub.position
        var converter = PickleConverter(nodes: machine.nodes, storages: nil, file: file)
        return try converter.convert(root)
    }
}
