import Bench
import Foundation
import XCTest

final class LeaderboardOutputTests: XCTestCase {
    typealias F = LeaderboardFixtures

    static let results = [
        F.make(method: "l1", speedup: 2, accuracy: 70, seed: 0), F.make(method: "l1", speedup: 2, accuracy: 72, seed: 1),
        F.make(method: "l2", speedup: 2, accuracy: 69, seed: 0), F.make(method: "l2", speedup: 4, accuracy: 60, seed: 0),
        F.make(method: "slim", speedup: 2, accuracy: 68, seed: 0),
        F.make(board: "cifar100.resnet18.global_protected", method: "l2", speedup: 2, accuracy: 75, base: 75.61),
    ]

    var report: LeaderboardReport { LeaderboardReport.build(from: Self.results) }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("leaderboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testCSVParsesBackToTheCells() throws {
        let lines = CSVRenderer.render(report).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines[0], CSVRenderer.columns)
        let rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(CSVRenderer.columns, $0)) }
        XCTAssertEqual(rows.count, 5)
        XCTAssertTrue(lines.allSatisfy { $0.count == CSVRenderer.columns.count })
        let l1 = try XCTUnwrap(rows.first { $0["board"] == "test.board" && $0["method"] == "l1" })
        XCTAssertEqual(l1["speedup"], "2")
        XCTAssertEqual(l1["track"], "criterion")
        XCTAssertEqual(l1["seeds"], "2")
        XCTAssertEqual(l1["accuracy_mean"], "71")
        XCTAssertEqual(Double(try XCTUnwrap(l1["accuracy_std"])) ?? 0, 2.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(l1["rank"], "1")
        XCTAssertEqual(l1["reg_s"], "")
        XCTAssertEqual(rows.first { $0["method"] == "slim" }?["track"], "regularizer")
        XCTAssertEqual(rows.first { $0["method"] == "slim" }?["reg_s"], "30")
        XCTAssertEqual(rows.first { $0["board"] == "cifar100.resnet18.global_protected" }?["paper_rank"], "4")
        // Measured speed-up: base latency over pruned latency (the fixtures: 1 + s/4 at batch 1, 0.8 s at batch 64).
        XCTAssertEqual(Double(try XCTUnwrap(l1["measured_speedup_b1"])) ?? 0, 1.5, accuracy: 1e-9)
        XCTAssertEqual(Double(try XCTUnwrap(l1["measured_speedup_b64"])) ?? 0, 1.6, accuracy: 1e-9)
    }

    func testJSONRoundTrips() throws {
        let json = try JSONRenderer.render(report)
        XCTAssertEqual(try JSONDecoder().decode(LeaderboardReport.self, from: Data(json.utf8)), report)
    }

    func testMarkdownHasASectionPerBoardAndTheRows() {
        let md = MarkdownRenderer.render(report)
        XCTAssertTrue(md.contains("## test.board"))
        XCTAssertTrue(md.contains("## cifar100.resnet18.global_protected"))
        XCTAssertTrue(md.contains("| 1 | l1 | 2 | 71.00 ± 1.41 | +21.00 |"), md)
        XCTAssertTrue(md.contains("Paper rank"))
        XCTAssertTrue(md.contains("| Speedup | Real b1 | Real b64 | Step |"), md)
        XCTAssertTrue(md.contains("| 2.10× | 1.50× | 1.60× |"), md)
        XCTAssertTrue(md.contains("Kendall τ-b vs paper"))
    }

    func testHTMLIsSelfContainedWithAPlotPerBoard() {
        let html = HTMLRenderer.render(report)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        // Two plots per board plus one legend swatch per row key.
        let boards = report.boards
        let swatches = boards.reduce(0) { $0 + Set($1.tables.flatMap { $0.rows.map(\.method) }).count }
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2 * boards.count + swatches)
        XCTAssertFalse(html.lowercased().contains("http"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<link"))
        XCTAssertTrue(html.contains("Fashion-MNIST stand-in for CIFAR-100"))
        XCTAssertTrue(html.contains("<polyline"))
        XCTAssertTrue(html.contains("Kendall τ-b vs paper"))
    }

    func testWriterWritesFourFiles() throws {
        let dir = try temporaryDirectory()
        let paths = try LeaderboardWriter.write(report, to: dir.path)
        XCTAssertEqual(paths.map { URL(fileURLWithPath: $0).lastPathComponent }, LeaderboardWriter.fileNames)
        XCTAssertTrue(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        let lines = LeaderboardWriter.summaryLines(report)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("cifar100.resnet18.global_protected [smoke]: 1 rows, 1 cells"), lines[0])
        XCTAssertTrue(lines[0].contains("τ vs paper"))
    }

    func testLoadsJSONLinesAndArtifactDirectories() throws {
        let dir = try temporaryDirectory()
        let lines = try Self.results.map { String(decoding: try $0.json(), as: UTF8.self).replacingOccurrences(of: "\n", with: "") }
        let jsonl = dir.appendingPathComponent("results.jsonl")
        try (lines.joined(separator: "\n") + "\n\n").write(to: jsonl, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ResultLoader.load(path: jsonl.path), Self.results)
        XCTAssertEqual(try ResultLoader.load(path: dir.path), Self.results)
        // Without results.jsonl: every */result.json.
        let artifacts = try temporaryDirectory()
        for r in Self.results {
            let sub = artifacts.appendingPathComponent(r.id)
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try r.json().write(to: sub.appendingPathComponent("result.json"))
        }
        XCTAssertEqual(try ResultLoader.load(path: artifacts.path).count, Self.results.count)
    }

    func testLoadingErrorsNameFileAndLine() throws {
        let good = String(decoding: try Self.results[0].json(), as: UTF8.self).replacingOccurrences(of: "\n", with: "")
        XCTAssertThrowsError(try ResultLoader.parseJSONLines("\(good)\n\n{not json\n", source: "r.jsonl")) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("r.jsonl:3: not an experiment result"), "\(error)")
        }
        XCTAssertThrowsError(try ResultLoader.parseJSONLines("\(good)\n{\"id\": \"x\"}", source: "r.jsonl")) { error in
            XCTAssertEqual(String(describing: error), "r.jsonl:2: not an experiment result: missing key 'name'")
        }
        let dir = try temporaryDirectory()
        let sub = dir.appendingPathComponent("abc")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Data("[]".utf8).write(to: sub.appendingPathComponent("result.json"))
        XCTAssertThrowsError(try ResultLoader.load(path: dir.path)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(sub.appendingPathComponent("result.json").path + ": "), "\(error)")
        }
        XCTAssertThrowsError(try ResultLoader.load(path: dir.appendingPathComponent("missing").path)) { error in
            XCTAssertTrue(error is LeaderboardError)
        }
    }
}
