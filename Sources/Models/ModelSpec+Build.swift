import Experiments
import NN

extension ModelSpec {
    /// A model built to this spec, with zeroed state.
    public func build() throws -> Model {
        try validate()
        switch arch {
        case "resnet18", "resnet50":
            return ResNetBuilder(depth: arch == "resnet18" ? .resnet18 : .resnet50, variant: Variant(rawValue: variant!)!,
                                 width: width ?? 1, inputChannels: inputShape[0], resolution: inputShape[1], classes: numClasses).build()
        case "vgg19_bn":
            return VGGBuilder(variant: Variant(rawValue: variant!)!, width: width ?? 1, inputChannels: inputShape[0],
                              resolution: inputShape[1], classes: numClasses).build()
        default:
            return ViTBuilder(imageSize: inputShape[1], patchSize: patchSize!, inputChannels: inputShape[0], embedDim: embedDim!,
                              depth: depth!, heads: numHeads!, mlpHidden: mlpHidden!, classes: numClasses).build()
        }
    }
}
