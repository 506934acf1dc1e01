import Tensor

extension Tensor {
    /// The sub-tensor keeping positions `indices` (in the given order) along `axis`; the other
    /// axes are unchanged. Used to shrink layer state when channels are pruned.
    public func gathering(axis: Int, _ indices: [Int]) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "index out of range 0..<\(n) on axis \(axis)")
        var newShape = shape
        newShape[axis] = indices.count
        var out = Tensor(uninitializedShape: newShape)
        let src = pointer
        out.withUnsafeMutableBufferPointer { dst in
            var k = 0
            for o in 0..<outer {
                for i in indices {
                    let base = (o * n + i) * inner
                    for j in 0..<inner { dst[k] = src[base + j]; k += 1 }
                }
            }
        }
        return out
    }
}
