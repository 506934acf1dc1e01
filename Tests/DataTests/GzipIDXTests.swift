import XCTest
@testable import Data

final class GzipIDXTests: XCTestCase {
    func testGunzipRoundTrip() throws {
        let dir = try makeTemporaryDirectory(self)
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        try writeGzip(payload, to: "\(dir)/x.gz")
        XCTAssertEqual(try Gzip.readContents("\(dir)/x.gz"), payload)
        // Concatenated members inflate to the concatenation.
        let a = try readRaw("\(dir)/x.gz")
        try writeGzip([1, 2, 3], to: "\(dir)/y.gz")
        try writeRaw(a + (try readRaw("\(dir)/y.gz")), to: "\(dir)/xy.gz")
        XCTAssertEqual(try Gzip.readContents("\(dir)/xy.gz"), payload + [1, 2, 3])
        // Files without the gzip magic are returned as they are, unless named .gz.
        try writeRaw([9, 8, 7], to: "\(dir)/plain")
        XCTAssertEqual(try Gzip.readContents("\(dir)/plain"), [9, 8, 7])
        try writeRaw([9, 8, 7], to: "\(dir)/fake.gz")
        assertDatasetError(try Gzip.readContents("\(dir)/fake.gz"), contains: ["fake.gz", "not a gzip"])
    }

    func testParsesGzippedAndPlainIDX() throws {
        for gzip in [true, false] {
            let dir = try makeTemporaryDirectory(self)
            try writeIDXSplit(dir: dir, prefix: "train", count: 7, gzip: gzip)
            try writeIDXSplit(dir: dir, prefix: "t10k", count: 3, gzip: gzip)
            let train = try FashionMNIST.load(split: .train, dataDirectory: dir)
            XCTAssertEqual(train.shape, [7, 1, 28, 28])
            XCTAssertEqual(train.labels, [0, 1, 2, 3, 4, 5, 6])
            XCTAssertEqual(Array(train.image(5)), pattern(5, 784))
            XCTAssertEqual(train.classCount, 10)
            XCTAssertEqual(train.name, "fashion-mnist/train")
            let test = try FashionMNIST.load(split: .test, dataDirectory: dir)
            XCTAssertEqual(test.count, 3)
            XCTAssertEqual(test.fingerprint.count, 16)
            XCTAssertNotEqual(test.fingerprint, train.fingerprint)
            XCTAssertEqual(test.fingerprint, try FashionMNIST.load(split: .test, dataDirectory: dir).fingerprint)
        }
    }

    func testTruncatedGzip() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeIDXSplit(dir: dir, prefix: "train", count: 50)
        let path = "\(dir)/train-images-idx3-ubyte.gz"
        let full = try readRaw(path)
        for cut in [full.count - 4, full.count / 2, 12, 1] {
            try writeRaw(Array(full.prefix(cut)), to: path)
            assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                               contains: ["train-images-idx3-ubyte.gz"]) {
                if case .truncatedGzip = $0 { return true }
                if case .corruptGzip = $0 { return cut < 18 }  // a cut inside the header
                return false
            }
        }
        try writeRaw(Array(full.prefix(full.count / 2)), to: path)
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-images-idx3-ubyte.gz", "truncated"])
        // Damaged deflate data or checksum.
        var damaged = full
        damaged[damaged.count - 6] ^= 0xFF
        try writeRaw(damaged, to: path)
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-images-idx3-ubyte.gz", "corrupt"])
    }

    func testBadMagic() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeIDXSplit(dir: dir, prefix: "train", count: 2)
        try writeGzip(idxBytes(magic: 0x801, dims: [2, 28, 28], data: [UInt8](repeating: 0, count: 2 * 784)),
                      to: "\(dir)/train-images-idx3-ubyte.gz")
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-images-idx3-ubyte.gz", "0x00000801", "0x00000803"]) {
            $0 == .badMagic(path: "\(dir)/train-images-idx3-ubyte.gz", expected: 0x803, found: 0x801)
        }
        assertDatasetError(try IDX.parseLabels([0, 0], path: "short"), contains: ["short", "header"])
    }

    func testMissingFile() throws {
        let dir = try makeTemporaryDirectory(self)
        assertDatasetError(try FashionMNIST.load(split: .test, dataDirectory: dir),
                           contains: ["\(dir)/t10k-labels-idx1-ubyte.gz", "apt-get install dataset-fashion-mnist",
                                      "--data-dir"]) {
            if case .missingFile = $0 { return true } else { return false }
        }
        try writeIDXSplit(dir: dir, prefix: "t10k", count: 2)
        try FileManager.default.removeItem(atPath: "\(dir)/t10k-images-idx3-ubyte.gz")
        assertDatasetError(try FashionMNIST.load(split: .test, dataDirectory: dir),
                           contains: ["t10k-images-idx3-ubyte.gz", "not found"])
    }

    func testWrongDimensionsCountsAndLabels() throws {
        let dir = try makeTemporaryDirectory(self)
        // 14x14 images where 28x28 are expected.
        try writeIDXSplit(dir: dir, prefix: "train", count: 3, rows: 14, cols: 14)
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-images-idx3-ubyte.gz", "28x28", "14x14"])
        // Header promises more data than the file holds.
        try writeGzip(idxBytes(magic: 0x803, dims: [3, 28, 28], data: [UInt8](repeating: 1, count: 784 * 2)),
                      to: "\(dir)/train-images-idx3-ubyte.gz")
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-images-idx3-ubyte.gz", "2352", "1568"])
        // Huge extents must not overflow or allocate.
        try writeGzip(idxBytes(magic: 0x803, dims: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: []),
                      to: "\(dir)/train-images-idx3-ubyte.gz")
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-images-idx3-ubyte.gz"])
        // 3 images, 4 labels.
        try writeIDXSplit(dir: dir, prefix: "train", count: 3)
        try writeGzip(idxBytes(magic: 0x801, dims: [4], data: [0, 1, 2, 3]), to: "\(dir)/train-labels-idx1-ubyte.gz")
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "4 labels", "3 images"])
        // Label 10 of 10 classes.
        try writeGzip(idxBytes(magic: 0x801, dims: [3], data: [0, 10, 2]), to: "\(dir)/train-labels-idx1-ubyte.gz")
        assertDatasetError(try FashionMNIST.load(split: .train, dataDirectory: dir),
                           contains: ["train-labels-idx1-ubyte.gz", "label 10", "sample 1", "0..<10"])
    }

    func testDatasetHelpers() throws {
        let d = try syntheticDataset(count: 10)
        XCTAssertEqual(d.prefix(4).count, 4)
        XCTAssertEqual(d.prefix(40).fingerprint, d.fingerprint)
        let s = d.subset([3, 1])
        XCTAssertEqual(s.labels, [3, 1])
        XCTAssertEqual(Array(s.image(0)), Array(d.image(3)))
        assertDatasetError(try Dataset(name: "n", pixels: [1, 2, 3], labels: [0], channels: 1, height: 2, width: 2,
                                       classCount: 2), contains: ["n"])
        // The published 64-bit FNV-1a test vector for "a".
        var h = FNV1a()
        "a".utf8CString.dropLast().map { UInt8($0) }.withUnsafeBufferPointer { h.add($0) }
        XCTAssertEqual(h.value, 0xAF63_DC4C_8601_EC8C)
    }
}
