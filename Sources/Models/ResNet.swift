import Experiments
import NN
import Tensor

/// ResNet-18 and ResNet-50 in the CIFAR (Torch-Pruning) and ImageNet (torchvision) variants,
/// with a width multiplier: stage widths `round(c * width)` for c in (64, 128, 256, 512).
public struct ResNetBuilder: Sendable {
    public enum Depth: Int, Sendable { case resnet18 = 18, resnet50 = 50 }
    public var depth: Depth
    public var variant: Variant
    public var width: Double
    public var inputChannels: Int
    public var resolution: Int
    public var classes: Int

    public init(depth: Depth, variant: Variant, width: Double = 1, inputChannels: Int = 3,
                resolution: Int? = nil, classes: Int) {
        self.depth = depth; self.variant = variant; self.width = width
        self.inputChannels = inputChannels
        self.resolution = resolution ?? (variant == .cifar ? 32 : 224)
        self.classes = classes
    }

    var blocks: [Int] { depth == .resnet18 ? [2, 2, 2, 2] : [3, 4, 6, 3] }
    var expansion: Int { depth == .resnet18 ? 1 : 4 }
    func scaled(_ c: Int) -> Int { max(1, Int((Double(c) * width).rounded(.toNearestOrEven))) }

    /// Builds the graph with zeroed state; call ``ModelInit/initialize(_:seed:)`` or load weights.
    public func build() -> Model {
        let cifar = variant == .cifar
        var b = GraphBuilder(inputShape: [inputChannels, resolution, resolution])
        let stem = scaled(64)
        var x = b.add("conv1", Conv2d(.init(inChannels: inputChannels, outChannels: stem, kernel: cifar ? 3 : 7,
                                            stride: cifar ? 1 : 2, padding: cifar ? 1 : 3)), b.input)
        x = b.add("bn1", BatchNorm2d(channels: stem), x)
        x = b.add("relu", ReLULayer(functional: cifar), x)
        if !cifar { x = b.add("maxpool", Pool2d(.max, .init(kernel: 3, stride: 2, padding: 1)), x) }
        var channels = stem
        for (stage, count) in blocks.enumerated() {
            let planes = scaled([64, 128, 256, 512][stage])
            for j in 0..<count {
                let stride = (stage > 0 && j == 0) ? 2 : 1
                (x, channels) = block(&b, "layer\(stage + 1).\(j)", x, inChannels: channels, planes: planes, stride: stride)
            }
        }
        x = b.add(cifar ? "pool" : "avgpool", AdaptiveAvgPool2d(flatten: true, functional: cifar), x)
        x = b.add(cifar ? "linear" : "fc", LinearLayer(inFeatures: channels, outFeatures: classes), x)
        return b.build(output: x)
    }

    private func block(_ b: inout GraphBuilder, _ p: String, _ input: GraphBuilder.Value, inChannels: Int,
                       planes: Int, stride: Int) -> (GraphBuilder.Value, Int) {
        let cifar = variant == .cifar
        let out = planes * expansion
        var x = input
        // torchvision puts the stride on the 3x3 conv of the bottleneck (ResNet v1.5), as does the CIFAR zoo.
        if depth == .resnet18 {
            x = b.add("\(p).conv1", Conv2d(.init(inChannels: inChannels, outChannels: planes, kernel: 3, stride: stride, padding: 1)), x)
            x = b.add("\(p).bn1", BatchNorm2d(channels: planes), x)
            x = b.add("\(p).relu", ReLULayer(functional: cifar), x)
            x = b.add("\(p).conv2", Conv2d(.init(inChannels: planes, outChannels: planes, kernel: 3, padding: 1)), x)
            x = b.add("\(p).bn2", BatchNorm2d(channels: planes), x)
        } else {
            x = b.add("\(p).conv1", Conv2d(.init(inChannels: inChannels, outChannels: planes, kernel: 1)), x)
            x = b.add("\(p).bn1", BatchNorm2d(channels: planes), x)
            x = b.add("\(p).relu", ReLULayer(functional: cifar), x)
            x = b.add("\(p).conv2", Conv2d(.init(inChannels: planes, outChannels: planes, kernel: 3, stride: stride, padding: 1)), x)
            x = b.add("\(p).bn2", BatchNorm2d(channels: planes), x)
            x = b.add("\(p).relu@2", ReLULayer(functional: cifar), x)
            x = b.add("\(p).conv3", Conv2d(.init(inChannels: planes, outChannels: out, kernel: 1)), x)
            x = b.add("\(p).bn3", BatchNorm2d(channels: out), x)
        }
        var shortcut = input
        if stride != 1 || inChannels != out {
            let s = cifar ? "\(p).shortcut" : "\(p).downsample"
            shortcut = b.add("\(s).0", Conv2d(.init(inChannels: inChannels, outChannels: out, kernel: 1, stride: stride)), input)
            shortcut = b.add("\(s).1", BatchNorm2d(channels: out), shortcut)
        }
        x = b.add("\(p).add", AddLayer(), x, shortcut)
        // torchvision calls the block's one ReLU module again after the residual add.
        x = b.add(depth == .resnet18 ? "\(p).relu@2" : "\(p).relu@3", ReLULayer(functional: cifar), x)
        return (x, out)
    }
}
