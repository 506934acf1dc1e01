import ArgumentParser
import Bench
import Data
import Experiments
import Foundation
import Models
import NN
import Tensor

/// `prunebench bench data`: how fast an image folder becomes training batches, and whether a
/// model's training steps wait for them.
struct DataThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Images/s of decoding + transform into batches from an image folder; optionally the data wait of training steps. Prints one JSON line.",
        discussion: """
        Example: prunebench bench data --root /tmp/jpegs --transform imagenet-train --threads 2 --batch 64
        With --train-model resnet50 the batches feed training steps (forward, backward, SGD) and the
        time the trainer spends waiting for the next batch is reported.
        """
    )

    @Option(help: "An image folder (one subfolder per class).") var root: String
    @Option(help: "imagenet-train, imagenet-eval, imagenet-eval-232 or vit-eval.") var transform = "imagenet-train"
    @Option(help: "Decoding threads (default: one per core).") var threads: Int?
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Batches to time (after one warm-up batch; default: the whole folder).") var batches: Int?
    @Option(help: "Also train this model on the batches: resnet18 or resnet50 (torchvision, 1000 classes).") var trainModel: String?
    @Option(help: "Width multiplier of the trained model.") var width = 1.0

    func validate() throws {
        guard let p = ImagePipeline(rawValue: transform), p.outputSize != nil else {
            throw ValidationError("--transform must be one of imagenet-train, imagenet-eval, imagenet-eval-232, vit-eval")
        }
        if let trainModel, !["resnet18", "resnet50"].contains(trainModel) { throw ValidationError("--train-model must be resnet18 or resnet50") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
    }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        BatchLoader.decodeThreads = threadCount
        Parallel.setThreadCount(threadCount)
        let set: Dataset
        do { set = Dataset(name: root, folder: try ImageFolder(root: root)) } catch { throw CommandFailure(error) }
        let loader = try BatchLoader(dataset: set, batchSize: batch, shuffle: true, seed: 0,
                                     transform: TransformConfig(pipeline: ImagePipeline(rawValue: transform)!), dropLast: true)
        let total = min(batches.map { $0 + 1 } ?? loader.batchesPerEpoch, loader.batchesPerEpoch)
        guard total >= 2 else { throw CommandFailure("\(root): \(set.count) images make fewer than 2 batches of \(batch)") }
        var step: ((Batch) -> Void)?
        if let trainModel {
            let spec = try ModelCatalog.spec(name: trainModel, variant: "imagenet", width: width, inputShape: [3, 224, 224], classes: 1000)
            let model = try spec.build()
            ModelInit.initialize(model, seed: 0)
            var optimizer: any Optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)
            let trainStep = TrainStep()
            var context = ForwardContext(training: true, seed: 0)
            step = { b in
                let labels = b.labels.map { $0 % 1000 }
                _ = trainStep.run(model: model, optimizer: &optimizer, images: b.images, labels: labels, context: &context)
            }
        }
        var waited = 0.0, computed = 0.0, images = 0
        var start = Date()
        var iterator = loader.epoch(0).makeIterator()
        for n in 0..<total {
            let t0 = Date()
            guard let b = iterator.next() else { throw CommandFailure("\(root): the epoch ended early (a file that does not decode?)") }
            let t1 = Date()
            step?(b)
            let t2 = Date()
            if n == 0 { start = t2; continue }  // warm-up: the first batch has no prefetch ahead of it
            waited += t1.timeIntervalSince(t0); computed += t2.timeIntervalSince(t1); images += b.count
        }
        let seconds = Date().timeIntervalSince(start)
        var out: [String: Any] = ["framework": "prunebench", "threads": threadCount, "batch": batch, "transform": transform,
                                  "images": images, "seconds": seconds, "images_per_second": Double(images) / seconds,
                                  "images_per_second_per_core": Double(images) / seconds / Double(threadCount)]
        if let trainModel {
            out["train_model"] = trainModel
            out["data_wait_seconds"] = waited
            out["train_step_seconds"] = computed
            out["data_wait_fraction"] = waited / (waited + computed)
        }
        let json = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
