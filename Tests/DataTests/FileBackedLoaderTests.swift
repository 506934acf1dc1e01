import Foundation
import Imaging
import Tensor
import XCTest
@testable import Data

/// Image folders in the training loader: decoded in parallel, the same batches for any thread
/// count, a bad file stops the epoch with its name.
final class FileBackedLoaderTests: XCTestCase {
    /// Three classes of five 28x28 images made from seeded noise, written as JPEGs.
    private func makeFolder() throws -> String {
        let dir = try makeTemporaryDirectory(self)
        var g = SeededGenerator(seed: 7)
        var pixels = [UInt8](), labels = [Int32]()
        for i in 0..<15 {
            labels.append(Int32(i % 3))
            for _ in 0..<(28 * 28) { pixels.append(UInt8(truncatingIfNeeded: g.next())) }
        }
        let set = try Dataset(name: "noise", pixels: pixels, labels: labels, channels: 1, height: 28, width: 28,
                              classCount: 3, classNames: ["a", "b", "c"])
        try ImageFolderWriter.write(set, to: dir)
        return dir
    }

    func testWrittenFolderListsBackInLabelOrder() throws {
        let dir = try makeFolder()
        let folder = try ImageFolder(root: dir)
        XCTAssertEqual(folder.classes, ["0_a", "1_b", "2_c"])
        XCTAssertEqual(folder.count, 15)
        XCTAssertEqual(folder.samples.map(\.label), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    }

    func testBatchesDoNotDependOnDecodeThreads() throws {
        let set = Dataset(name: "folder", folder: try ImageFolder(root: try makeFolder()))
        let loader = try BatchLoader(dataset: set, batchSize: 4, shuffle: true, seed: 3,
                                     transform: TransformConfig(pipeline: .imagenetTrain))
        XCTAssertEqual(loader.sampleShape, [224, 224, 3])
        let saved = BatchLoader.decodeThreads
        defer { BatchLoader.decodeThreads = saved }
        var runs: [[[Float]]] = []
        for threads in [1, 2, 3] {
            BatchLoader.decodeThreads = threads
            let batches = loader.epoch(1)
            runs.append(batches.map { $0.images.scalars })
            try batches.checkCompleted()
        }
        XCTAssertEqual(runs[0].count, 4)
        XCTAssertEqual(runs[0], runs[1])
        XCTAssertEqual(runs[0], runs[2])
        // Another epoch draws other crops.
        XCTAssertNotEqual(loader.epoch(2).map { $0.images.scalars }, runs[0])
    }

    func testABadFileEndsTheEpochWithItsName() throws {
        let dir = try makeFolder()
        let folder = try ImageFolder(root: dir)
        let victim = folder.samples[6].path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: victim))
        let loader = try BatchLoader(dataset: Dataset(name: "folder", folder: folder), batchSize: 5, shuffle: false,
                                     transform: TransformConfig(pipeline: .imagenetEval))
        let batches = loader.epoch(0)
        XCTAssertEqual(batches.map(\.count), [5])
        XCTAssertThrowsError(try batches.checkCompleted()) {
            XCTAssertEqual("\($0)", "\(victim): JPEG image file is truncated")
        }
        XCTAssertThrowsError(try loader.batch(1, epoch: 0, order: loader.order(epoch: 0)))
    }

    func testPipelinesAndStorageMustAgree() throws {
        let folderSet = Dataset(name: "folder", folder: try ImageFolder(root: try makeFolder()))
        XCTAssertThrowsError(try BatchLoader(dataset: folderSet, batchSize: 2, shuffle: false, transform: TransformConfig())) {
            XCTAssert("\($0)".contains("must name an image pipeline"), "\($0)")
        }
        let memory = try Dataset(name: "m", pixels: [0, 0, 0, 0], labels: [0], channels: 1, height: 2, width: 2, classCount: 1)
        XCTAssertThrowsError(try BatchLoader(dataset: memory, batchSize: 1, shuffle: false, transform: TransformConfig(pipeline: .imagenetEval)))
        XCTAssertNotEqual(folderSet.subset([0, 5]).fingerprint, folderSet.subset([0, 6]).fingerprint)
        XCTAssertEqual(folderSet.subset([0, 5]).fingerprint, folderSet.subset([0, 5]).fingerprint)
        XCTAssertEqual(folderSet.subset([0, 5]).files, [folderSet.files![0], folderSet.files![5]])
    }
}
