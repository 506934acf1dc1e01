import Experiments
import Bench
import Cluster
import Foundation
import TestSupport
import XCTest

/// Runs `prunebench` processes for the cluster integration tests: the binary built next to the
/// test bundle, each process logging to a file in a temporary directory.
final class ClusterHarness {
    let directory: URL
    let port = Int.random(in: 20_000...40_000)
    var endpoint: String { "tcp://127.0.0.1:\(port)" }
    var journal: String { directory.appendingPathComponent("j.db").path }

    init(_ name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The `prunebench` executable of this build.
    static var binary: String { Prunebench.binary }

    func log(_ name: String) -> String { directory.appendingPathComponent("\(name).log").path }

    /// Starts `prunebench args...`, stdout and stderr to `<name>.log` (appended).
    @discardableResult
    func start(_ name: String, _ args: [String]) throws -> Process {
        let path = log(name)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        p.currentDirectoryURL = directory
        p.standardOutput = h
        p.standardError = h
        try p.run()
        try h.close()
        return p
    }

    func startCoordinator(_ filters: [String], extra: [String] = [], name: String = "coordinator") throws -> Process {
        try start(name, ["coordinator", "--journal", journal, "--bind", endpoint, "--exit-when-done",
                         "--results-out", directory.appendingPathComponent("cluster-results.jsonl").path] + extra + filters)
    }

    func startWorker(_ id: String, extra: [String] = []) throws -> Process {
        try start(id, ["worker", "--connect", endpoint, "--id", id, "--work", directory.appendingPathComponent(id).path,
                       "--threads", "1", "--exit-when-complete"] + extra)
    }

    func text(_ name: String) -> String { (try? String(contentsOfFile: log(name), encoding: .utf8)) ?? "" }

    /// Polls `condition` every 20 ms; false on timeout.
    func wait(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// Waits for a process to exit (killing it after the timeout); returns its exit status.
    @discardableResult
    func finish(_ p: Process, timeout: TimeInterval) -> Int32? {
        if !wait(timeout: timeout, { !p.isRunning }) {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            return nil
        }
        return p.terminationStatus
    }

    /// Results of a `results.jsonl`, by ID.
    static func results(_ path: String) throws -> [String: ExperimentResult] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out = [String: ExperimentResult]()
        for line in text.split(separator: "\n") {
            let r = try JSONDecoder().decode(ExperimentResult.self, from: Data(line.utf8))
            XCTAssertNil(out[r.id], "duplicate result row for \(r.id)")
            out[r.id] = r
        }
        return out
    }

    /// A local sweep of `filters` with one thread per worker: the reference results.
    static func localReference(_ filters: [String]) throws -> [String: ExperimentResult] {
        let h = try ClusterHarness("local")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let p = try h.start("sweep", ["sweep", "--local", "\(cores)", "--artifacts", h.directory.appendingPathComponent("art").path] + filters)
        XCTAssertEqual(h.finish(p, timeout: 900), 0, h.text("sweep"))
        return try results(h.directory.appendingPathComponent("art/results.jsonl").path)
    }
}

/// The smoke experiments of the cluster tests and their reference results from a local sweep
/// (computed once per test process).
enum SmokeCells {
    /// Every row but hrank: its per-image SVDs take minutes in a debug build (it runs in the local
    /// sweep tests and the smoke grid), and the tests here are about the cluster, not the criterion.
    static let methods = ["random", "l1", "l2", "fpgm", "lamp", "bnscale_only", "taylor", "hessian", "obdc", "cp", "thinet",
                          "slim", "group_slim", "group_sl", "growing_reg", "l2_lasso"].flatMap { ["--method", $0] }
    /// 33 smoke experiments: the ResNet-18 pretrain and 2 boards x 16 rows at 2x.
    static let filters = ["--profile", "smoke", "--leaderboard", "cifar100.resnet18.global_protected",
                          "--leaderboard", "cifar100.resnet18.local", "--speedup", "2"] + methods
    /// 17 of them (one board), for the crash tests.
    static let smallFilters = ["--profile", "smoke", "--leaderboard", "cifar100.resnet18.global_protected", "--speedup", "2"] + methods
    /// 4 of them (the pretrain and three rows), for the single-fault tests.
    static let tinyMethods = ["random", "l1", "l2"]
    static let tinyFilters = ["--profile", "smoke", "--leaderboard", "cifar100.resnet18.global_protected", "--speedup", "2"]
        + tinyMethods.flatMap { ["--method", $0] }

    nonisolated(unsafe) private static var cached: [String: ExperimentResult]?

    /// The local sweep's results for ``filters`` (a superset of the other filters' experiments).
    static func reference() throws -> [String: ExperimentResult] {
        if let r = cached { return r }
        let r = try ClusterHarness.localReference(filters)
        cached = r
        return r
    }
}

/// The metrics of two result sets are byte-identical, ID by ID.
func assertSameMetrics(_ a: [String: ExperimentResult], _ b: [String: ExperimentResult], file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(Set(a.keys), Set(b.keys), "different experiments", file: file, line: line)
    for (id, r) in a {
        guard let other = b[id] else { continue }
        XCTAssertEqual(try r.metricsJSON(), try other.metricsJSON(), "metrics differ for \(r.name)", file: file, line: line)
    }
}
