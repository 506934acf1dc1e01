import Foundation
import TestSupport
import XCTest
@testable import Data

/// CIFAR's python versions (pickles written as Python 2 wrote them, made by
/// bench/reference/make_cifar_python.py) against the binary versions of the same images.
final class CIFARPythonTests: XCTestCase {
    static let root = Fixtures.path("data/cifar")

    private func assertSameSet(_ a: Dataset, _ b: Dataset, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        XCTAssertEqual(a.pixels, b.pixels, file: file, line: line)
        XCTAssertEqual(a.labels, b.labels, file: file, line: line)
        XCTAssertEqual(a.classNames, b.classNames, file: file, line: line)
        XCTAssertEqual(a.name, b.name, file: file, line: line)
    }

    func testCIFAR100PythonMatchesTheBinaryVersion() throws {
        for split in [Split.train, .test] {
            for kind in [CIFAR.LabelKind.fine, .coarse] {
                let python = try CIFAR.loadCIFAR100(split: split, labels: kind, dataDirectory: Self.root + "/cifar-100-python")
                let binary = try CIFAR.loadCIFAR100(split: split, labels: kind, dataDirectory: Self.root + "/cifar-100-binary")
                assertSameSet(python, binary)
            }
        }
        let train = try CIFAR.loadCIFAR100(split: .train, dataDirectory: Self.root + "/cifar-100-python")
        XCTAssertEqual(train.labels, [0, 99, 42, 7, 63])
        XCTAssertEqual(train.classNames.first, "class_00")
        XCTAssertEqual(train.classNames.count, 100)
        // The parent folder finds the python version too.
        let dir = try makeTemporaryDirectory(self)
        try FileManager.default.copyItem(atPath: Self.root + "/cifar-100-python", toPath: dir + "/cifar-100-python")
        assertSameSet(try CIFAR.loadCIFAR100(split: .test, dataDirectory: dir),
                      try CIFAR.loadCIFAR100(split: .test, dataDirectory: Self.root + "/cifar-100-binary"))
    }

    func testCIFAR10PythonMatchesTheBinaryVersion() throws {
        for split in [Split.train, .test] {
            assertSameSet(try CIFAR.loadCIFAR10(split: split, dataDirectory: Self.root + "/cifar-10-batches-py"),
                          try CIFAR.loadCIFAR10(split: split, dataDirectory: Self.root + "/cifar-10-batches-bin"))
        }
        XCTAssertEqual(try CIFAR.loadCIFAR10(split: .train, dataDirectory: Self.root + "/cifar-10-batches-py").count, 10)
    }

    /// A copy of the python fixture with one file replaced.
    private func tamperedCopy(_ file: String, _ change: ([UInt8]) -> [UInt8]) throws -> String {
        let dir = try makeTemporaryDirectory(self) + "/cifar-100-python"
        try FileManager.default.copyItem(atPath: Self.root + "/cifar-100-python", toPath: dir)
        try writeRaw(change(try readRaw(dir + "/" + file)), to: dir + "/" + file)
        return dir
    }

    func testBadPicklesAreOneErrorNamingTheFile() throws {
        // A global outside NumPy's array constructors is refused, naming it.
        let evil = try tamperedCopy("train") { bytes in
            let text = Array("numpy.core.multiarray\n_reconstruct\n".utf8)
            let swap = Array("posix\nsystem\n".utf8)
            guard let at = bytes.firstRange(of: text) else { return bytes }
            return Array(bytes[..<at.lowerBound]) + swap + Array(bytes[at.upperBound...])
        }
        assertDatasetError(try CIFAR.loadCIFAR100(split: .train, dataDirectory: evil), contains: ["train", "posix.system", "refused"])

        // Truncation anywhere is an error naming the file, never a crash.
        let original = try readRaw(Self.root + "/cifar-100-python/train")
        for cut in stride(from: 1, to: original.count, by: max(1, original.count / 40)) {
            let dir = try tamperedCopy("train") { Array($0.prefix(cut)) }
            assertDatasetError(try CIFAR.loadCIFAR100(split: .train, dataDirectory: dir), contains: ["train"])
        }

        // Labels that do not match the images, and labels out of range.
        let fewer = try tamperedCopy("train") { bytes in
            // fine_labels: ]q.(K.KcK*K.K?e -> drop the last K? item
            guard let at = bytes.firstRange(of: [0x4B, 0x3F, 0x65]) else { return bytes }
            return Array(bytes[..<at.lowerBound]) + [0x65] + Array(bytes[at.upperBound...])
        }
        assertDatasetError(try CIFAR.loadCIFAR100(split: .train, dataDirectory: fewer),
                           contains: ["fine_labels", "4 labels", "5 images"])
        let outOfRange = try tamperedCopy("train") { bytes in
            guard let at = bytes.firstRange(of: [0x4B, 0x63, 0x4B, 0x2A]) else { return bytes }   // 99, 42
            return Array(bytes[..<at.lowerBound]) + [0x4B, 0x64, 0x4B, 0x2A] + Array(bytes[at.upperBound...])
        }
        assertDatasetError(try CIFAR.loadCIFAR100(split: .train, dataDirectory: outOfRange),
                           contains: ["train", "label 100", "sample 1"])
    }
}
