import NN
import Tensor

/// Seeded initialisation of a freshly built model, following torchvision's ResNet recipe:
/// conv weights kaiming-normal (fan-out, ReLU gain), batch norm weight 1 and bias 0, linear
/// weight and bias uniform in `±1/sqrt(fan_in)` (PyTorch's default). Conv biases are uniform in
/// `±1/sqrt(fan_in)`. Layers are visited in graph order, so the result depends only on the seed.
///
/// Vision transformers follow timm's recipe instead: linear weights (attention `qkv` / `proj`,
/// MLP, head) truncated normal with std 0.02 (cut at ±2 std) and zero biases, layer norm weight 1
/// and bias 0, `cls_token` and `pos_embed` normal with std 0.02.
public enum ModelInit {
    public static func initialize(_ model: Model, seed: UInt64) {
        var g = SeededGenerator(seed: seed, stream: 0x1417)
        let transformer = model.nodes.contains { $0.layer is AttentionLayer }
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
            case let fc as LinearLayer where transformer:
                fc.weight.value = truncatedNormal([fc.outFeatures, fc.inFeatures], std: 0.02, using: &g)
                fc.bias?.value = Tensor(zeros: [fc.outFeatures])
            case let fc as LinearLayer:
                let bound = 1 / Float(Double(fc.inFeatures).squareRoot())
                fc.weight.value = .randomUniform([fc.outFeatures, fc.inFeatures], low: -bound, high: bound, using: &g)
                if let bias = fc.bias {
                    bias.value = .randomUniform([fc.outFeatures], low: -bound, high: bound, using: &g)
                }
            case let attn as AttentionLayer:
                attn.qkvWeight.value = truncatedNormal(attn.qkvWeight.value.shape, std: 0.02, using: &g)
                if let bias = attn.qkvBias { bias.value = Tensor(zeros: bias.value.shape) }
                attn.projWeight.value = truncatedNormal(attn.projWeight.value.shape, std: 0.02, using: &g)
                attn.projBias.value = Tensor(zeros: attn.projBias.value.shape)
            case let ln as LayerNormLayer:
                ln.weight.value = Tensor(repeating: 1, shape: ln.weight.value.shape)
                ln.bias.value = Tensor(zeros: ln.bias.value.shape)
            case let cls as ClassTokenLayer:
                cls.token.value = .randomNormal(cls.token.value.shape, std: 0.02, using: &g)
            case let pos as PositionEmbeddingLayer:
                pos.embedding.value = .randomNormal(pos.embedding.value.shape, std: 0.02, using: &g)
            default:
                break
            }
        }
    }

    /// Normal(0, std) cut at ±2 std by redrawing (timm's `trunc_normal_` up to the cut point).
    private static func truncatedNormal(_ shape: [Int], std: Float, using g: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.mutablePointer()
        for i in 0..<t.count {
            var z = g.nextNormal()
            while abs(z) > 2 { z = g.nextNormal() }
            p[i] = std * z
        }
        return t
    }
}
