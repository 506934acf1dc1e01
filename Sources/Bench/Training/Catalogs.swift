import Experiments
import Data
import Models
import NN

/// How the engine loads each data set.
public enum DatasetCatalog {
    /// The data sets that can be loaded today.
    public static let loadable: [DatasetName] = [.fashionMNIST, .cifar10, .cifar100]

    /// Train and test splits, optionally truncated to their first images.
    public static func load(_ name: DatasetName, directory: String?, trainLimit: Int? = nil, testLimit: Int? = nil) throws
        -> (train: Dataset, test: Dataset) {
        func limit(_ d: Dataset, _ n: Int?) -> Dataset { n.map { d.subset(Array(0..<min($0, d.count))) } ?? d }
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
        case .imagenet, .coco:
            throw TrainingError("data set '\(name.rawValue)' cannot be loaded yet; loadable: \(loadable.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The normalisation (and, for training, augmentation) of a data set.
    public static func transform(_ name: DatasetName, augment: Bool) -> TransformConfig {
        switch name {
        case .cifar10: .cifar10(augment: augment)
        case .cifar100: .cifar100(augment: augment)
        case .fashionMNIST, .imagenet, .coco: .fashionMNIST(augment: augment)
        }
    }
}
