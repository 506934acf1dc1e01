import CZlib
import Foundation
import XCTest
@testable import Data

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("datatests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// Writes `bytes` gzip-compressed with zlib's gzopen/gzwrite.
func writeGzip(_ bytes: [UInt8], to path: String) throws {
    guard let f = gzopen(path, "wb") else { throw TestError("gzopen failed for \(path)") }
    let written = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
    guard gzclose(f) == Z_OK, Int(written) == bytes.count else { throw TestError("gzwrite failed for \(path)") }
}

/// Writes `bytes` as they are.
func writeRaw(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Reads a file's bytes.
func readRaw(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// An IDX file: big-endian magic and extents, then `data`.
func idxBytes(magic: UInt32, dims: [Int], data: [UInt8]) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    return be(magic) + dims.flatMap { be(UInt32($0)) } + data
}

/// Deterministic pixel pattern for image `i` of `size` bytes.
func pattern(_ i: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: i * 31 + $0 * 7) } }

/// Writes a small Fashion-MNIST-style split (`prefix` = train or t10k) into `dir`.
func writeIDXSplit(dir: String, prefix: String, count: Int, rows: Int = 28, cols: Int = 28,
                   classCount: Int = 10, gzip: Bool = true) throws {
    let pixels = (0..<count).flatMap { pattern($0, rows * cols) }
    let labels = (0..<count).map { UInt8($0 % classCount) }
    let images = idxBytes(magic: 0x803, dims: [count, rows, cols], data: pixels)
    let labelFile = idxBytes(magic: 0x801, dims: [count], data: labels)
    let suffix = gzip ? ".gz" : ""
    let write = gzip ? writeGzip : writeRaw
    try write(images, "\(dir)/\(prefix)-images-idx3-ubyte\(suffix)")
    try write(labelFile, "\(dir)/\(prefix)-labels-idx1-ubyte\(suffix)")
}

/// A synthetic data set with `count` images whose first pixel is its index (mod 256).
func syntheticDataset(count: Int, channels: Int = 1, height: Int = 4, width: Int = 4,
                      classCount: Int = 10) throws -> Dataset {
    let size = channels * height * width
    var pixels = [UInt8]()
    for i in 0..<count {
        var p = pattern(i, size)
        p[0] = UInt8(truncatingIfNeeded: i)
        pixels += p
    }
    return try Dataset(name: "synthetic", pixels: pixels, labels: (0..<count).map { Int32($0 % classCount) },
                       channels: channels, height: height, width: width, classCount: classCount)
}

/// Asserts that `body` throws a `DatasetError` matching `check` whose message contains `fragments`.
func assertDatasetError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                           file: StaticString = #filePath, line: UInt = #line,
                           _ check: (DatasetError) -> Bool = { _ in true }) {
    do {
        _ = try body()
        XCTFail("expected a DatasetError", file: file, line: line)
    } catch let error as DatasetError {
        XCTAssertTrue(check(error), "unexpected error case: \(error)", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(error.description.contains(f), "message \"\(error)\" lacks \"\(f)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
    }
}
