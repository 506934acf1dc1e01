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
///
/// Each layer kind applies the recipe to its own state (``Layer/initialize(_:using:)``); a model
/// follows timm's recipe when one of its layers prefers it (timm's attention,
/// ``Layer/preferredInitialization``).
public enum ModelInit {
    public static func initialize(_ model: Model, seed: UInt64) {
        var g = SeededGenerator(seed: seed, stream: 0x1417)
        let recipe = model.nodes.lazy.compactMap(\.layer.preferredInitialization).first ?? .torchvision
        for node in model.nodes.dropFirst() { node.layer.initialize(recipe, using: &g) }
    }
}
