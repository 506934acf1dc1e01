import XCTest
@testable import Data

final class CIFARTests: XCTestCase {
    /// Records with label bytes `labels[i]` and image bytes `pattern(i)`.
    private func records(_ labels: [[UInt8]]) -> [UInt8] {
        labels.enumerated().flatMap { i, l in l + pattern(i, CIFAR.imageBytes) }
    }

    func testParsesRecords() throws {
        let bytes = records([[3], [9], [0]])
        let parsed = try CIFAR.parseRecords(bytes, path: "b.bin", labelBytes: 1, labelIndex: 0, classCount: 10)
        XCTAssertEqual(parsed.labels, [3, 9, 0])
        XCTAssertEqual(Array(parsed.pixels[3072 ..< 6144]), pattern(1, 3072))

        let c100 = records([[4, 77], [19, 99]])
        let fine = try CIFAR.parseRecords(c100, path: "t.bin", labelBytes: 2, labelIndex: 1, classCount: 100)
        XCTAssertEqual(fine.labels, [77, 99])
        let coarse = try CIFAR.parseRecords(c100, path: "t.bin", labelBytes: 2, labelIndex: 0, classCount: 20)
        XCTAssertEqual(coarse.labels, [4, 19])
        XCTAssertEqual(Array(coarse.pixels[3072...]), pattern(1, 3072))
    }

    func testBadRecords() {
        assertDatasetError(try CIFAR.parseRecords(records([[1]]) + [0], path: "data_batch_1.bin", labelBytes: 1,
                                                  labelIndex: 0, classCount: 10),
                           contains: ["data_batch_1.bin", "3073", "3074"])
        assertDatasetError(try CIFAR.parseRecords([], path: "empty.bin", labelBytes: 1, labelIndex: 0, classCount: 10),
                           contains: ["empty.bin", "3073"])
        assertDatasetError(try CIFAR.parseRecords(records([[1], [10]]), path: "data_batch_2.bin", labelBytes: 1,
                                                  labelIndex: 0, classCount: 10),
                           contains: ["data_batch_2.bin", "label 10", "sample 1"])
        assertDatasetError(try CIFAR.parseRecords(records([[20, 5]]), path: "train.bin", labelBytes: 2,
                                                  labelIndex: 0, classCount: 20),
                           contains: ["train.bin", "label 20"])
    }

    func testLoadsCIFAR10Directory() throws {
        let root = try makeTemporaryDirectory(self)
        let dir = root + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for b in 1...5 { try writeRaw(records([[UInt8(b)], [UInt8(b + 1)]]), to: "\(dir)/data_batch_\(b).bin") }
        try writeGzip(records([[7]]), to: "\(dir)/test_batch.bin.gz")
        // The parent folder works as well as the batches folder.
        let train = try CIFAR.loadCIFAR10(split: .train, dataDirectory: root)
        XCTAssertEqual(train.shape, [10, 3, 32, 32])
        XCTAssertEqual(train.labels, [1, 2, 2, 3, 3, 4, 4, 5, 5, 6])
        XCTAssertEqual(train.classNames.count, 10)
        let test = try CIFAR.loadCIFAR10(split: .test, dataDirectory: dir)
        XCTAssertEqual(test.labels, [7])
        XCTAssertEqual(Array(test.image(0)), pattern(0, 3072))

        try FileManager.default.removeItem(atPath: "\(dir)/data_batch_4.bin")
        assertDatasetError(try CIFAR.loadCIFAR10(split: .train, dataDirectory: dir),
                           contains: ["data_batch_4.bin", "--data-dir"])
    }

    func testLoadsCIFAR100() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeRaw(records([[1, 50], [2, 60], [3, 70]]), to: "\(dir)/train.bin")
        try writeRaw(Array((0..<20).map { "super\($0)\n" }.joined().utf8), to: "\(dir)/coarse_label_names.txt")
        let fine = try CIFAR.loadCIFAR100(split: .train, labels: .fine, dataDirectory: dir)
        XCTAssertEqual(fine.labels, [50, 60, 70])
        XCTAssertEqual(fine.classCount, 100)
        XCTAssertTrue(fine.classNames.isEmpty)
        let coarse = try CIFAR.loadCIFAR100(split: .train, labels: .coarse, dataDirectory: dir)
        XCTAssertEqual(coarse.labels, [1, 2, 3])
        XCTAssertEqual(coarse.classNames.last, "super19")
        assertDatasetError(try CIFAR.loadCIFAR100(split: .test, dataDirectory: dir), contains: ["test.bin", "not found"])
    }
}
