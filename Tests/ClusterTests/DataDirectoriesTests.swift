import Experiments
import Foundation
import TestSupport
import XCTest

/// `--data-dir DIR` / `--data-dir NAME=DIR`: parsing, and each job getting its data set's folder.
final class DataDirectoriesTests: XCTestCase {
    private func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("datadirs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func message(_ values: [String]) -> String {
        do { _ = try DataDirectories(parsing: values); return "" } catch { return "\(error)" }
    }

    func testFoldersByDataSetAndForAll() throws {
        let all = try temporaryFolder(), imagenet = try temporaryFolder()
        let dirs = try DataDirectories(parsing: ["imagenet=" + imagenet, all])
        XCTAssertEqual(dirs.directory(for: .imagenet), imagenet)
        XCTAssertEqual(dirs.directory(for: .cifar100), all)
        XCTAssertEqual(try DataDirectories(parsing: dirs.values), dirs)
        XCTAssertNil(DataDirectories().directory(for: .fashionMNIST))
        // A folder whose name has '=' in a path component is a folder for all.
        let odd = try temporaryFolder() + "/a=b"
        try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
        XCTAssertEqual(try DataDirectories(parsing: [odd]).directory(for: .coco), odd)
    }

    func testBadValuesNameTheValue() throws {
        let dir = try temporaryFolder()
        XCTAssertTrue(message(["imagenett=" + dir]).contains("unknown data set 'imagenett'"))
        XCTAssertTrue(message(["imagenet=" + dir + "/missing"]).contains("is not a folder"))
        XCTAssertTrue(message(["imagenet="]).contains("the folder is empty"))
        XCTAssertTrue(message(["imagenet=" + dir, "imagenet=" + dir]).contains("imagenet already has"))
        XCTAssertTrue(message([dir, dir]).contains("already given"))
    }

    /// `run` takes the folder of the data set its experiment loads: a Fashion-MNIST experiment with
    /// `fashion-mnist=EMPTY` fails naming EMPTY's file, and ignores a folder named for imagenet.
    func testRunUsesTheFolderOfItsDataSet() throws {
        let grid = try Prunebench.run(["grid", "--profile", "smoke", "--json"])
        XCTAssertEqual(grid.status, 0, grid.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(grid.stdout.utf8)) as! [String: Any]
        let first = (object["experiments"] as! [[String: Any]])[0]
        let dir = try temporaryFolder()
        let spec = dir + "/spec.json"
        try JSONSerialization.data(withJSONObject: first).write(to: URL(fileURLWithPath: spec))
        let empty = try temporaryFolder()
        let routed = try Prunebench.run(["run", "--spec", spec, "--artifacts", dir + "/art", "--data-dir", "fashion-mnist=" + empty,
                                         "--data-dir", "imagenet=" + dir])
        XCTAssertNotEqual(routed.status, 0)
        XCTAssertTrue(routed.stderr.contains(empty + "/"), routed.stderr)
        let bad = try Prunebench.run(["run", "--spec", spec, "--data-dir", "cifar1000=" + empty])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown data set 'cifar1000'"), bad.stderr)
    }
}
