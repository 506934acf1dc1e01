import Tensor
import XCTest
@testable import Data

final class BatchLoaderTests: XCTestCase {
    func testShuffleIsASeededPermutation() {
        let a = BatchLoader.shuffledOrder(count: 1000, seed: 42, epoch: 3)
        XCTAssertEqual(a.sorted(), Array(0..<1000))
        XCTAssertEqual(a, BatchLoader.shuffledOrder(count: 1000, seed: 42, epoch: 3))
        XCTAssertNotEqual(a, BatchLoader.shuffledOrder(count: 1000, seed: 42, epoch: 4))
        XCTAssertNotEqual(a, BatchLoader.shuffledOrder(count: 1000, seed: 43, epoch: 3))
        XCTAssertNotEqual(a, Array(0..<1000))
        XCTAssertEqual(BatchLoader.shuffledOrder(count: 0, seed: 1, epoch: 0), [])
        XCTAssertEqual(BatchLoader.shuffledOrder(count: 1, seed: 1, epoch: 0), [0])
    }

    /// Every sample once per epoch, batch sizes as promised, labels and pixels of the right sample.
    func testYieldsEverySampleOnce() throws {
        let d = try syntheticDataset(count: 103)
        for (dropLast, prefetch, shuffle) in [(false, true, true), (true, true, true), (false, false, false),
                                               (true, false, true)] {
            let loader = try BatchLoader(dataset: d, batchSize: 10, shuffle: shuffle, seed: 5, dropLast: dropLast,
                                         prefetch: prefetch)
            XCTAssertEqual(loader.batchesPerEpoch, dropLast ? 10 : 11)
            for epoch in 0..<2 {
                var seen: [Int] = []
                var sizes: [Int] = []
                for batch in loader.epoch(epoch) {
                    XCTAssertEqual(batch.images.shape, [batch.count, 4, 4, 1])
                    sizes.append(batch.count)
                    for (j, i) in batch.indices.enumerated() {
                        XCTAssertEqual(batch.labels[j], d.labels[i])
                        XCTAssertEqual(batch.images[j, 0, 0, 0], Float(i) / 255, accuracy: 1e-7)
                    }
                    seen += batch.indices
                }
                XCTAssertEqual(sizes, dropLast ? Array(repeating: 10, count: 10) : Array(repeating: 10, count: 10) + [3])
                XCTAssertEqual(Set(seen).count, seen.count, "a sample came twice")
                XCTAssertEqual(seen.count, dropLast ? 100 : 103)
                XCTAssertEqual(seen, Array(loader.order(epoch: epoch).prefix(seen.count)))
                if !shuffle { XCTAssertEqual(seen, Array(0..<103)) }
            }
        }
    }

    func testBatchShapesAndNormalisation() throws {
        let d = try syntheticDataset(count: 20, height: 28, width: 28)
        let loader = try BatchLoader(dataset: d, batchSize: 8, shuffle: true, seed: 1,
                                     transform: .fashionMNIST(augment: false, resizeTo: 64, outputChannels: 3))
        XCTAssertEqual(loader.sampleShape, [64, 64, 3])
        let batches = Array(loader.epoch(0))
        XCTAssertEqual(batches.map(\.images.shape), [[8, 64, 64, 3], [8, 64, 64, 3], [4, 64, 64, 3]])
        // Without augmentation every output value is a bilinear mix of normalised pixels.
        let plain = try BatchLoader(dataset: d, batchSize: 20, shuffle: false, transform: .fashionMNIST(augment: false))
        let b = Array(plain.epoch(0))[0]
        XCTAssertEqual(b.images.shape, [20, 28, 28, 1])
        let i = 13, y = 5, x = 17
        let byte = d.pixels[i * 784 + y * 28 + x]
        XCTAssertEqual(b.images[i, y, x, 0], (Float(byte) / 255 - 0.2860) / 0.3530, accuracy: 1e-5)
    }

    /// Batches depend on (seed, epoch, sample) only: not on prefetching, batch size or history.
    func testAugmentationIsAPureFunctionOfSeedEpochAndSample() throws {
        let d = try syntheticDataset(count: 37, channels: 3, height: 32, width: 32)
        let config = TransformConfig.cifar10(augment: true)
        func samples(batchSize: Int, prefetch: Bool, epoch: Int, seed: UInt64 = 7) throws -> [Int: [Float]] {
            let loader = try BatchLoader(dataset: d, batchSize: batchSize, shuffle: true, seed: seed,
                                         transform: config, prefetch: prefetch)
            var out: [Int: [Float]] = [:]
            for batch in loader.epoch(epoch) {
                let s = batch.images.scalars, n = 32 * 32 * 3
                for (j, i) in batch.indices.enumerated() { out[i] = Array(s[j * n ..< (j + 1) * n]) }
            }
            return out
        }
        let reference = try samples(batchSize: 8, prefetch: true, epoch: 2)
        XCTAssertEqual(reference.count, 37)
        XCTAssertEqual(try samples(batchSize: 8, prefetch: false, epoch: 2), reference)
        XCTAssertEqual(try samples(batchSize: 5, prefetch: true, epoch: 2), reference)
        let otherEpoch = try samples(batchSize: 8, prefetch: true, epoch: 3)
        XCTAssertGreaterThan((0..<37).filter { otherEpoch[$0] != reference[$0] }.count, 20)
        let otherSeed = try samples(batchSize: 8, prefetch: true, epoch: 2, seed: 8)
        XCTAssertGreaterThan((0..<37).filter { otherSeed[$0] != reference[$0] }.count, 20)
    }

    /// A consumer that stops early, or never starts, must not hang anything.
    func testStoppingEarlyDoesNotHang() throws {
        let d = try syntheticDataset(count: 500, height: 28, width: 28)
        let loader = try BatchLoader(dataset: d, batchSize: 16, shuffle: true, seed: 3,
                                     transform: .fashionMNIST(augment: true, resizeTo: 64, outputChannels: 3))
        for epoch in 0..<20 {
            var taken = 0
            for batch in loader.epoch(epoch) {
                XCTAssertEqual(batch.count, 16)
                taken += 1
                if taken == epoch % 3 + 1 { break }
            }
            _ = loader.epoch(epoch).makeIterator()  // dropped at once
        }
        // Later epochs are still complete and correct.
        XCTAssertEqual(loader.epoch(21).reduce(0) { $0 + $1.count }, 500)
        var it = loader.epoch(22).makeIterator()
        while it.next() != nil {}
        XCTAssertNil(it.next())
    }

    func testEmptyAndSmallDatasets() throws {
        let d = try syntheticDataset(count: 3)
        let dropAll = try BatchLoader(dataset: d, batchSize: 4, shuffle: true, dropLast: true)
        XCTAssertEqual(Array(dropAll.epoch(0)).count, 0)
        let keep = try BatchLoader(dataset: d, batchSize: 4, shuffle: true)
        XCTAssertEqual(Array(keep.epoch(0)).map(\.count), [3])
        let empty = try Dataset(name: "e", pixels: [], labels: [], channels: 1, height: 2, width: 2, classCount: 2)
        XCTAssertEqual(Array(try BatchLoader(dataset: empty, batchSize: 4, shuffle: true).epoch(0)).count, 0)
    }
}
