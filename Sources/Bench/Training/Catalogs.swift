import Foundation
import Experiments
import Data
import Models
import NN

/// How the engine loads each data set.
public enum DatasetCatalog {
    /// The data sets that can be loaded today.
    public static let loadable: [DatasetName] = [.fashionMNIST, .cifar10, .cifar100, .imagenet]

    /// Train and test splits, optionally limited to some of their images: the first N of an
    /// in-memory set; N spread evenly over a file-backed set (sample `i * count / N`), whose
    /// samples are sorted by class, so that every class stays represented.
    public static func load(_ name: DatasetName, directory: String?, trainLimit: Int? = nil, testLimit: Int? = nil) throws
        -> (train: Dataset, test: Dataset) {
        func limit(_ d: Dataset, _ n: Int?) -> Dataset {
            guard let n, n < d.count else { return d }
            return d.subset(d.files == nil ? Array(0..<n) : (0..<n).map { $0 * d.count / n })
        }
        switch name {
        case .fashionMNIST:
            return (limit(try FashionMNIST.load(split: .train, dataDirectory: directory), trainLimit),
                    limit(try FashionMNIST.load(split: .test, dataDirectory: directory), testLimit))
        case .cifar10:
            return (limit(try CIFAR.loadCIFAR10(split: .train, dataDirectory: directory), trainLimit),
                    limit(try CIFAR.loadCIFAR10(split: .test, dataDirectory: directory), testLimit))
        case .cifar100:
            return (limit(try CIFAR.loadCIFAR100(split: .train, dataDirectory: directory), trainLimit),
                    limit(try CIFAR.loadCIFAR100(split: .test, dataDirectory: directory), testLimit))
        case .imagenet:
            guard let directory else {
                throw TrainingError("data set 'imagenet' needs its folder (--data-dir, or the sweep's path): DIR/train and DIR/val, one subfolder per class")
            }
            func split(_ s: String) throws -> Dataset {
                let root = (directory as NSString).appendingPathComponent(s)
                return Dataset(name: "imagenet/\(s)", folder: try ImageFolder(root: root))
            }
            let (train, val) = (try split("train"), try split("val"))
            guard train.classNames == val.classNames else {
                throw TrainingError("\(directory): train/ has \(train.classCount) classes and val/ \(val.classCount), or their names differ; expected the same class folders")
            }
            return (limit(train, trainLimit), limit(val, testLimit))
        case .coco:
            throw TrainingError("data set '\(name.rawValue)' cannot be loaded yet; loadable: \(loadable.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The normalisation (and, for training, augmentation) of a data set; for ImageNet the
    /// evaluation preset of the model's pretrained weights (timm's for ViTs, torchvision's V1
    /// Resize 256 / CenterCrop 224 for CNNs).
    public static func transform(_ name: DatasetName, augment: Bool, model: ModelSpec? = nil) -> TransformConfig {
        if name == .imagenet, !augment, model?.arch.hasPrefix("vit") == true { return TransformConfig(pipeline: .vitEval) }
        return switch name {
        case .cifar10: .cifar10(augment: augment)
        case .cifar100: .cifar100(augment: augment)
        case .imagenet: TransformConfig(pipeline: augment ? .imagenetTrain : .imagenetEval)
        case .fashionMNIST, .coco: .fashionMNIST(augment: augment)
        }
    }
}
