/// A dense, row-major float32 n-dimensional array with value semantics.
///
/// Copies share storage until one of them is written to (copy on write). Reshaping never copies.
/// Feature maps inside the engine are channels-last (`[N, H, W, C]`); the kernels say so where
/// it matters.
public struct Tensor: @unchecked Sendable {
    /// The extent of each axis.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// Number of elements (the product of `shape`).
    public var count: Int { shape.reduce(1, *) }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// A tensor whose contents are unspecified (buffers are recycled). Write every element.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        self.shape = shape
        self.storage = TensorStorage(capacity: shape.reduce(1, *))
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(uninitializedShape: shape)
        storage.base.update(repeating: value, count: count)
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A tensor holding `values` in row-major order.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *),
                     "\(values.count) values do not fill shape \(shape)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A scalar (rank-0) tensor.
    public init(scalar: Float) { self.init(shape: [], values: [scalar]) }

    /// The elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// Read-only access to the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// Read-write access to the elements; copies first if the storage is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
    }

    /// Pointer to the first element, for kernels. Callers must not write through it unless they
    /// own the tensor uniquely (see ``mutablePointer()``).
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.base }

    /// Pointer for writing, after making the storage unique.
    @inlinable
    public mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return storage.base
    }

    @usableFromInline
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(capacity: count)
            copy.base.update(from: storage.base, count: count)
            storage = copy
        }
    }

    /// The same elements under a new shape with the same count. One extent may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[i] = count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = resolved
        return t
    }

    /// Element at a multi-index (slow; for tests and small tensors).
    public subscript(_ index: Int...) -> Float {
        get { storage.base[flatIndex(index)] }
        set { let i = flatIndex(index); makeUnique(); storage.base[i] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) out of range for shape \(shape)")
            flat = flat * n + i
        }
        return flat
    }

    /// A fresh tensor with the same shape whose contents are unspecified.
    public func emptyLike() -> Tensor { Tensor(uninitializedShape: shape) }
    /// A tensor of zeros with the same shape.
    public func zerosLike() -> Tensor { Tensor(zeros: shape) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
