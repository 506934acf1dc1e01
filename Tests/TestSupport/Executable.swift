import Foundation

/// The `prunebench` executable of this build, for tests that run the command line.
public enum Prunebench {
    /// Its path: `PRUNEBENCH_BINARY`, else the one built next to the test bundle, else
    /// `.build/debug/prunebench` of this checkout.
    public static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["PRUNEBENCH_BINARY"] { return env }
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent()) }
        for dir in candidates {
            let p = dir.appendingPathComponent("prunebench").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/prunebench").path
    }()

    /// Runs `prunebench args...` to completion; returns its exit status and what it wrote to
    /// standard output and standard error.
    public static func run(_ args: [String], in directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes while the process runs so neither fills up.
        let errData = SendableBox<Data>()
        let reader = Thread { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while errData.value == nil { usleep(1000) }
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.value!, as: UTF8.self))
    }
}

/// A value written once by another thread.
final class SendableBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
