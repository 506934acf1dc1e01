import Tensor

/// Which reference's initialisation a freshly built model follows (see `ModelInit` in Models):
/// torchvision's ResNet/VGG recipe, or timm's VisionTransformer recipe. Each layer kind applies
/// a recipe to its own state in ``Layer/initialize(_:using:)``.
public enum InitializationRecipe: Sendable, Equatable {
    /// Conv kaiming-normal (fan-out, ReLU gain), batch norm 1 and 0, Linear uniform in
    /// `±1/sqrt(fan_in)` (PyTorch's default).
    case torchvision
    /// Linear weights truncated normal with std 0.02 (cut at ±2 std) and zero biases, layer norm
    /// 1 and 0, token parameters normal with std 0.02.
    case timm
}

extension Tensor {
    /// Normal(0, std) cut at ±2 std by redrawing (timm's `trunc_normal_` up to the cut point).
    static func truncatedNormal(_ shape: [Int], std: Float, using g: inout SeededGenerator) -> Tensor {
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
