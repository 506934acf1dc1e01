import Experiments
import Foundation

/// Serves FETCH requests from files named by digest (the ZeroMQ Guide's chapter 7 pattern).
enum ChunkServer {
    /// The CHUNK answering `fetch` from `path` (nil path: the holder does not have it).
    static func answer(_ fetch: Message.Fetch, path: String?) -> Message.Chunk {
        guard let path, let h = FileHandle(forReadingAtPath: path), let size = try? h.seekToEnd() else {
            return Message.Chunk(digest: fetch.digest, offset: fetch.offset, totalSize: -1, bytes: [])
        }
        defer { try? h.close() }
        let offset = min(UInt64(fetch.offset), size)
        try? h.seek(toOffset: offset)
        let bytes = (try? h.read(upToCount: min(fetch.length, WireLimits.maxChunk))) ?? Data()
        return Message.Chunk(digest: fetch.digest, offset: Int(offset), totalSize: Int(size), bytes: [UInt8](bytes))
    }
}

/// Downloads one artifact in 256 KiB chunks with at most `credit` requests in flight, writes it
/// to a temporary file and moves it into place only when its SHA-256 matches.
final class ChunkDownload {
    let digest: String
    let destination: String
    let expectedSize: Int?
    private var data = Data()
    private var nextOffset = 0
    private var total: Int?
    private var outstanding = 0
    let started = Date()
    /// When the last chunk arrived (or the download started): a stalled transfer (its requests
    /// lost to a restart of either side) is started over by its owner.
    private(set) var lastActivity = Date()

    /// `notHeld`: the holder answered that it does not have the file (it is not asked again).
    enum Status: Equatable { case inProgress, done, notHeld, failed(String) }

    init(digest: String, destination: String, expectedSize: Int?) {
        self.digest = digest
        self.destination = destination
        self.expectedSize = expectedSize
        total = expectedSize
    }

    /// Whether nothing arrived for `seconds`.
    func isStalled(after seconds: TimeInterval = 5) -> Bool { Date().timeIntervalSince(lastActivity) > seconds }

    /// The FETCH requests to send now (fills the credit window).
    func requests() -> [Message.Fetch] {
        var out = [Message.Fetch]()
        while outstanding < WireLimits.chunkCredit, total.map({ nextOffset < $0 }) ?? (outstanding == 0) {
            out.append(Message.Fetch(digest: digest, offset: nextOffset, length: WireLimits.chunkSize))
            nextOffset += WireLimits.chunkSize
            outstanding += 1
        }
        return out
    }

    /// Takes one CHUNK (chunks arrive in order on one connection).
    func receive(_ chunk: Message.Chunk) -> Status {
        lastActivity = Date()
        outstanding = max(0, outstanding - 1)
        if chunk.totalSize < 0 { return .notHeld }
        if total == nil { total = chunk.totalSize } else if total != chunk.totalSize { return .failed("size changed during transfer") }
        guard chunk.offset == data.count else { return .failed("chunk at \(chunk.offset), expected \(data.count)") }
        data.append(contentsOf: chunk.bytes)
        guard data.count >= total! else {
            if chunk.bytes.isEmpty { return .failed("empty chunk before the end") }
            return .inProgress
        }
        guard ContentDigest.hex(data) == digest else { return .failed("digest mismatch for \(digest.prefix(12))") }
        do {
            let url = URL(fileURLWithPath: destination)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch { return .failed("cannot write \(destination): \(error.localizedDescription)") }
        return .done
    }
}
