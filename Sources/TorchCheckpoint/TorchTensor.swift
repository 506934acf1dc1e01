/// A tensor read from a checkpoint: its dtype, shape and values, made contiguous (row-major) and
/// little-endian. Strided views, storage offsets, stride-0 expansions and big-endian storages are
/// all resolved when the tensor is built.
public struct TorchTensor: Sendable, Equatable {
    /// The element type of the storage the tensor came from.
    public let dtype: TorchDType
    /// The sizes, outermost first. `[]` is a 0-d (scalar) tensor.
    public let shape: [Int]
    /// `requires_grad` as saved (`nn.Parameter`s usually `true`).
    public let requiresGrad: Bool
    /// The contiguous little-endian bytes: `count * dtype.elementSize` of them.
    public let rawBytes: [UInt8]

    /// Creates a tensor from contiguous little-endian bytes; returns nil if the byte count does not
    /// match the shape.
    public init?(dtype: TorchDType, shape: [Int], rawBytes: [UInt8], requiresGrad: Bool = false) {
        guard let count = TorchTensor.elementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.elementSize)
        guard !overflow, bytes == rawBytes.count else { return nil }
        self.dtype = dtype
        self.shape = shape
        self.rawBytes = rawBytes
        self.requiresGrad = requiresGrad
    }

    init(validated dtype: TorchDType, shape: [Int], rawBytes: [UInt8], requiresGrad: Bool) {
        self.dtype = dtype
        self.shape = shape
        self.rawBytes = rawBytes
        self.requiresGrad = requiresGrad
    }

    /// The number of elements (1 for a 0-d tensor).
    public var count: Int { rawBytes.count / dtype.elementSize }

    /// The same tensor with another `requiresGrad` flag (used for `nn.Parameter`).
    func with(requiresGrad: Bool) -> TorchTensor {
        TorchTensor(validated: dtype, shape: shape, rawBytes: rawBytes, requiresGrad: requiresGrad)
    }

    /// The product of `shape`, or nil if a size is negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for size in shape {
            guard size >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    // MARK: - Values

    private func words<T: FixedWidthInteger>(_: T.Type) -> [T] {
        let n = rawBytes.count / MemoryLayout<T>.size
        return rawBytes.withUnsafeBytes { raw in
            (0..<n).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
    }

    /// The values as `Float`, row-major: float32 exactly, float16 and bfloat16 converted exactly,
    /// float64 rounded to nearest, integers and bool converted (0/1).
    public func floatValues() -> [Float] {
        switch dtype {
        case .float32: return words(UInt32.self).map { Float(bitPattern: $0) }
        case .float16: return words(UInt16.self).map(TorchTensor.halfToFloat)
        case .bfloat16: return words(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) }
        case .float64: return words(UInt64.self).map { Float(Double(bitPattern: $0)) }
        default: return int64Values().map { Float($0) }
        }
    }

    /// The values as `Double`, row-major: every floating dtype exactly; integers converted
    /// (exact up to 2^53), bool as 0/1.
    public func doubleValues() -> [Double] {
        switch dtype {
        case .float64: return words(UInt64.self).map { Double(bitPattern: $0) }
        case .float32, .float16, .bfloat16: return floatValues().map { Double($0) }
        default: return int64Values().map { Double($0) }
        }
    }

    /// The values as `Int64`, row-major: integers exactly (uint8 zero-extended, others sign-extended),
    /// bool as 0/1. Floating values are truncated toward zero, NaN becomes 0 and out-of-range values clamp.
    public func int64Values() -> [Int64] {
        switch dtype {
        case .int64: return words(UInt64.self).map { Int64(bitPattern: $0) }
        case .int32: return words(UInt32.self).map { Int64(Int32(bitPattern: $0)) }
        case .int16: return words(UInt16.self).map { Int64(Int16(bitPattern: $0)) }
        case .int8: return rawBytes.map { Int64(Int8(bitPattern: $0)) }
        case .uint8: return rawBytes.map { Int64($0) }
        case .bool: return rawBytes.map { $0 == 0 ? 0 : 1 }
        case .float32, .float16, .bfloat16, .float64:
            return doubleValues().map { value in
                if value.isNaN { return 0 }
                if value >= 9.223372036854775807e18 { return Int64.max }
                if value <= -9.223372036854775808e18 { return Int64.min }
                return Int64(value.rounded(.towardZero))
            }
        }
    }

    /// IEEE binary16 bits to Float, exactly (subnormals, infinities and NaN payloads included).
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        var mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: normalise into float32's wider exponent range.
            var e: UInt32 = 127 - 15 + 1
            while mantissa & 0x400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            mantissa &= 0x3FF
            return Float(bitPattern: sign | (e << 23) | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
    }
}

/// The strided copy `t[idx] = storage[offset + Σ idx_d * stride_d]` (spec §4.5).
enum StridedCopy {
    /// Copies a view out of `storage` (a byte range of `bytes` holding `storageCount` elements).
    /// Throws (via `fail`) if the largest index falls outside the storage.
    static func materialize(bytes: [UInt8], storage: Range<Int>, storageCount: Int, dtype: TorchDType,
                            offset: Int, shape: [Int], stride: [Int], bigEndian: Bool,
                            fail: (String) -> TorchCheckpointError) throws -> [UInt8] {
        let size = dtype.elementSize
        guard shape.count == stride.count else {
            throw fail("size has \(shape.count) dimension(s) but stride has \(stride.count)")
        }
        guard let count = TorchTensor.elementCount(shape) else { throw fail("invalid size \(shape)") }
        guard offset >= 0, stride.allSatisfy({ $0 >= 0 }) else {
            throw fail("negative storage offset or stride (offset \(offset), stride \(stride))")
        }
        guard storage.count == storageCount * size else {
            throw fail("the storage holds \(storage.count) bytes, not \(storageCount) x \(size)")
        }
        if count == 0 { return [] }
        // The largest element index the view touches.
        var largest = offset
        for (n, s) in zip(shape, stride) {
            let (term, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = largest.addingReportingOverflow(term)
            guard !o1, !o2 else { throw fail("size \(shape) with stride \(stride) overflows") }
            largest = sum
        }
        guard largest < storageCount else {
            throw fail("view (offset \(offset), size \(shape), stride \(stride)) reaches element \(largest) but the storage has \(storageCount)")
        }
        var out = [UInt8](repeating: 0, count: count * size)
        let contiguous = isContiguous(shape: shape, stride: stride)
        out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { all in
                let src = UnsafeRawBufferPointer(rebasing: all[storage])
                if contiguous {
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(offset * size)..<((offset + count) * size)]))
                    return
                }
                // Odometer over all dimensions but the last; the last is copied as a run.
                let rank = shape.count
                let inner = shape[rank - 1]
                let innerStride = stride[rank - 1]
                var index = [Int](repeating: 0, count: rank)
                var base = offset
                var written = 0
                while written < count {
                    if innerStride == 1 {
                        dst.baseAddress!.advanced(by: written * size)
                            .copyMemory(from: src.baseAddress!.advanced(by: base * size), byteCount: inner * size)
                    } else {
                        for i in 0..<inner {
                            dst.baseAddress!.advanced(by: (written + i) * size)
                                .copyMemory(from: src.baseAddress!.advanced(by: (base + i * innerStride) * size), byteCount: size)
                        }
                    }
                    written += inner
                    var d = rank - 2
                    while d >= 0 {
                        index[d] += 1
                        base += stride[d]
                        if index[d] < shape[d] { break }
                        base -= stride[d] * shape[d]
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
        if bigEndian && size > 1 {
            for start in Swift.stride(from: 0, to: out.count, by: size) { out[start..<(start + size)].reverse() }
        }
        return out
    }

    /// True if the view is row-major contiguous (dimensions of size 1 may have any stride).
    static func isContiguous(shape: [Int], stride: [Int]) -> Bool {
        var expected = 1
        for d in stride.indices.reversed() where shape[d] != 1 {
            if stride[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }
}
