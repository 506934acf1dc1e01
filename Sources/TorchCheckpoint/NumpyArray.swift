/// A `numpy.ndarray` read from a pickle as data (``ObjectTreeMode/numpyArrays``).
///
/// NumPy pickles an array as `_reconstruct(ndarray, (0,), b'b')` followed by `BUILD` with the state
/// `(version, shape, dtype, is_fortran, raw_bytes)`, the dtype itself being `dtype(code, 0, 1)` with
/// the state `(3, byteorder, ...)`. This reads that record back, checking every field, for the plain
/// numeric dtypes; object arrays (whose state is a list of Python objects) are refused.
public struct NumpyArray: Sendable, Equatable {
    /// The element kinds read: NumPy's type codes without the byte order.
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "u1", int8 = "i1", int16 = "i2", int32 = "i4", int64 = "i8", float32 = "f4", float64 = "f8", bool = "b1"

        /// Bytes per element.
        public var elementSize: Int { Int(rawValue.dropFirst())! }
    }

    /// The element kind.
    public var dtype: DType
    /// The dimensions, outermost first.
    public var shape: [Int]
    /// The elements in C (row-major) order, little-endian.
    public var bytes: [UInt8]

    /// Reads the array `value` holds, or throws a ``TorchCheckpointError`` naming `role` and the field at fault.
    public init(_ value: PickleValue, role: String, file: String) throws {
        func fail(_ message: String) -> TorchCheckpointError {
            TorchCheckpointError(.malformed, file: file, "\(role): \(message)")
        }
        guard case .object(let module, let name, let args, let state) = value,
              name == "_reconstruct", module.hasSuffix("core.multiarray") else {
            throw fail("expected a pickled numpy.ndarray, found \(value.kindDescription)")
        }
        guard case .global(_, "ndarray")? = args.first else { throw fail("_reconstruct must rebuild a numpy.ndarray") }
        guard case .tuple(let s)? = state, s.count == 5 else {
            throw fail("the array state must be (version, shape, dtype, is_fortran, data)")
        }
        guard let shapeItems = s[1].sequenceValue, shapeItems.count <= 32 else { throw fail("the shape must be a tuple of at most 32 ints") }
        var shape: [Int] = []
        var count = 1
        for item in shapeItems {
            guard let d = item.intValue, d >= 0, d <= Int64(Int32.max) else { throw fail("a dimension is not a non-negative int") }
            shape.append(Int(d))
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow else { throw fail("the shape \(shape) overflows") }
            count = product
        }
        let dtype = try Self.dtype(s[2], fail: fail)
        let fortran = s[3].boolValue ?? (s[3].intValue.map { $0 != 0 })
        guard let fortran else { throw fail("is_fortran must be a bool") }
        let data: [UInt8]
        switch s[4] {
        case .bytes(let b): data = b
        case .string(let text): data = Array(text.utf8)   // a Python 2 str that happened to be valid UTF-8
        default: throw fail("the array data must be bytes (object arrays are not read), found \(s[4].kindDescription)")
        }
        guard data.count == count * dtype.elementSize else {
            throw fail("the data holds \(data.count) bytes, but shape \(shape) of \(dtype.rawValue) needs \(count * dtype.elementSize)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = fortran && shape.count > 1 ? Self.cOrder(data, shape: shape, elementSize: dtype.elementSize) : data
    }

    /// The element kind of a pickled `numpy.dtype` record: `dtype('u1', 0, 1)` with state `(3, '|', ...)`.
    private static func dtype(_ value: PickleValue, fail: (String) -> TorchCheckpointError) throws -> DType {
        guard case .object(_, "dtype", let args, let state) = value, let code = args.first?.stringValue else {
            throw fail("the dtype must be a pickled numpy.dtype, found \(value.kindDescription)")
        }
        guard let dtype = DType(rawValue: code) else {
            throw fail("dtype '\(TorchCheckpointError.quote(code, limit: 16))' is not read (expected one of \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if case .tuple(let s)? = state, s.count > 1, let order = s[1].stringValue, order == ">" {
            throw fail("big-endian arrays ('>\(code)') are not read")
        }
        return dtype
    }

    /// Reorders Fortran-order (column-major) data to C order.
    private static func cOrder(_ data: [UInt8], shape: [Int], elementSize: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: data.count)
        let count = data.count / max(elementSize, 1)
        var fStrides = [Int](repeating: 1, count: shape.count)
        for d in 1..<shape.count { fStrides[d] = fStrides[d - 1] * shape[d - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<count {
            var f = 0
            for d in 0..<shape.count { f += index[d] * fStrides[d] }
            for b in 0..<elementSize { out[c * elementSize + b] = data[f * elementSize + b] }
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return out
    }
}
