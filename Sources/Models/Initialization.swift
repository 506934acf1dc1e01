import NN
import Tensor

/// Seeded initialisation of a freshly built model, following torchvision's ResNet recipe:
/// conv weights kaiming-normal (fan-out, ReLU gain), batch norm weight 1 and bias 0, linear
/// weight and bias uniform in `±1/sqrt(fan_in)` (PyTorch's default). Conv biases are uniform in
/// `±1/sqrt(fan_in)`. Layers are visited in graph order, so the result depends only on the seed.
public enum ModelInit {
    public static func initialize(_ model: Model, seed: UInt64) {
        var g = SeededGenerator(seed: seed, stream: 0x1417)
        for node in model.nodes.dropFirst() {
            switch node.layer {
            case let conv as Conv2d:
                let s = conv.geometry
                let fanOut = s.outChannels * s.kernelH * s.kernelW / s.groups
                let std = Float((2.0 / Double(fanOut)).squareRoot())
                conv.weight.value = .randomNormal(s.weightShape, std: std, using: &g)
                if let bias = conv.bias {
                    let bound = 1 / Float(Double(s.inChannels / s.groups * s.kernelH * s.kernelW).squareRoot())
                    bias.value = .randomUniform([s.outChannels], low: -bound, high: bound, using: &g)
                }
            case let bn as BatchNorm2d:
                bn.weight.value = Tensor(repeating: 1, shape: [bn.channels])
                bn.bias.value = Tensor(zeros: [bn.channels])
            case let fc as LinearLayer:
                let bound = 1 / Float(Double(fc.inFeatures).squareRoot())
                fc.weight.value = .randomUniform([fc.outFeatures, fc.inFeatures], low: -bound, high: bound, using: &g)
                if let bias = fc.bias {
                    bias.value = .randomUniform([fc.outFeatures], low: -bound, high: bound, using: &g)
                }
            default:
                break
            }
        }
    }
}
