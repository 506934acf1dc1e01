import Data
import Pruning

extension BatchLoader {
    /// The calibration set of the data-driven criteria (pruningbench.md §4.1): before pruning
    /// step k, the first `batches` (10) mini-batches of this loader's epoch-k order, a shuffle
    /// seeded by (loader seed, k), with the loader's (training) transform and batch size. Each
    /// step therefore draws afresh from its own RNG stream; the same seed gives the same batches.
    public func calibrationSource(batches: Int = 10) -> CalibrationSource {
        { step in
            let order = self.order(epoch: step)
            return try (0..<min(batches, self.batchesPerEpoch)).map { n in
                let b = try self.batch(n, epoch: step, order: order)
                return CalibrationBatch(images: b.images, labels: b.labels)
            }
        }
    }
}
