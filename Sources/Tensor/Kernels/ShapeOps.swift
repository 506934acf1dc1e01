/// Concatenation along any axis (`torch.cat(xs, dim=axis)`).
///
/// All inputs must have the same rank and equal extents on every axis but `axis`; the output's
/// extent on `axis` is the sum of theirs. Negative axes count from the end. Viewing every tensor as
/// `[outer, extent, inner]` around `axis`, each output row `o` is the inputs' rows `o` laid end to
/// end; rows are copied in parallel.
public enum Concat {
    /// `torch.cat(xs, dim: axis)`.
    public static func forward(_ xs: [Tensor], axis: Int) -> Tensor {
        precondition(!xs.isEmpty, "concat needs at least one tensor")
        let first = xs[0].shape
        let ax = resolvedAxis(axis, rank: first.count, "concat")
        var total = 0
        for x in xs {
            precondition(x.rank == first.count && x.shape.enumerated().allSatisfy { $0.offset == ax || $0.element == first[$0.offset] },
                         "concat along axis \(ax): shape \(x.shape) does not match \(first)")
            total += x.shape[ax]
        }
        var outShape = first
        outShape[ax] = total
        var out = Tensor(uninitializedShape: outShape)
        let (outer, inner) = outerInner(outShape, ax)
        let sources = xs.map { (UnsafePointer($0.pointer), $0.shape[ax]) }
        ShapeCopy.join(sources, outer: outer, inner: inner, total: total, into: out.mutablePointer())
        return out
    }

    /// Gradient: `gradOutput` split back into pieces of `sizes` (each input's extent on `axis`).
    public static func backward(_ gradOutput: Tensor, sizes: [Int], axis: Int) -> [Tensor] {
        Split.forward(gradOutput, sizes: sizes, axis: axis)
    }
}

/// Splitting along any axis into consecutive pieces (`torch.split(x, sizes, dim=axis)`), each a
/// fresh contiguous tensor. Negative axes count from the end.
public enum Split {
    /// Splits `x` into pieces whose extents on `axis` are `sizes` (which must sum to `x.shape[axis]`).
    public static func forward(_ x: Tensor, sizes: [Int], axis: Int) -> [Tensor] {
        let ax = resolvedAxis(axis, rank: x.rank, "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == x.shape[ax],
                     "split sizes \(sizes) do not add up to extent \(x.shape[ax]) of axis \(ax) in \(x.shape)")
        let (outer, inner) = outerInner(x.shape, ax)
        var pieces = sizes.map { s -> Tensor in
            var shape = x.shape
            shape[ax] = s
            return Tensor(uninitializedShape: shape)
        }
        let targets = pieces.indices.map { (pieces[$0].mutablePointer(), sizes[$0]) }
        ShapeCopy.part(UnsafePointer(x.pointer), outer: outer, inner: inner, total: x.shape[ax], into: targets)
        withExtendedLifetime(pieces) {}
        return pieces
    }

    /// Splits `x` into `parts` pieces of equal extent on `axis` (`torch.chunk` with an exact divisor).
    public static func forward(_ x: Tensor, parts: Int, axis: Int) -> [Tensor] {
        let ax = resolvedAxis(axis, rank: x.rank, "split")
        precondition(parts > 0 && x.shape[ax] % parts == 0,
                     "cannot split extent \(x.shape[ax]) of axis \(ax) into \(parts) equal parts")
        return forward(x, sizes: Array(repeating: x.shape[ax] / parts, count: parts), axis: ax)
    }

    /// Gradient: the pieces' gradients concatenated back along `axis`. A nil gradient (a piece that
    /// did not reach the loss) counts as zeros.
    ///
    /// - Parameters:
    ///   - gradOutputs: one per piece, in order, each shaped like its piece, or nil.
    ///   - inputShape: the shape of the tensor that was split.
    ///   - sizes: the pieces' extents on `axis`, as given to the forward.
    public static func backward(_ gradOutputs: [Tensor?], inputShape: [Int], sizes: [Int], axis: Int) -> Tensor {
        let ax = resolvedAxis(axis, rank: inputShape.count, "split backward")
        precondition(gradOutputs.count == sizes.count,
                     "split backward got \(gradOutputs.count) gradients for \(sizes.count) pieces")
        precondition(sizes.reduce(0, +) == inputShape[ax],
                     "split sizes \(sizes) do not add up to extent \(inputShape[ax]) of axis \(ax) in \(inputShape)")
        for (g, s) in zip(gradOutputs, sizes) {
            guard let g else { continue }
            var expected = inputShape
            expected[ax] = s
            precondition(g.shape == expected, "split backward: gradient \(g.shape), expected \(expected)")
        }
        var out = Tensor(uninitializedShape: inputShape)
        let (outer, inner) = outerInner(inputShape, ax)
        let sources = zip(gradOutputs, sizes).map { (g, s) in (g.map { UnsafePointer($0.pointer) }, s) }
        ShapeCopy.join(sources, outer: outer, inner: inner, total: inputShape[ax], into: out.mutablePointer())
        withExtendedLifetime(gradOutputs) {}
        return out
    }
}

/// Axis permutation (`x.permute(axes)` followed by `.contiguous()`).
///
///     out.shape[i] = x.shape[axes[i]]
///     out[i_0, ..., i_{r-1}] = x[j] with j[axes[k]] = i_k
///
/// Axes that stay adjacent and in order are merged and unit axes dropped before copying, so e.g.
/// `[N, H, W, C] -> [N, C, H, W]` is a batch of `[H*W, C]` transposes. An identity permutation
/// (after that simplification) returns the input's storage without copying. Output rows are
/// filled in parallel.
public enum Permute {
    /// The permuted, contiguous tensor.
    public static func forward(_ x: Tensor, axes: [Int]) -> Tensor {
        precondition(axes.count == x.rank && Set(axes) == Set(0..<x.rank),
                     "permute axes \(axes) are not a permutation of 0..<\(x.rank) for shape \(x.shape)")
        let outShape = axes.map { x.shape[$0] }
        if x.count == 0 { return Tensor(uninitializedShape: outShape) }
        var inStrides = [Int](repeating: 1, count: x.rank)
        for i in stride(from: x.rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }

        // Output dims with their input strides; drop unit axes, merge runs that stay contiguous.
        var dims: [Int] = [], strides: [Int] = []
        for (i, a) in axes.enumerated() where outShape[i] != 1 {
            let s = inStrides[a]
            if let lastStride = strides.last, lastStride == s * outShape[i] {
                dims[dims.count - 1] *= outShape[i]
                strides[strides.count - 1] = s
            } else {
                dims.append(outShape[i])
                strides.append(s)
            }
        }
        if dims.count <= 1 && (strides.first ?? 1) == 1 { return x.reshaped(outShape) }

        var out = Tensor(uninitializedShape: outShape)
        let src = UnsafePointer(x.pointer), dst = out.mutablePointer()
        let r = dims.count
        let last = dims[r - 1], lastStride = strides[r - 1]
        let rows = out.count / last
        Parallel.forEachChunk(rows, grain: max(1, 16384 / last)) { _, range in
            // Multi-index of the first row over the leading r-1 dims, and its input offset.
            var index = [Int](repeating: 0, count: max(r - 1, 0))
            var rem = range.lowerBound, offset = 0
            for k in stride(from: r - 2, through: 0, by: -1) {
                index[k] = rem % dims[k]
                rem /= dims[k]
                offset += index[k] * strides[k]
            }
            index.withUnsafeMutableBufferPointer { idx in
                for row in range {
                    let d = dst + row * last, s = src + offset
                    if lastStride == 1 {
                        d.update(from: s, count: last)
                    } else {
                        for j in 0..<last { d[j] = s[j * lastStride] }
                    }
                    // Advance the odometer.
                    var k = r - 2
                    while k >= 0 {
                        idx[k] += 1
                        offset += strides[k]
                        if idx[k] < dims[k] { break }
                        offset -= idx[k] * strides[k]
                        idx[k] = 0
                        k -= 1
                    }
                }
            }
        }
        return out
    }

    /// Gradient: `gradOutput` permuted by the inverse permutation.
    public static func backward(_ gradOutput: Tensor, axes: [Int]) -> Tensor {
        forward(gradOutput, axes: inverse(axes))
    }

    /// The inverse permutation: `inverse(axes)[axes[i]] == i`.
    public static func inverse(_ axes: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inv[a] = i }
        return inv
    }
}

/// Merges a run of axes into one (`torch.flatten(x, start_dim, end_dim)`); never copies.
public enum Flatten {
    /// `x` with axes `startAxis...endAxis` (negative counts from the end) merged into one.
    public static func forward(_ x: Tensor, startAxis: Int = 1, endAxis: Int = -1) -> Tensor {
        let s = resolvedAxis(startAxis, rank: x.rank, "flatten"), e = resolvedAxis(endAxis, rank: x.rank, "flatten")
        precondition(s <= e, "flatten start axis \(startAxis) is after end axis \(endAxis) for shape \(x.shape)")
        let merged = x.shape[s...e].reduce(1, *)
        return x.reshaped(Array(x.shape[..<s]) + [merged] + Array(x.shape[(e + 1)...]))
    }

    /// Gradient: `gradOutput` reshaped back to the input's shape.
    public static func backward(_ gradOutput: Tensor, inputShape: [Int]) -> Tensor {
        gradOutput.reshaped(inputShape)
    }
}

/// `axis`, or `axis + rank` when negative, checked to be in range.
private func resolvedAxis(_ axis: Int, rank: Int, _ op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
    return a
}

/// Products of the extents before and after `axis`.
private func outerInner(_ shape: [Int], _ axis: Int) -> (outer: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
}

/// The row copies shared by concat and split.
private enum ShapeCopy {
    /// Writes `[outer, total, inner]` from pieces `[outer, size_i, inner]` (nil pieces as zeros).
    static func join(_ pieces: [(UnsafePointer<Float>?, Int)], outer: Int, inner: Int, total: Int,
                     into dst: UnsafeMutablePointer<Float>) {
        let row = total * inner
        Parallel.forEachChunk(outer, grain: max(1, 16384 / max(row, 1))) { _, range in
            for o in range {
                var d = dst + o * row
                for (p, size) in pieces {
                    let n = size * inner
                    if let p { d.update(from: p + o * n, count: n) } else { d.update(repeating: 0, count: n) }
                    d += n
                }
            }
        }
    }

    /// Splits `[outer, total, inner]` into pieces `[outer, size_i, inner]`.
    static func part(_ src: UnsafePointer<Float>, outer: Int, inner: Int, total: Int,
                     into pieces: [(UnsafeMutablePointer<Float>, Int)]) {
        let row = total * inner
        Parallel.forEachChunk(outer, grain: max(1, 16384 / max(row, 1))) { _, range in
            for o in range {
                var s = src + o * row
                for (p, size) in pieces {
                    let n = size * inner
                    (p + o * n).update(from: s, count: n)
                    s += n
                }
            }
        }
    }
}
