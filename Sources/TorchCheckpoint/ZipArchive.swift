/// A read-only view of a zip archive as `torch.save` writes it: found through the central
/// directory (zip64 aware), every record STORED. Compressed or encrypted records are refused
/// when they are read. Record data is addressed in the caller's byte array without copying.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    let bytes: [UInt8]
    let file: String
    /// Entries in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    /// The largest number of entries accepted (a torch file has a few per tensor).
    static let maxEntries = 10_000_000

    init(bytes: [UInt8], file: String) throws {
        self.bytes = bytes
        self.file = file
        let (cdOffset, cdSize, count) = try Self.findCentralDirectory(bytes, file: file)
        guard count <= Self.maxEntries else {
            throw TorchCheckpointError(.limitExceeded, file: file, "zip central directory declares \(count) entries")
        }
        var reader = ByteReader(bytes: bytes, start: cdOffset, end: cdOffset + cdSize, file: file,
                                part: "the zip central directory")
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        entries.reserveCapacity(min(count, 1 << 16))
        for _ in 0..<count {
            let entry = try Self.readCentralEntry(&reader, file: file)
            guard index[entry.name] == nil else {
                throw TorchCheckpointError(.malformed, file: file,
                                           "zip record '\(TorchCheckpointError.quote(entry.name))' appears twice")
            }
            index[entry.name] = entries.count
            entries.append(entry)
        }
        self.entries = entries
        self.index = index
    }

    func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The byte range of a record's data inside `bytes`, after checking it is STORED and in bounds.
    func dataRange(of entry: Entry) throws -> Range<Int> {
        let quoted = TorchCheckpointError.quote(entry.name)
        if entry.flags & 1 != 0 {
            throw TorchCheckpointError(.unsupported, file: file, "zip record '\(quoted)' is encrypted")
        }
        guard entry.method == 0 else {
            let method = entry.method == 8 ? "deflate" : "method \(entry.method)"
            throw TorchCheckpointError(.unsupported, file: file,
                                       "zip record '\(quoted)' is compressed (\(method)); torch.save writes STORED records only, and this reader does not decompress (re-save the file with torch.save)")
        }
        guard entry.compressedSize == entry.size else {
            throw TorchCheckpointError(.malformed, file: file,
                                       "zip record '\(quoted)' is STORED but its sizes differ (\(entry.compressedSize) vs \(entry.size))")
        }
        let lho = entry.localHeaderOffset
        guard lho >= 0, lho <= bytes.count - 30, readLE(bytes, lho, 4) == 0x0403_4b50 else {
            throw TorchCheckpointError(.malformed, file: file, "zip record '\(quoted)': no local header at \(TorchCheckpointError.hex(lho))")
        }
        let nameLength = Int(readLE(bytes, lho + 26, 2))
        let extraLength = Int(readLE(bytes, lho + 28, 2))
        let dataStart = lho + 30 + nameLength + extraLength
        guard dataStart <= bytes.count, entry.size <= bytes.count - dataStart else {
            throw TorchCheckpointError(.truncated, file: file,
                                       "zip record '\(quoted)' (\(entry.size) bytes at \(TorchCheckpointError.hex(dataStart))) runs past the end of the file (\(bytes.count) bytes)")
        }
        return dataStart..<(dataStart + entry.size)
    }

    // MARK: - Central directory

    private static func findCentralDirectory(_ bytes: [UInt8], file: String) throws -> (offset: Int, size: Int, count: Int) {
        // The end-of-central-directory record is 22 bytes plus a comment of at most 65535 bytes.
        let lowest = max(0, bytes.count - 22 - 65535)
        var eocd = -1
        var position = bytes.count - 22
        while position >= lowest {
            if bytes[position] == 0x50, readLE(bytes, position, 4) == 0x0605_4b50 {
                eocd = position
                break
            }
            position -= 1
        }
        guard eocd >= 0 else {
            throw TorchCheckpointError(.truncated, file: file,
                                       "zip end-of-central-directory record not found (the file is truncated or not a zip)")
        }
        var count = Int(readLE(bytes, eocd + 10, 2))
        var size = Int(readLE(bytes, eocd + 12, 4))
        var offset = Int(readLE(bytes, eocd + 16, 4))
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            // zip64: a 20-byte locator sits right before the EOCD and points at the zip64 EOCD.
            let locator = eocd - 20
            guard locator >= 0, readLE(bytes, locator, 4) == 0x0706_4b50 else {
                throw TorchCheckpointError(.malformed, file: file, "zip64 sizes are marked but the zip64 locator is missing")
            }
            let record = readLE(bytes, locator + 8, 8)
            guard bytes.count >= 56, record <= UInt64(bytes.count - 56), readLE(bytes, Int(record), 4) == 0x0606_4b50 else {
                throw TorchCheckpointError(.malformed, file: file, "the zip64 end-of-central-directory record is missing")
            }
            let r = Int(record)
            let count64 = readLE(bytes, r + 32, 8)
            let size64 = readLE(bytes, r + 40, 8)
            let offset64 = readLE(bytes, r + 48, 8)
            guard count64 <= UInt64(Int32.max), size64 <= UInt64(bytes.count), offset64 <= UInt64(bytes.count) else {
                throw TorchCheckpointError(.malformed, file: file, "zip64 central directory fields are out of range")
            }
            count = Int(count64)
            size = Int(size64)
            offset = Int(offset64)
        }
        guard offset <= bytes.count, size <= bytes.count - offset else {
            throw TorchCheckpointError(.truncated, file: file,
                                       "zip central directory (\(size) bytes at \(TorchCheckpointError.hex(offset))) lies outside the file")
        }
        return (offset, size, count)
    }

    private static func readCentralEntry(_ reader: inout ByteReader, file: String) throws -> Entry {
        let signature = try reader.u32("central directory entry signature")
        guard signature == 0x0201_4b50 else {
            throw TorchCheckpointError(.malformed, file: file,
                                       "bad zip central directory entry signature at \(TorchCheckpointError.hex(reader.position - 4))")
        }
        _ = try reader.take(4, "versions")
        let flags = try reader.u16("flags")
        let method = try reader.u16("compression method")
        _ = try reader.take(8, "time, date, crc")
        var compressedSize = UInt64(try reader.u32("compressed size"))
        var size = UInt64(try reader.u32("size"))
        let nameLength = Int(try reader.u16("name length"))
        let extraLength = Int(try reader.u16("extra length"))
        let commentLength = Int(try reader.u16("comment length"))
        _ = try reader.take(8, "disk, attributes")
        var localOffset = UInt64(try reader.u32("local header offset"))
        let nameBytes = try reader.take(nameLength, "entry name")
        var extra = ByteReader(bytes: reader.bytes, start: reader.position, end: reader.position + extraLength,
                               file: file, part: "a zip extra field")
        _ = try reader.take(extraLength, "extra field")
        _ = try reader.take(commentLength, "entry comment")
        // zip64 extended information (header 0x0001): only the fields whose 32-bit value is saturated, in order.
        while extra.remaining >= 4 {
            let tag = try extra.u16("extra tag")
            let length = Int(try extra.u16("extra length"))
            var field = ByteReader(bytes: extra.bytes, start: extra.position, end: extra.position + length,
                                   file: file, part: "the zip64 extra field")
            _ = try extra.take(length, "extra data")
            guard tag == 0x0001 else { continue }
            if size == 0xFFFF_FFFF { size = try field.u64("zip64 size") }
            if compressedSize == 0xFFFF_FFFF { compressedSize = try field.u64("zip64 compressed size") }
            if localOffset == 0xFFFF_FFFF { localOffset = try field.u64("zip64 local header offset") }
        }
        let limit = UInt64(Int.max / 2)
        guard size < limit, compressedSize < limit, localOffset < limit else {
            throw TorchCheckpointError(.malformed, file: file, "zip entry sizes are out of range")
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        return Entry(name: name, method: method, flags: flags, compressedSize: Int(compressedSize),
                     size: Int(size), localHeaderOffset: Int(localOffset))
    }
}
