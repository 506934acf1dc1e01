import Experiments
import NN
import Tensor

/// VGG-19 with batch norm, in the CIFAR variant (Torch-Pruning's CIFAR zoo: `block0..4`,
/// `pool0..4`, `classifier`) and the ImageNet variant (torchvision's `vgg19_bn`: `features.0..52`,
/// `avgpool`, `classifier.0..6`), with a width multiplier on every conv (`round(c * width)`) and,
/// in the ImageNet variant, on the classifier's hidden width (`round(4096 * width)`).
public struct VGGBuilder: Sendable {
    public var variant: Variant
    public var width: Double
    public var inputChannels: Int
    public var resolution: Int
    public var classes: Int

    public init(variant: Variant, width: Double = 1, inputChannels: Int = 3, resolution: Int? = nil, classes: Int) {
        self.variant = variant; self.width = width; self.inputChannels = inputChannels
        self.resolution = resolution ?? (variant == .cifar ? 32 : 224)
        self.classes = classes
    }

    static let stages: [(channels: Int, convs: Int)] = [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]
    func scaled(_ c: Int) -> Int { max(1, Int((Double(c) * width).rounded(.toNearestOrEven))) }

    public func build() -> Model {
        variant == .cifar ? buildCifar() : buildImageNet()
    }

    private func buildCifar() -> Model {
        var b = GraphBuilder(inputShape: [inputChannels, resolution, resolution])
        var x = b.input, channels = inputChannels
        for (stage, spec) in Self.stages.enumerated() {
            let width = scaled(spec.channels)
            for i in 0..<spec.convs {
                let p = "block\(stage)"
                x = b.add("\(p).\(3 * i)", Conv2d(.init(inChannels: channels, outChannels: width, kernel: 3, padding: 1, bias: true)), x)
                x = b.add("\(p).\(3 * i + 1)", BatchNorm2d(channels: width), x)
                // The block's last ReLU is applied functionally in forward (F.relu), the others are modules.
                let last = i == spec.convs - 1
                x = b.add(last ? "\(p).relu" : "\(p).\(3 * i + 2)", ReLULayer(functional: last), x)
                channels = width
            }
            switch stage {
            case 0...2: x = b.add("pool\(stage)", Pool2d(.max, .init(kernel: 2)), x)
            case 3: x = b.add("pool3", Pool2d(.max, .init(kernel: 2), active: resolution == 64), x)
            default: x = b.add("pool4", AdaptiveAvgPool2d(flatten: true), x)
            }
        }
        x = b.add("classifier", LinearLayer(inFeatures: channels, outFeatures: classes), x)
        return b.build(output: x)
    }

    private func buildImageNet() -> Model {
        var b = GraphBuilder(inputShape: [inputChannels, resolution, resolution])
        var x = b.input, channels = inputChannels, index = 0
        for spec in Self.stages {
            let width = scaled(spec.channels)
            for _ in 0..<spec.convs {
                x = b.add("features.\(index)", Conv2d(.init(inChannels: channels, outChannels: width, kernel: 3, padding: 1, bias: true)), x)
                x = b.add("features.\(index + 1)", BatchNorm2d(channels: width), x)
                x = b.add("features.\(index + 2)", ReLULayer(), x)
                index += 3
                channels = width
            }
            x = b.add("features.\(index)", Pool2d(.max, .init(kernel: 2)), x)
            index += 1
        }
        let hidden = scaled(4096)
        x = b.add("avgpool", AdaptiveAvgPool2d(outputH: 7, outputW: 7), x)
        x = b.add("flatten", FlattenLayer(), x)
        x = b.add("classifier.0", LinearLayer(inFeatures: channels * 49, outFeatures: hidden), x)
        x = b.add("classifier.1", ReLULayer(), x)
        x = b.add("classifier.2", DropoutLayer(probability: 0.5), x)
        x = b.add("classifier.3", LinearLayer(inFeatures: hidden, outFeatures: hidden), x)
        x = b.add("classifier.4", ReLULayer(), x)
        x = b.add("classifier.5", DropoutLayer(probability: 0.5), x)
        x = b.add("classifier.6", LinearLayer(inFeatures: hidden, outFeatures: classes), x)
        return b.build(output: x)
    }
}
