import Foundation

/// The worker's durable outbox (cluster.md §7.2): every RESULT is written and fsync'd to
/// `<dir>/<experiment>-<attempt>.result` before it is first sent, resent after each HELLO and
/// whenever it waited 10 s for an ACK, and deleted when the matching ACK arrives.
final class Outbox {
    let directory: URL
    private(set) var pending: [AttemptRef: Message.ResultReport] = [:]
    private var lastSent: [AttemptRef: Date] = [:]

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".result") {
            let url = self.directory.appendingPathComponent(name)
            guard let bytes = FileManager.default.contents(atPath: url.path),
                  case .result(let r)? = try? Message.decode([Array(ClusterProtocol.tag.utf8), [Message.Command.result.rawValue], [UInt8](bytes)])
            else { continue }  // a torn write from a crash before the rename cannot exist; skip anything unreadable
            pending[r.ref] = r
        }
    }

    private func path(_ ref: AttemptRef) -> URL { directory.appendingPathComponent("\(ref.experiment)-\(ref.attempt).result") }

    /// Persists `report` (write, fsync, rename, fsync the directory).
    func add(_ report: Message.ResultReport) throws {
        let body = Message.result(report).frames()[2]
        let final = path(report.ref)
        let temp = final.appendingPathExtension("tmp")
        _ = FileManager.default.createFile(atPath: temp.path, contents: nil)
        let h = try FileHandle(forWritingTo: temp)
        try h.write(contentsOf: body)
        try h.synchronize()
        try h.close()
        guard rename(temp.path, final.path) == 0 else { throw ClusterError("cannot rename \(temp.path) into the outbox") }
        let fd = open(directory.path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        pending[report.ref] = report
    }

    /// Removes the entry if the ACK matches its digest.
    func acknowledge(_ ref: AttemptRef, digest: String) {
        guard let r = pending[ref], r.digest == digest else { return }
        pending[ref] = nil
        lastSent[ref] = nil
        try? FileManager.default.removeItem(at: path(ref))
    }

    /// Entries to (re)send now: all if `force`, else those unacknowledged for `after` seconds.
    func due(force: Bool, after: TimeInterval = 10) -> [Message.ResultReport] {
        let now = Date()
        var out = [Message.ResultReport]()
        for (ref, r) in pending.sorted(by: { $0.key.experiment < $1.key.experiment }) {
            if force || now.timeIntervalSince(lastSent[ref] ?? .distantPast) >= after {
                lastSent[ref] = now
                out.append(r)
            }
        }
        return out
    }
}
