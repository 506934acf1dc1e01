import Dispatch
import Synchronization
import Tensor

/// One mini-batch: images `[N, H, W, C]` float32 (channels-last, the engine's layout) and labels.
public struct Batch: Sendable {
    /// Transformed images, `[count, height, width, channels]`.
    public let images: Tensor
    /// Class labels, one per image.
    public let labels: [Int32]
    /// Indices of the samples in the data set, in batch order.
    public let indices: [Int]
    /// Number of samples.
    public var count: Int { labels.count }
}

/// Cuts a ``Dataset`` into transformed mini-batches, epoch by epoch, deterministically.
///
/// Everything random is a pure function of the seed: the order of epoch `e` is a Fisher-Yates
/// shuffle driven by `SeededGenerator(seed: seed, stream: e)`, and the augmentation of sample
/// `i` in epoch `e` draws from ``augmentationGenerator(seed:epoch:index:)``. So batches do not
/// depend on prefetching, threads or on which batches were consumed before.
///
/// ```swift
/// let loader = try BatchLoader(dataset: train, batchSize: 128, shuffle: true, seed: 1,
///                              transform: .fashionMNIST(augment: true))
/// for batch in loader.epoch(e) { step(batch.images, batch.labels) }
/// ```
public struct BatchLoader: Sendable {
    /// The samples.
    public let dataset: Dataset
    /// Samples per batch (the last batch of an epoch may be smaller unless ``dropLast``).
    public let batchSize: Int
    /// Whether each epoch visits the samples in a seeded random order (else in index order).
    public let shuffle: Bool
    /// Seed of the shuffles and augmentations.
    public let seed: UInt64
    /// Whether an incomplete final batch is left out.
    public let dropLast: Bool
    /// Whether the next batch is prepared on a background thread while the current one is used.
    public let prefetch: Bool
    /// The per-sample transform, prepared for the data set's geometry.
    public let transform: ImageTransform

    /// A loader.
    ///
    /// - Parameters:
    ///   - dataset: the samples.
    ///   - batchSize: samples per batch, positive.
    ///   - shuffle: shuffle each epoch (training) or keep index order (evaluation).
    ///   - seed: seed of the shuffles and augmentations.
    ///   - transform: augmentation and normalisation (use one without crop and flip to evaluate).
    ///   - dropLast: leave out an incomplete final batch.
    ///   - prefetch: prepare the next batch on a background thread.
    /// - Throws: ``DatasetError/invalidConfiguration(_:)`` for a non-positive batch size or a
    ///   transform that does not fit the data set.
    public init(dataset: Dataset, batchSize: Int, shuffle: Bool, seed: UInt64 = 0,
                transform: TransformConfig = TransformConfig(), dropLast: Bool = false,
                prefetch: Bool = true) throws(DatasetError) {
        guard batchSize > 0 else { throw .invalidConfiguration("batch size \(batchSize) must be positive") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.prefetch = prefetch
        if dataset.files != nil && transform.pipeline == nil {
            throw .invalidConfiguration("\(dataset.name) holds image files: its transform must name an image pipeline")
        }
        if dataset.files == nil && transform.pipeline != nil {
            throw .invalidConfiguration("\(dataset.name) is held in memory: image pipelines apply to image files only")
        }
        self.transform = try ImageTransform(transform, channels: dataset.channels, height: dataset.height,
                                            width: dataset.width)
        if let side = transform.pipeline?.outputSize, [dataset.channels, dataset.height, dataset.width] != [3, side, side] {
            throw .invalidConfiguration("\(dataset.name) is declared \(dataset.channels)x\(dataset.height)x\(dataset.width), "
                + "pipeline \(transform.pipeline!.rawValue) gives 3x\(side)x\(side)")
        }
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Samples visited in one epoch.
    public var samplesPerEpoch: Int { dropLast ? batchesPerEpoch * batchSize : dataset.count }

    /// Shape of one transformed sample, `[height, width, channels]`.
    public var sampleShape: [Int] { [transform.outputHeight, transform.outputWidth, transform.outputChannels] }

    /// The order in which epoch `epoch` visits the samples: a permutation of `0..<dataset.count`.
    public func order(epoch: Int) -> [Int] {
        shuffle ? Self.shuffledOrder(count: dataset.count, seed: seed, epoch: epoch) : Array(0..<dataset.count)
    }

    /// Fisher-Yates shuffle of `0..<count` driven by `SeededGenerator(seed: seed, stream: epoch)`.
    public static func shuffledOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var g = SeededGenerator(seed: seed, stream: UInt64(truncatingIfNeeded: epoch))
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            order.swapAt(i, g.nextInt(below: i + 1))
            i -= 1
        }
        return order
    }

    /// The generator that drives the augmentation of sample `index` (a data set index) in `epoch`.
    public static func augmentationGenerator(seed: UInt64, epoch: Int, index: Int) -> SeededGenerator {
        let e = mix(seed ^ 0x6175_676D_656E_7421, UInt64(truncatingIfNeeded: epoch))
        return SeededGenerator(seed: mix(e, UInt64(truncatingIfNeeded: index)))
    }

    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        func fmix(_ x: UInt64) -> UInt64 {
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return fmix(a ^ fmix(b &+ 0x9E37_79B9_7F4A_7C15))
    }

    /// Builds batch number `number` of `epoch` synchronously, given that epoch's ``order(epoch:)``.
    ///
    /// - Throws: for a file-backed set, the first image of the batch that cannot be decoded.
    public func batch(_ number: Int, epoch: Int, order: [Int]) throws(DatasetError) -> Batch {
        precondition(number >= 0 && number < batchesPerEpoch, "batch \(number) of \(batchesPerEpoch)")
        return try makeBatch(number, epoch: epoch, order: order, cancel: nil)!
    }

    /// The batches of epoch `epoch`, for `for batch in loader.epoch(e) { ... }`. With
    /// ``prefetch``, the next batch is built on a background thread while the caller uses the
    /// current one; an iterator dropped early stops its background work without waiting for it.
    public func epoch(_ epoch: Int) -> EpochBatches { EpochBatches(loader: self, epoch: epoch) }

    /// Builds one batch; nil if `cancel` was raised meanwhile.
    func makeBatch(_ number: Int, epoch: Int, order: [Int], cancel: CancelFlag?) throws(DatasetError) -> Batch? {
        let start = number * batchSize
        let indices = Array(order[start ..< min(start + batchSize, order.count)])
        if let files = dataset.files, let pipeline = transform.config.pipeline {
            return try decodeBatch(indices, files: files, pipeline: pipeline, epoch: epoch, cancel: cancel)
        }
        let t = transform
        var images = Tensor(uninitializedShape: [indices.count] + sampleShape)
        let out = images.mutablePointer()
        var scratch = [Float](repeating: 0, count: t.config.resize == nil ? 1 : dataset.sampleSize)
        let sampleSize = dataset.sampleSize, outSize = t.outputSampleSize
        let cancelled = dataset.pixels.withUnsafeBufferPointer { px in
            scratch.withUnsafeMutableBufferPointer { s in
                for (j, i) in indices.enumerated() {
                    if let cancel, cancel.isRaised { return true }
                    var g = Self.augmentationGenerator(seed: seed, epoch: epoch, index: i)
                    t.apply(px.baseAddress! + i * sampleSize, into: out + j * outSize, scratch: s.baseAddress!,
                            generator: &g)
                }
                return false
            }
        }
        if cancelled { return nil }
        return Batch(images: images, labels: indices.map { dataset.labels[$0] }, indices: indices)
    }
}

/// The batches of one epoch; see ``BatchLoader/epoch(_:)``. Iteration ends early when an image
/// file cannot be decoded: call ``checkCompleted()`` after the loop.
public struct EpochBatches: Sequence, Sendable {
    /// The loader.
    public let loader: BatchLoader
    /// The epoch number.
    public let epoch: Int
    let failure = FailureBox()

    init(loader: BatchLoader, epoch: Int) { self.loader = loader; self.epoch = epoch }

    /// Starts the epoch (and, with prefetching, building its first batch).
    public func makeIterator() -> BatchIterator { BatchIterator(loader: loader, epoch: epoch, failure: failure) }

    /// Throws the error that ended the iteration early, if one did.
    public func checkCompleted() throws(DatasetError) {
        if let error = failure.error { throw error }
    }

    /// Number of batches; 0 for a file-backed set, whose epoch can end early at a bad file
    /// (`Sequence.map` force-unwraps the first `underestimatedCount` elements).
    public var underestimatedCount: Int { loader.dataset.files == nil ? loader.batchesPerEpoch : 0 }
}

/// Iterates over the batches of one epoch, building the next batch in the background.
public struct BatchIterator: IteratorProtocol {
    private let state: IteratorState

    init(loader: BatchLoader, epoch: Int, failure: FailureBox) {
        state = IteratorState(loader: loader, epoch: epoch, failure: failure)
    }

    /// The next batch, or nil at the end of the epoch.
    public mutating func next() -> Batch? { state.next() }
}

/// A flag raised once to tell background work to stop.
final class CancelFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    var isRaised: Bool { raised.load(ordering: .relaxed) }
    func raise() { raised.store(true, ordering: .relaxed) }
}

/// The first error of an epoch's iteration.
final class FailureBox: Sendable {
    private let stored = Mutex<DatasetError?>(nil)
    var error: DatasetError? { stored.withLock { $0 } }
    func record(_ error: DatasetError) { stored.withLock { if $0 == nil { $0 = error } } }
}

/// A batch being built on the prefetch queue.
private final class PendingBatch: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Batch?, DatasetError>>(.success(nil))

    func fulfil(_ batch: Result<Batch?, DatasetError>) {
        result.withLock { $0 = batch }
        done.signal()
    }

    func wait() -> Result<Batch?, DatasetError> {
        done.wait()
        return result.withLock { $0 }
    }
}

/// All loaders prepare batches on this one serial queue: one lightweight background thread, so
/// batch preparation never competes with the OpenMP team of the kernels for more than one core.
private let prefetchQueue = DispatchQueue(label: "prunebench.data.prefetch", qos: .userInitiated)

private final class IteratorState {
    let loader: BatchLoader
    let epoch: Int
    let order: [Int]
    let batchCount: Int
    let cancel = CancelFlag()
    let failure: FailureBox
    var nextNumber = 0
    var pending: PendingBatch?

    init(loader: BatchLoader, epoch: Int, failure: FailureBox) {
        self.loader = loader
        self.epoch = epoch
        self.failure = failure
        self.order = loader.order(epoch: epoch)
        self.batchCount = loader.batchesPerEpoch
        schedule(0)
    }

    deinit { cancel.raise() }

    private func schedule(_ number: Int) {
        guard loader.prefetch, number < batchCount else { return }
        let job = PendingBatch()
        let (loader, epoch, order, cancel) = (self.loader, self.epoch, self.order, self.cancel)
        prefetchQueue.async {
            job.fulfil(Result { () throws(DatasetError) in try loader.makeBatch(number, epoch: epoch, order: order, cancel: cancel) })
        }
        pending = job
    }

    func next() -> Batch? {
        guard nextNumber < batchCount, failure.error == nil else { return nil }
        let number = nextNumber
        let ready = pending?.wait()
        pending = nil
        nextNumber += 1
        do throws(DatasetError) {
            var batch = try ready?.get()
            if batch == nil { batch = try loader.makeBatch(number, epoch: epoch, order: order, cancel: nil) }
            schedule(nextNumber)
            return batch
        } catch {
            failure.record(error)
            return nil
        }
    }
}
