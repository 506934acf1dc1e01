import Logging

/// Sets up swift-log once: human-readable lines on standard error.
enum LogSetup {
    /// Runs once, on first use (Swift initialises static lets lazily and thread-safely).
    private static let bootstrap: Void = LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }

    static func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        _ = bootstrap
        var l = Logger(label: label)
        l.logLevel = level
        return l
    }
}
