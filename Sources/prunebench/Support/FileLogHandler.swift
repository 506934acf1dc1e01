import Foundation
import Logging

/// A swift-log handler that appends one line per message to a file (the in-process coordinator
/// and workers of `sweep --local` log there, leaving the terminal to the progress bar).
struct FileLogHandler: LogHandler {
    /// One open file shared by every logger writing to it.
    final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private let handle: FileHandle
        let path: String

        init(path: String) throws {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            guard let h = FileHandle(forWritingAtPath: path) else { throw CommandFailure("cannot open log file \(path)") }
            h.seekToEndOfFile()
            handle = h
            self.path = path
        }

        func write(_ line: String) { lock.withLock { handle.write(Data(line.utf8)) } }
    }

    let label: String
    let sink: Sink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = ISO8601DateFormatter().string(from: Date())
        sink.write("\(time) \(event.level) \(label): \(event.message)\(fields)\n")
    }
}

extension LogSetup {
    /// A logger that writes to `sink` instead of standard error.
    static func fileLogger(_ label: String, sink: FileLogHandler.Sink, level: Logger.Level = .info) -> Logger {
        var l = Logger(label: label) { FileLogHandler(label: $0, sink: sink) }
        l.logLevel = level
        return l
    }
}
