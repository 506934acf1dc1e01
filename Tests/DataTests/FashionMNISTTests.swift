import Foundation
import XCTest
@testable import Data

/// Tests on the real Fashion-MNIST files; skipped when `dataset-fashion-mnist` is not installed.
final class FashionMNISTTests: XCTestCase {
    private func requireInstalled() throws {
        let dir = FashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: dir + "/train-labels-idx1-ubyte.gz")
                || FileManager.default.fileExists(atPath: dir + "/train-labels-idx1-ubyte") else {
            throw XCTSkip("\(dir) is absent (apt-get install dataset-fashion-mnist)")
        }
    }

    func testLoadsInstalledFashionMNIST() throws {
        try requireInstalled()
        let start = Date()
        let train = try FashionMNIST.load(split: .train)
        let loadSeconds = Date().timeIntervalSince(start)
        let test = try FashionMNIST.load(split: .test)
        XCTAssertEqual(train.shape, [60000, 1, 28, 28])
        XCTAssertEqual(test.shape, [10000, 1, 28, 28])
        XCTAssertEqual(train.classCount, 10)
        var histogram = [Int](repeating: 0, count: 10)
        for l in train.labels { histogram[Int(l)] += 1 }
        XCTAssertEqual(histogram, Array(repeating: 6000, count: 10))
        var sum = 0
        for p in train.pixels { sum += Int(p) }
        XCTAssertEqual(Double(sum) / Double(train.pixels.count) / 255, Double(FashionMNIST.mean[0]), accuracy: 5e-4)
        XCTAssertNotEqual(train.fingerprint, test.fingerprint)
        print("fashion-mnist train: loaded in \(String(format: "%.2f", loadSeconds)) s, fingerprint \(train.fingerprint)")
    }

    /// Times a full augmented epoch; run with PRUNEBENCH_DATA_BENCH=1 (slow in debug builds).
    func testEpochThroughput() throws {
        try requireInstalled()
        guard ProcessInfo.processInfo.environment["PRUNEBENCH_DATA_BENCH"] == "1" else {
            throw XCTSkip("set PRUNEBENCH_DATA_BENCH=1 to time an epoch")
        }
        var start = Date()
        let train = try FashionMNIST.load(split: .train)
        let load = Date().timeIntervalSince(start)
        for (name, config) in [("crop+flip 28x28x1", TransformConfig.fashionMNIST(augment: true)),
                               ("crop+flip 64x64x3", .fashionMNIST(augment: true, resizeTo: 64, outputChannels: 3))] {
            let loader = try BatchLoader(dataset: train, batchSize: 128, shuffle: true, seed: 1, transform: config)
            start = Date()
            var n = 0
            for batch in loader.epoch(0) { n += batch.count }
            let epoch = Date().timeIntervalSince(start)
            XCTAssertEqual(n, 60000)
            print("fashion-mnist: load \(String(format: "%.3f", load)) s; one epoch of batch-128 \(name) batches "
                  + "\(String(format: "%.3f", epoch)) s")
        }
    }
}
