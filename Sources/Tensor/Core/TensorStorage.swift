import Synchronization

/// A 64-byte aligned float32 buffer. Buffers are recycled through ``BufferPool`` so that a
/// training loop that asks for the same sizes every step does not go back to the system allocator.
public final class TensorStorage: @unchecked Sendable {
    /// First element. Valid for `capacity` elements for the lifetime of the storage.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements the buffer holds.
    public let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.base = BufferPool.shared.take(capacity)
    }

    deinit { BufferPool.shared.give(base, capacity: capacity) }
}

/// A process-wide free list of aligned float buffers, keyed by exact element count.
///
/// Activations and gradients of a network come in a small set of sizes that repeat every step,
/// so exact-size reuse hits almost always. The pool keeps at most `maxCachedBytes`.
final class BufferPool: Sendable {
    static let shared = BufferPool()
    static let maxCachedBytes = 2 << 30

    private struct State: @unchecked Sendable {
        var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
        var cachedBytes = 0
    }
    private let state = Mutex(State())

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let reused: UnsafeMutablePointer<Float>? = state.withLock { s in
            guard var list = s.free[count], let p = list.popLast() else { return nil }
            s.free[count] = list
            s.cachedBytes -= count * 4
            return p
        }
        if let reused { return reused }
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + capacity * 4 <= Self.maxCachedBytes else { return false }
            s.free[capacity, default: []].append(pointer)
            s.cachedBytes += capacity * 4
            return true
        }
        if !kept { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    /// Releases every cached buffer back to the system.
    func trim() {
        let all = state.withLock { s -> [UnsafeMutablePointer<Float>] in
            let ps = s.free.values.flatMap { $0 }
            s.free = [:]
            s.cachedBytes = 0
            return ps
        }
        for p in all { UnsafeMutableRawPointer(p).deallocate() }
    }
}
