/// The zip container of torch >= 1.6 (spec §4.2): `<folder>/data.pkl`, `<folder>/byteorder` and one
/// `<folder>/data/<key>` record per storage, the folder taken from the first entry.
enum ZipCheckpoint {
    static func read(bytes: [UInt8], file: String, mode: ObjectTreeMode) throws -> PickleValue {
        let zip = try ZipArchive(bytes: bytes, file: file)
        guard let first = zip.entries.first, let slash = first.name.firstIndex(of: "/") else {
            throw TorchCheckpointError(.malformed, file: file,
                                       "the zip has no top-level folder (first entry '\(TorchCheckpointError.quote(zip.entries.first?.name ?? ""))'); not a torch.save file")
        }
        let prefix = String(first.name[...slash])
        if zip.entries.contains(where: { $0.name == prefix + "constants.pkl" || $0.name.hasPrefix(prefix + "code/") }) {
            throw TorchCheckpointError(.unsupported, file: file,
                                       "this is a TorchScript archive (torch.jit.save: it has constants.pkl / code/ records), not a torch.save checkpoint; load it with torch.jit.load and save its state_dict() with torch.save")
        }
        let folder = TorchCheckpointError.quote(prefix)
        guard let pickleEntry = zip.entry(named: prefix + "data.pkl") else {
            throw TorchCheckpointError(.malformed, file: file, "the zip has no '\(folder)data.pkl' record; not a torch.save file")
        }
        var bigEndian = false
        if let order = zip.entry(named: prefix + "byteorder") {
            let range = try zip.dataRange(of: order)
            let text = String(decoding: bytes[range], as: UTF8.self).trimmingWhitespace()
            switch text {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default:
                throw TorchCheckpointError(.malformed, file: file,
                                           "the byteorder record says '\(TorchCheckpointError.quote(text))', expected 'little' or 'big'")
            }
        }
        let pickleRange = try zip.dataRange(of: pickleEntry)
        var reader = ByteReader(bytes: bytes, start: pickleRange.lowerBound, end: pickleRange.upperBound,
                                file: file, part: "data.pkl")
        var machine = PickleMachine(mode: mode, format: .zip, file: file, part: "data.pkl")
        let root = try machine.run(&reader)
        let storages = StorageBytes(bytes: bytes, bigEndian: bigEndian, file: file) { ref in
            let name = prefix + "data/" + ref.key
            guard let entry = zip.entry(named: name) else {
                throw TorchCheckpointError(.malformed, file: file, "the storage record '\(TorchCheckpointError.quote(name))' is missing")
            }
            let range = try zip.dataRange(of: entry)
            let expected = ref.numel * ref.dtype.elementSize
            guard range.count == expected else {
                throw TorchCheckpointError(.malformed, file: file,
                                           "the storage record '\(TorchCheckpointError.quote(name))' holds \(range.count) bytes, but its persistent id declares \(ref.numel) x \(ref.dtype.storageName) = \(expected)")
            }
            return range
        }
        var converter = PickleConverter(nodes: machine.nodes, storages: storages, file: file)
        return try converter.convert(root)
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
