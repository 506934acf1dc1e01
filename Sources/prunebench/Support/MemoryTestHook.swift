import Foundation

/// A test hook for the cluster's out-of-memory handling: with `PRUNEBENCH_TEST_ALLOCATE_BYTES=N`
/// (and, if set, `PRUNEBENCH_TEST_ALLOCATE_MATCH` a substring of the experiment's name),
/// `prunebench run` allocates and touches N bytes before the experiment starts. Unset, it does
/// nothing. Used by the worker's `--job-memory` test; not for anything else.
enum MemoryTestHook {
    static func allocateIfAsked(experimentName: String) {
        let env = ProcessInfo.processInfo.environment
        guard let text = env["PRUNEBENCH_TEST_ALLOCATE_BYTES"], let bytes = Int(text), bytes > 0 else { return }
        if let match = env["PRUNEBENCH_TEST_ALLOCATE_MATCH"], !experimentName.contains(match) { return }
        // Chunks of 64 MiB, each touched, kept alive until the process ends.
        var chunks: [[UInt8]] = []
        var total = 0
        while total < bytes {
            chunks.append([UInt8](repeating: 1, count: 64 << 20))
            total += 64 << 20
        }
        withExtendedLifetime(chunks) {}
    }
}
