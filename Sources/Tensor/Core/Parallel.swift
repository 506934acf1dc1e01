import CSystem

/// Parallel loops on the OpenMP thread team that oneDNN itself runs on.
///
/// oneDNN (Debian's build) uses libgomp. Running the engine's own loops on that same team,
/// through libgomp's C entry point, means the cores are never shared between two pools that
/// spin against each other.
public enum Parallel {
    /// Threads a parallel loop uses.
    public static var threadCount: Int { Int(omp_get_max_threads()) }

    /// Sets the number of threads for oneDNN and the engine's loops.
    public static func setThreadCount(_ n: Int) { omp_set_num_threads(Int32(max(1, n))) }

    /// Splits `0..<count` into one contiguous chunk per thread and runs `body` on each.
    ///
    /// Chunks are fixed by `count` and the thread count alone, so a loop that combines per-chunk
    /// results in chunk order is deterministic. Runs inline when `count < grain * 2`.
    public static func forEachChunk(_ count: Int, grain: Int = 4096,
                                    _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let threads = min(threadCount, max(1, count / max(grain, 1)))
        if threads <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            let job = ChunkJob(count: count, chunks: threads, body: escaping)
            let ctx = Unmanaged.passUnretained(job).toOpaque()
            GOMP_parallel({ raw in
                let job = Unmanaged<ChunkJob>.fromOpaque(raw!).takeUnretainedValue()
                let t = Int(omp_get_thread_num())
                let n = Int(omp_get_num_threads())
                // The team may be smaller than asked; each member takes chunks t, t+n, ...
                var c = t
                while c < job.chunks {
                    job.body(c, chunkRange(c, of: job.chunks, count: job.count))
                    c += n
                }
            }, ctx, UInt32(threads), 0)
        }
    }

    /// The number of chunks ``forEachChunk(_:grain:_:)`` will use for `count` elements.
    public static func chunkCount(_ count: Int, grain: Int = 4096) -> Int {
        min(threadCount, max(1, count / max(grain, 1)))
    }

    /// Runs `body` for each index in `0..<count`, spread over the threads.
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Int) -> Void) {
        forEachChunk(count, grain: grain) { _, r in for i in r { body(i) } }
    }
}

@inline(__always)
func chunkRange(_ c: Int, of chunks: Int, count: Int) -> Range<Int> {
    let base = count / chunks, extra = count % chunks
    let start = c * base + min(c, extra)
    return start..<(start + base + (c < extra ? 1 : 0))
}

private final class ChunkJob {
    let count: Int
    let chunks: Int
    let body: (Int, Range<Int>) -> Void
    init(count: Int, chunks: Int, body: @escaping (Int, Range<Int>) -> Void) {
        self.count = count; self.chunks = chunks; self.body = body
    }
}
