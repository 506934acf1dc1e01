#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// Whole-file reading, with transparent gzip decompression through zlib.
///
/// Files are read into memory at once: the data sets this serves are tens of megabytes.
public enum Gzip {
    /// The largest decompressed size accepted by default (2 GiB), so a damaged or hostile file
    /// cannot exhaust memory.
    public static let defaultLimit = 1 << 31

    /// Whether something exists at `path`.
    public static func fileExists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// The first of `candidates` that exists, or the first one if none does (so that the error
    /// for a missing file names the preferred location).
    public static func firstExisting(_ candidates: [String]) -> String {
        candidates.first(where: fileExists) ?? candidates.first ?? ""
    }

    /// The raw bytes of the file at `path`.
    ///
    /// - Parameter missingHint: appended to the ``DatasetError/missingFile(path:hint:)`` message.
    /// - Throws: ``DatasetError/missingFile(path:hint:)`` or ``DatasetError/unreadable(path:reason:)``.
    public static func readFile(_ path: String, missingHint: String = "") throws(DatasetError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw .missingFile(path: path, hint: missingHint) }
            throw .unreadable(path: path, reason: systemMessage(e))
        }
        defer { close(fd) }
        var st = stat()
        var bytes: [UInt8] = []
        if fstat(fd, &st) == 0 { bytes.reserveCapacity(Int(st.st_size)) }
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw .unreadable(path: path, reason: systemMessage(e))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }

    /// The contents of the file at `path`, inflated if the file starts with the gzip magic
    /// bytes `1f 8b`, returned as is otherwise. A name ending in `.gz` must be gzip data.
    ///
    /// - Throws: any ``DatasetError`` from ``readFile(_:missingHint:)`` or ``gunzip(_:path:limit:)``.
    public static func readContents(_ path: String, missingHint: String = "",
                                    limit: Int = defaultLimit) throws(DatasetError) -> [UInt8] {
        let raw = try readFile(path, missingHint: missingHint)
        if raw.count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B {
            return try gunzip(raw, path: path, limit: limit)
        }
        if path.hasSuffix(".gz") {
            throw .corruptGzip(path: path, reason: "not a gzip stream (does not start with 1f 8b)")
        }
        return raw
    }

    /// Inflates gzip data (one member or several concatenated ones; trailing bytes that do not
    /// start another member are ignored, as gzip(1) does).
    ///
    /// - Parameters:
    ///   - data: the compressed bytes.
    ///   - path: the file they came from, for error messages.
    ///   - limit: the largest decompressed size accepted.
    /// - Throws: ``DatasetError/truncatedGzip(path:decompressedBytes:)`` when the stream ends
    ///   early, ``DatasetError/corruptGzip(path:reason:)`` for damaged data,
    ///   ``DatasetError/tooLarge(path:limit:)`` past `limit`.
    public static func gunzip(_ data: [UInt8], path: String,
                              limit: Int = defaultLimit) throws(DatasetError) -> [UInt8] {
        guard data.count < Int(UInt32.max) else {
            throw .tooLarge(path: path, limit: Int(UInt32.max))
        }
        var strm = z_stream()
        guard inflateInit2_(&strm, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corruptGzip(path: path, reason: "zlib could not be initialised")
        }
        defer { inflateEnd(&strm) }

        // The last member's trailer holds its size mod 2^32: a good first guess at the output size,
        // trusted only as far as deflate's maximum ratio (1032:1) allows, since in a truncated or
        // damaged file those bytes are arbitrary.
        var hint = 1 << 16
        if data.count >= 18 {
            let n = data.count
            let isize = Int(data[n - 4]) | Int(data[n - 3]) << 8 | Int(data[n - 2]) << 16 | Int(data[n - 1]) << 24
            hint = max(hint, min(isize, 1032 * n))
        }
        var out = [UInt8](repeating: 0, count: min(hint, limit))
        var produced = 0

        let failure: DatasetError? = data.withUnsafeBufferPointer { input -> DatasetError? in
            strm.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            strm.avail_in = UInt32(input.count)
            while true {
                if produced == out.count {
                    if out.count >= limit { return .tooLarge(path: path, limit: limit) }
                    let grown = min(limit, max(out.count * 2, 1 << 16))
                    out.append(contentsOf: repeatElement(0, count: grown - out.count))
                }
                let rc = out.withUnsafeMutableBufferPointer { buf -> Int32 in
                    let room = min(buf.count - produced, Int(UInt32.max))
                    strm.next_out = buf.baseAddress! + produced
                    strm.avail_out = UInt32(room)
                    let rc = inflate(&strm, Z_NO_FLUSH)
                    produced += room - Int(strm.avail_out)
                    return rc
                }
                switch rc {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    // Another gzip member follows: keep going; anything else is ignored.
                    if strm.avail_in >= 2 && strm.next_in[0] == 0x1F && strm.next_in[1] == 0x8B {
                        if inflateReset(&strm) != Z_OK {
                            return .corruptGzip(path: path, reason: "zlib could not be reset")
                        }
                        continue
                    }
                    return nil
                case Z_BUF_ERROR where strm.avail_in == 0:
                    return .truncatedGzip(path: path, decompressedBytes: produced)
                case Z_MEM_ERROR:
                    return .corruptGzip(path: path, reason: "zlib ran out of memory")
                default:
                    let message = strm.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                    return .corruptGzip(path: path, reason: message)
                }
            }
        }
        if let failure { throw failure }
        out.removeLast(out.count - produced)
        return out
    }

    private static func systemMessage(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "error \(code)" }
        return String(cString: s)
    }
}
