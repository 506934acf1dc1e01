#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gaussian error linear unit, exact (erf) form: PyTorch's `nn.GELU()` default (`approximate='none'`).
///
///     y = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
public enum GELU {
    /// `y = 0.5 x (1 + erf(x / sqrt 2))`, element-wise.
    public static func forward(_ x: Tensor) -> Tensor {
        activationMap(x) { src, dst, r in
            for i in r {
                let v = src[i]
                dst[i] = 0.5 * v * (1 + erff(v * invSqrt2))
            }
        }
    }

    /// `dx = dy * (Phi(x) + x * phi(x))` with `Phi(x) = 0.5 (1 + erf(x / sqrt 2))` and
    /// `phi(x) = exp(-x^2 / 2) / sqrt(2 pi)`. Needs the forward input.
    public static func backward(_ gradOutput: Tensor, input: Tensor) -> Tensor {
        activationZip(gradOutput, input, "GELU") { g, x, dst, r in
            for i in r {
                let v = x[i]
                let cdf = 0.5 * (1 + erff(v * invSqrt2))
                let pdf = expf(-0.5 * v * v) * invSqrt2Pi
                dst[i] = g[i] * (cdf + v * pdf)
            }
        }
    }

    private static let invSqrt2: Float = 0.70710678118654752440
    private static let invSqrt2Pi: Float = 0.39894228040143267794
}

/// Sigmoid linear unit (swish): PyTorch's `nn.SiLU()`.
///
///     y = x * sigmoid(x)
public enum SiLU {
    /// `y = x / (1 + exp(-x))`, element-wise.
    public static func forward(_ x: Tensor) -> Tensor {
        activationMap(x) { src, dst, r in
            for i in r {
                let v = src[i]
                dst[i] = v / (1 + expf(-v))
            }
        }
    }

    /// `dx = dy * s * (1 + x (1 - s))` with `s = sigmoid(x)`. Needs the forward input.
    public static func backward(_ gradOutput: Tensor, input: Tensor) -> Tensor {
        activationZip(gradOutput, input, "SiLU") { g, x, dst, r in
            for i in r {
                let v = x[i]
                let s = 1 / (1 + expf(-v))
                dst[i] = g[i] * s * (1 + v * (1 - s))
            }
        }
    }
}

/// Logistic sigmoid: PyTorch's `nn.Sigmoid()`.
///
///     y = 1 / (1 + exp(-x))
public enum Sigmoid {
    /// `y = 1 / (1 + exp(-x))`, element-wise (saturates cleanly to 0 and 1).
    public static func forward(_ x: Tensor) -> Tensor {
        activationMap(x) { src, dst, r in
            for i in r { dst[i] = 1 / (1 + expf(-src[i])) }
        }
    }

    /// `dx = dy * y * (1 - y)`. Needs the forward output.
    public static func backward(_ gradOutput: Tensor, output: Tensor) -> Tensor {
        activationZip(gradOutput, output, "Sigmoid") { g, y, dst, r in
            for i in r { dst[i] = g[i] * y[i] * (1 - y[i]) }
        }
    }
}

/// Element-wise chunk size: large enough that a chunk amortises the team start-up.
private let activationGrain = 16384

/// Runs `body` over the elements of `x` in parallel chunks, writing a fresh tensor.
@inline(__always)
private func activationMap(_ x: Tensor,
                   _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> Tensor {
    var out = x.emptyLike()
    let src = UnsafePointer(x.pointer), dst = out.mutablePointer()
    Parallel.forEachChunk(x.count, grain: activationGrain) { _, r in body(src, dst, r) }
    return out
}

/// Runs `body` over the elements of two same-shaped tensors in parallel chunks, writing a fresh tensor.
@inline(__always)
private func activationZip(_ a: Tensor, _ b: Tensor, _ name: String,
                    _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void)
    -> Tensor {
    precondition(a.shape == b.shape, "\(name) backward: gradient shape \(a.shape) differs from saved tensor \(b.shape)")
    var out = a.emptyLike()
    let pa = UnsafePointer(a.pointer), pb = UnsafePointer(b.pointer), dst = out.mutablePointer()
    Parallel.forEachChunk(a.count, grain: activationGrain) { _, r in body(pa, pb, dst, r) }
    return out
}
