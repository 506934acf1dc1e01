import Tensor

/// A named piece of model state: a learnable parameter (with a gradient) or a buffer.
public final class Parameter {
    /// Whether the optimizer updates it (`parameter`) or the forward pass maintains it (`buffer`).
    public enum Kind: String, Sendable { case parameter, buffer }

    public var value: Tensor
    /// The accumulated gradient, nil until backward reaches it (always nil for buffers).
    public var grad: Tensor?
    public let kind: Kind

    public init(_ value: Tensor, kind: Kind = .parameter) {
        self.value = value
        self.kind = kind
    }

    /// Adds `g` to the gradient.
    public func accumulate(_ g: Tensor) {
        if grad == nil { grad = g } else { Elementwise.accumulate(&grad!, g) }
    }
}
