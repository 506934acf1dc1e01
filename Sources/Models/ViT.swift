import NN
import Tensor

/// timm's `VisionTransformer` with a class token (`global_pool='token'`), qkv bias, no dropout
/// and `torch.nn.LayerNorm(eps=1e-6)` norms, as in the golden fixtures (`vit_small_patch16_224`,
/// `vit_tiny_c32`): the same state-dict names, shapes and order, and the same MAC counts.
///
/// Graph (node names are timm's module names):
///
///     _cls_token, _pos_embed                    parameter nodes (first in the state dict, as timm)
///     patch_embed.proj   Conv2d(k = s = patch, bias)       [N, H/p, W/p, D]
///     patch_embed.flatten                                  [N, L, D], L = (H/p)(W/p)
///     cat_cls_token      cls_token in front                [N, L+1, D]
///     add_pos_embed      + pos_embed
///     blocks.i:  x = x + attn(norm1(x));  x = x + mlp.fc2(mlp.act(mlp.fc1(norm2(x))))
///     norm               LayerNorm(eps 1e-6) on every token
///     select_token       x[:, 0]                           [N, D]
///     head               Linear(D, classes)
public struct ViTBuilder: Sendable {
    public var imageSize: Int
    public var patchSize: Int
    public var inputChannels: Int
    public var embedDim: Int
    public var depth: Int
    public var heads: Int
    public var mlpHidden: Int
    public var classes: Int

    public init(imageSize: Int, patchSize: Int, inputChannels: Int = 3, embedDim: Int, depth: Int, heads: Int,
                mlpHidden: Int, classes: Int) {
        precondition(patchSize > 0 && imageSize % patchSize == 0, "image size \(imageSize) is not a multiple of patch \(patchSize)")
        precondition(heads > 0 && embedDim % heads == 0, "embed dim \(embedDim) is not divisible by \(heads) heads")
        self.imageSize = imageSize; self.patchSize = patchSize; self.inputChannels = inputChannels
        self.embedDim = embedDim; self.depth = depth; self.heads = heads; self.mlpHidden = mlpHidden
        self.classes = classes
    }

    /// timm's `vit_small_patch16_224` (embed 384, depth 12, 6 heads, MLP 1536, patch 16).
    public static func vitSmallPatch16(classes: Int = 1000, imageSize: Int = 224, inputChannels: Int = 3) -> ViTBuilder {
        ViTBuilder(imageSize: imageSize, patchSize: 16, inputChannels: inputChannels, embedDim: 384, depth: 12, heads: 6,
                   mlpHidden: 1536, classes: classes)
    }

    /// The fixtures' `vit_tiny_c32`: 3x32x32, patch 4, embed 96, depth 4, 3 heads, MLP 384, 10 classes.
    public static let vitTinyC32 = ViTBuilder(imageSize: 32, patchSize: 4, inputChannels: 3, embedDim: 96, depth: 4,
                                              heads: 3, mlpHidden: 384, classes: 10)

    /// Patch tokens, class token excluded.
    public var patches: Int { (imageSize / patchSize) * (imageSize / patchSize) }

    /// Builds the graph with zeroed state (layer norms at weight 1, bias 0); call
    /// ``ModelInit/initialize(_:seed:)`` or load weights.
    public func build() -> Model {
        let d = embedDim, eps: Float = 1e-6
        var b = GraphBuilder(inputShape: [inputChannels, imageSize, imageSize])
        // Parameter nodes first: timm's state dict starts with cls_token and pos_embed.
        let cls = b.add("_cls_token", ClassTokenLayer(features: d))
        let pos = b.add("_pos_embed", PositionEmbeddingLayer(tokens: patches + 1, features: d))
        var x = b.add("patch_embed.proj", Conv2d(.init(inChannels: inputChannels, outChannels: d, kernel: patchSize,
                                                       stride: patchSize, bias: true)), b.input)
        x = b.add("patch_embed.flatten", PatchTokensLayer(), x)
        x = b.add("cat_cls_token", PrependTokenLayer(), x, cls)
        x = b.add("add_pos_embed", BroadcastAddLayer(), x, pos)
        for i in 0..<depth {
            let p = "blocks.\(i)"
            var y = b.add("\(p).norm1", LayerNormLayer(features: d, eps: eps), x)
            y = b.add("\(p).attn", AttentionLayer(inFeatures: d, numHeads: heads, headDim: d / heads), y)
            x = b.add("\(p).add1", AddLayer(), x, y)
            y = b.add("\(p).norm2", LayerNormLayer(features: d, eps: eps), x)
            y = b.add("\(p).mlp.fc1", LinearLayer(inFeatures: d, outFeatures: mlpHidden), y)
            y = b.add("\(p).mlp.act", GELULayer(), y)
            y = b.add("\(p).mlp.fc2", LinearLayer(inFeatures: mlpHidden, outFeatures: d), y)
            x = b.add("\(p).add2", AddLayer(), x, y)
        }
        x = b.add("norm", LayerNormLayer(features: d, eps: eps), x)
        x = b.add("select_token", SelectTokenLayer(), x)
        x = b.add("head", LinearLayer(inFeatures: d, outFeatures: classes), x)
        return b.build(output: x)
    }
}
