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

/// The models `train` builds by name.
public enum ModelCatalog {
    public static let names = ["resnet18", "resnet50", "vit_tiny"]

    public static func build(name: String, variant: String, width: Double, inputChannels: Int, resolution: Int,
                             classes: Int) throws -> Model {
        guard let v = Variant(rawValue: variant) else {
            throw TrainingError("unknown variant '\(variant)'; expected cifar or imagenet")
        }
        guard width > 0, width <= 4 else { throw TrainingError("width \(width) must be in (0, 4]") }
        switch name {
        case "resnet18", "resnet50":
            return ResNetBuilder(depth: name == "resnet18" ? .resnet18 : .resnet50, variant: v, width: width,
                                 inputChannels: inputChannels, resolution: resolution, classes: classes).build()
        case "vit_tiny":
            // timm VisionTransformer as the fixtures' vit_tiny_c32 (patch 4, embed 96, depth 4, 3 heads,
            // MLP 384) at the data set's resolution: 7x7 tokens on 28x28, 8x8 on 32x32. Fixed size:
            // variant and width do not apply.
            guard resolution % 4 == 0 else {
                throw TrainingError("vit_tiny needs a resolution divisible by its patch size 4, got \(resolution)")
            }
            return ViTBuilder(imageSize: resolution, patchSize: 4, inputChannels: inputChannels, embedDim: 96, depth: 4,
                              heads: 3, mlpHidden: 384, classes: classes).build()
        default:
            throw TrainingError("unknown model '\(name)'; expected one of \(names.joined(separator: ", "))")
        }
    }
}
