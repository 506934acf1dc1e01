@testable import Cluster
import Foundation
import XCTest

final class MergeTests: XCTestCase {
    var directory: URL!
    let e1 = JournalFixture.experiment(1), e2 = JournalFixture.experiment(2), e3 = JournalFixture.experiment(3)

    override func setUpWithError() throws { directory = try JournalFixture.directory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A journal at `name` declaring `experiments` in sweep `sweep`, with the given result bodies recorded.
    @discardableResult
    func journal(_ name: String, sweep: String, _ experiments: [JournalExperiment],
                 results: [(JournalExperiment, Data)]) throws -> String {
        let j = try Journal(path: file(name))
        try j.declare(sweepID: sweep, sweepName: sweep, experiments: experiments)
        for (n, (e, body)) in results.enumerated() {
            let attempt = try j.assign(e.id, to: "w", now: 0)
            XCTAssertEqual(try j.recordResult(e.id, attempt: attempt, digest: "\(name)-\(n)", body: body, now: 1), .recorded)
        }
        return file(name)
    }

    func testUnionOfExperimentsAndResults() throws {
        let a = try journal("a.db", sweep: "sa", [e1, e2], results: [(e1, JournalFixture.body(e1))])
        let b = try journal("b.db", sweep: "sb", [e2, e3], results: [(e2, JournalFixture.body(e2))])
        let failing = try Journal(path: b)
        try failing.assign(e3.id, to: "w", now: 2)
        try failing.endAttempt(e3.id, attempt: 1, outcome: .failed, failureClass: .error, message: nil, retryable: false, now: 3)
        let report = try JournalMerge.merge([a, b], into: file("m.db"))
        XCTAssertEqual(report, MergeReport(experiments: 3, results: 2, fromEach: [1, 1], conflicts: []))
        let merged = try Journal.openExisting(file("m.db"))
        XCTAssertEqual(try merged.experiments().map(\.state), [.succeeded, .succeeded, .pending])
        XCTAssertEqual(try merged.results().map(\.experiment), [e1.id, e2.id])
        XCTAssertEqual(try merged.results().map(\.digest), ["a.db-0", "b.db-0"])
        XCTAssertEqual(try merged.sweeps().map(\.id), ["sa", "sb"])
        XCTAssertEqual(try merged.experimentIDs(inSweep: "sb"), [e2.id, e3.id])
        XCTAssertEqual(try merged.assign(e3.id, to: "w", now: 0), 1, "a merged journal can be run")
        XCTAssertEqual(try Journal.openExisting(b).experiment(e3.id)?.state, .failed, "inputs are not modified")
    }

    func testIdenticalMetricsAreNoConflict() throws {
        // Different timings, a float difference within tolerance, and an unknown metrics field (ignored).
        let a = try journal("a.db", sweep: "s", [e1], results: [(e1, JournalFixture.body(e1, accuracy: 90.5, wall: 10))])
        let b = try journal("b.db", sweep: "s", [e1], results: [
            (e1, JournalFixture.body(e1, accuracy: 90.5 + 1e-12, wall: 99, extra: #", "future_field": {"x": 1}"#)),
        ])
        let report = try JournalMerge.merge([a, b], into: file("m.db"))
        XCTAssertEqual(report, MergeReport(experiments: 1, results: 1, fromEach: [1, 0], conflicts: []))
        let merged = try Journal.openExisting(file("m.db"))
        XCTAssertEqual(try merged.results().map(\.digest), ["a.db-0"])
        XCTAssertTrue(try merged.provenance(e1.id).isEmpty)
    }

    func testDifferingMetricsAreAConflictAndTheFirstIsKept() throws {
        let a = try journal("a.db", sweep: "s", [e1, e2], results: [(e1, JournalFixture.body(e1)), (e2, JournalFixture.body(e2))])
        let b = try journal("b.db", sweep: "s", [e1, e2], results: [(e1, JournalFixture.body(e1, accuracy: 91, macs: 1_000_001)),
                                                                     (e2, JournalFixture.body(e2))])
        let c = try journal("c.db", sweep: "s", [e1], results: [(e1, JournalFixture.body(e1, accuracy: 92))])
        let report = try JournalMerge.merge([a, b, c], into: file("m.db"))
        XCTAssertEqual(report.results, 2)
        XCTAssertEqual(report.fromEach, [2, 0, 0])
        XCTAssertEqual(report.conflicts, [
            MergeConflict(experiment: e1.id, name: "exp-1", sources: [a, b, c],
                          fields: ["accuracy", "epoch_accuracies", "macs"]),
        ])
        let merged = try Journal.openExisting(file("m.db"))
        let kept = try XCTUnwrap(merged.results().first)
        XCTAssertEqual(kept.digest, "a.db-0")
        XCTAssertEqual(try kept.decoded().metrics.accuracy, 90.5)
        XCTAssertEqual(try merged.provenance(e1.id).map(\.reason), ["nondeterministic", "nondeterministic"])
        XCTAssertEqual(try merged.provenance(e1.id).map(\.source), [b, c])
    }

    func testExistingOutputIsNeverOverwritten() throws {
        let a = try journal("a.db", sweep: "s", [e1], results: [])
        let output = file("m.db")
        _ = FileManager.default.createFile(atPath: output, contents: Data("keep me".utf8))
        XCTAssertThrowsError(try JournalMerge.merge([a], into: output)) { error in
            XCTAssertEqual("\(error)", "merge: output \(output) exists; it is never overwritten")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: output), Data("keep me".utf8))
        XCTAssertThrowsError(try JournalMerge.merge([a], into: a), "an input as output")
    }

    func testBadInputsAreNamed() throws {
        let a = try journal("a.db", sweep: "s", [e1], results: [])
        let garbage = file("notes.txt")
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 0x20, count: 2048))
        XCTAssertThrowsError(try JournalMerge.merge([a, garbage], into: file("m.db"))) { error in
            XCTAssertEqual((error as? JournalError)?.file, garbage)
            XCTAssertTrue("\(error)".hasPrefix("\(garbage): not a prunebench journal"), "\(error)")
        }
        XCTAssertThrowsError(try JournalMerge.merge([a, file("missing.db")], into: file("m.db"))) { error in
            XCTAssertTrue("\(error)".contains("missing.db: does not exist"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: file("m.db")), "no output left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file("missing.db")), "inputs are never created")
    }

    func testResultWithoutMetricsIsAnError() throws {
        let a = try journal("a.db", sweep: "s", [e1], results: [(e1, Data(#"{"id": "x"}"#.utf8))])
        XCTAssertThrowsError(try JournalMerge.merge([a], into: file("m.db"))) { error in
            XCTAssertEqual((error as? JournalError)?.kind, .badResult)
            XCTAssertTrue("\(error)".hasPrefix(a), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: file("m.db")))
    }
}
