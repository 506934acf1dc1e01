import Foundation
import Dispatch
import Imaging
import Synchronization
import Tensor

extension BatchLoader {
    /// Decoding threads per batch of a file-backed set (all cores by default; decoding runs
    /// while the trainer computes on the previous batch).
    public static var decodeThreads: Int {
        get { decodeThreadCount.load(ordering: .relaxed) }
        set { decodeThreadCount.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Decodes, transforms and normalises the files of one batch on ``decodeThreads`` threads.
    /// Each sample's augmentation depends only on (seed, epoch, index), so the batch is the same
    /// whatever the thread count.
    func decodeBatch(_ indices: [Int], files: [String], pipeline: ImagePipeline, epoch: Int,
                     cancel: CancelFlag?) throws(DatasetError) -> Batch? {
        let outSize = transform.outputSampleSize
        var images = Tensor(uninitializedShape: [indices.count] + sampleShape)
        let out = UnsafeMutableSendablePointer(images.mutablePointer())
        let firstError = Mutex<(Int, ImageError)?>(nil)
        let next = Atomic<Int>(0)
        let seed = self.seed
        let threads = min(Self.decodeThreads, indices.count)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let j = next.add(1, ordering: .relaxed).oldValue
                guard j < indices.count, cancel?.isRaised != true else { return }
                let i = indices[j]
                do throws(ImageError) {
                    let image = try ImageDecoder.decode(contentsOf: files[i])
                    var g = Self.augmentationGenerator(seed: seed, epoch: epoch, index: i)
                    pipeline.normalize(pipeline.geometry(image, generator: &g), into: out.pointer + j * outSize)
                } catch {
                    firstError.withLock { if $0 == nil || $0!.0 > j { $0 = (j, error) } }
                }
            }
        }
        if let (_, error) = firstError.withLock({ $0 }) { throw .image(error) }
        if cancel?.isRaised == true { return nil }
        return Batch(images: images, labels: indices.map { dataset.labels[$0] }, indices: indices)
    }
}

private let decodeThreadCount = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))

/// A raw pointer handed to the decoding threads, each writing its own samples.
struct UnsafeMutableSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
