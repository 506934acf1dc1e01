import ArgumentParser
import Data
import Dispatch
import Foundation
import Imaging
import NN
import Synchronization
import Tensor

/// `prunebench dataset`: what a data set holds, whether every file loads, and what a model sees.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Count, check and show a data set: classes, samples, every file decoded, the transformed tensors.",
        discussion: """
        Examples:
          prunebench dataset --format imagefolder --root ~/imagenet --split val --transform imagenet-eval --limit 64 --preview val.png
          prunebench dataset --format imagefolder --root DIR --transform imagenet-eval --dump x.safetensors
          prunebench dataset --format coco --root ~/coco --split val2017
          prunebench dataset --format fashion-mnist --split test --limit 32 --preview fashion.png
        imagefolder: DIR (or DIR/SPLIT when it exists) holds one folder per class, listed as torchvision's ImageFolder does.
        coco: DIR/annotations/instances_SPLIT.json with images in DIR/SPLIT (or DIR/instances.json with DIR/images).
        --dump writes x [N, C, H, W] float32 and y [N] int64 in sample order; --preview a labelled grid of what the model sees;
        --write-imagefolder writes the samples as JPEG class folders (an ImageNet-style stand-in from Fashion-MNIST, say).
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case imagefolder, coco, cifar100, cifar10
        case fashionMNIST = "fashion-mnist"
    }

    @Option(help: "imagefolder, coco, cifar100, cifar10 or fashion-mnist.") var format: Format
    @Option(help: "The data set's folder (default for fashion-mnist and CIFAR: where Debian or the docs put them).") var root: String?
    @Option(help: "Split: a subfolder (imagefolder), an annotation name such as val2017 (coco), train or test (others).") var split: String?
    @Option(help: "imagenet-train, imagenet-eval, imagenet-eval-232, vit-eval or none.") var transform = "none"
    @Option(help: "Use only the first N samples.") var limit: Int?
    @Option(help: "Seed of the random transforms.") var seed: UInt64 = 0
    @Option(help: "Write the transformed samples as a safetensors file (x, y).") var dump: String?
    @Option(help: "Write a labelled PNG grid of the first (up to 64) transformed samples.") var preview: String?
    @Option(help: "Write the (first --limit) samples as an image folder of JPEG files under this directory.") var writeImagefolder: String?
    @Option(help: "Render --detection-images canvases of the samples as a COCO detection set (images/ and instances.json) under this directory.")
    var writeDetection: String?
    @Option(help: "Canvases --write-detection renders (items drawn from the first --limit samples).") var detectionImages = 1000
    @Option(help: "Threads decoding in parallel (default: one per core).") var threads: Int?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        guard ImagePipeline(rawValue: transform) != nil else {
            throw ValidationError("--transform: '\(transform)' is not one of \(ImagePipeline.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if detectionImages < 1 { throw ValidationError("--detection-images must be at least 1") }
    }

    func run() throws {
        let pipeline = ImagePipeline(rawValue: transform)!
        var summary = DatasetSummary(format: format.rawValue, root: root ?? "(default)", transform: transform)
        if format == .coco {
            let coco = try openCOCO()
            summary.describe(coco)
            let paths = coco.images.prefix(limit ?? coco.images.count).map { coco.path(of: $0) }
            let failures = checkFiles(count: paths.count) { i throws(ImageError) in _ = try ImageDecoder.decode(contentsOf: paths[i]) }
            try finish(summary.with(checked: paths.count, failures: failures))
            return
        }
        let samples = try openSamples()
        let n = min(limit ?? samples.count, samples.count)
        summary.describe(samples, count: n)
        if let folder = samples as? ImageFolderSamples { summary.skipped = folder.folder.skipped }
        // Decode, transform and keep what --dump and --preview need.
        let keep = dump != nil ? n : (preview != nil ? min(n, 64) : 0)
        let kept = Mutex<[Int: RGBImage]>([:])
        let failures = checkFiles(count: n) { i throws(ImageError) in
            let image = try samples.image(i)
            var g = BatchLoader.augmentationGenerator(seed: seed, epoch: 0, index: i)
            let seen = pipeline.geometry(image, generator: &g)
            if i < keep { kept.withLock { $0[i] = seen } }
        }
        summary = summary.with(checked: n, failures: failures)
        let images = kept.withLock { $0 }
        if failures.isEmpty, let dump { try writeDump(images, samples: samples, count: n, pipeline: pipeline, to: dump) }
        if failures.isEmpty, let preview {
            let shown = (0..<min(n, 64)).map { images[$0]! }
            let captions = (0..<shown.count).map { i in
                let l = Int(samples.label(i))
                return samples.classNames.indices.contains(l) ? "\(l) \(samples.classNames[l])" : "\(l)"
            }
            do { try PNGEncoder.encode(ImageGrid.compose(shown, captions: captions)).write(to: URL(fileURLWithPath: preview)) }
            catch { throw CommandFailure("\(preview): cannot write the preview: \(error)") }
            summary.preview = preview
        }
        if failures.isEmpty, let target = writeImagefolder {
            do { try ImageFolderWriter.write(samples, count: n, to: target) } catch { throw CommandFailure(error) }
            print("wrote \(n) images as JPEG class folders under \(target)")
        }
        if failures.isEmpty, let target = writeDetection {
            var renderer = FashionDetection(seed: seed)
            renderer.itemLimit = n
            do {
                let path = try renderer.write(count: detectionImages, from: samples, to: target)
                print("wrote \(detectionImages) detection canvases and \(path)")
            } catch { throw CommandFailure(error) }
        }
        try finish(summary)
    }

    private func finish(_ summary: DatasetSummary) throws {
        if json { print(summary.jsonText()) } else { summary.printText() }
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }

    private func openSamples() throws -> any ImageSamples {
        let isTrain = split == nil || split == "train"
        if let split, format != .imagefolder, !["train", "test"].contains(split) {
            throw CommandFailure("--split: '\(split)' is not train or test for \(format.rawValue)")
        }
        do {
            switch format {
            case .imagefolder:
                guard let root else { throw CommandFailure("--root: imagefolder needs the folder of class folders") }
                let dir = split.map { (root as NSString).appendingPathComponent($0) }.flatMap {
                    FileManager.default.fileExists(atPath: $0) ? $0 : nil
                } ?? root
                if let split, dir == root { throw CommandFailure("--split: \(root)/\(split) does not exist") }
                return ImageFolderSamples(try ImageFolder(root: dir))
            case .fashionMNIST: return try FashionMNIST.load(split: isTrain ? .train : .test, dataDirectory: root)
            case .cifar10: return try CIFAR.loadCIFAR10(split: isTrain ? .train : .test, dataDirectory: root)
            case .cifar100: return try CIFAR.loadCIFAR100(split: isTrain ? .train : .test, dataDirectory: root)
            case .coco: fatalError("handled by run()")
            }
        } catch let error as CommandFailure { throw error } catch { throw CommandFailure(error) }
    }

    private func openCOCO() throws -> COCODetection {
        guard let root else { throw CommandFailure("--root: coco needs the folder holding annotations/ and the image folders") }
        let (annotations, images) = split.map { ("\(root)/annotations/instances_\($0).json", "\(root)/\($0)") }
            ?? ("\(root)/instances.json", "\(root)/images")
        do { return try COCODetection(annotations: annotations, images: images) } catch { throw CommandFailure(error) }
    }

    /// Runs `work` on every index on a few threads, with progress; returns the failures by index.
    private func checkFiles(count: Int, _ work: @Sendable @escaping (Int) throws(ImageError) -> Void) -> [String] {
        let failures = Mutex<[(Int, String)]>([])
        let done = Atomic<Int>(0)
        let progress = ProgressDisplay(logger: LogSetup.logger("prunebench.dataset"))
        let start = Date()
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, count))
        let chunk = 64
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<workers {
            DispatchQueue.global().async(group: group) {
                while true {
                    let from = next.add(chunk, ordering: .relaxed).oldValue
                    if from >= count { break }
                    for i in from ..< min(from + chunk, count) {
                        do { try work(i) } catch { failures.withLock { $0.append((i, String(describing: error))) } }
                    }
                    done.add(min(chunk, count - from), ordering: .relaxed)
                }
            }
        }
        var finished = false
        while !finished {
            finished = group.wait(timeout: .now() + 0.2) == .success
            let d = done.load(ordering: .relaxed)
            let rate = Double(d) / max(Date().timeIntervalSince(start), 1e-9)
            progress.update(label: "checking", done: d, total: count, rate: rate, unit: "images",
                            overallRemainingSeconds: d > 0 ? Double(count - d) / rate : nil)
        }
        return failures.withLock { $0 }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    private func writeDump(_ images: [Int: RGBImage], samples: any ImageSamples, count n: Int, pipeline: ImagePipeline,
                           to path: String) throws {
        guard let first = images[0] else { return }
        // With no transform, a gray in-memory data set keeps its single channel.
        let channels = pipeline == .none && (samples as? Dataset)?.channels == 1 ? 1 : 3
        let (h, w) = (first.height, first.width)
        if let odd = (0..<n).first(where: { images[$0]!.height != h || images[$0]!.width != w }) {
            throw CommandFailure("--dump: sample \(odd) (\(samples.origin(odd))) is \(images[odd]!.width)x\(images[odd]!.height), "
                + "sample 0 is \(w)x\(h); choose a --transform that gives one size")
        }
        var x = Tensor(uninitializedShape: [n, channels, h, w])
        let out = x.mutablePointer()
        var hwc = [Float](repeating: 0, count: h * w * 3)
        for i in 0..<n {
            hwc.withUnsafeMutableBufferPointer { pipeline.normalize(images[i]!, into: $0.baseAddress!) }
            for c in 0..<channels { for p in 0..<(h * w) { out[(i * channels + c) * h * w + p] = hwc[p * 3 + c] } }
        }
        var file = SafeTensors()
        file.set("x", x)
        file.set("y", integers: (0..<n).map { Int64(samples.label($0)) }, shape: [n])
        file.metadata = ["transform": pipeline.rawValue, "source": samples.name, "format": format.rawValue]
        do { try file.write(to: path) } catch { throw CommandFailure(error) }
    }
}
