import Logging

/// Sets up swift-log once: human-readable lines on standard error.
enum LogSetup {
    nonisolated(unsafe) private static var done = false

    static func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        if !done {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            done = true
        }
        var l = Logger(label: label)
        l.logLevel = level
        return l
    }
}
