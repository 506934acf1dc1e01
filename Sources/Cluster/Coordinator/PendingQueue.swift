/// The pending experiments in dispatch order (cluster.md §11): longest expected run first, then by
/// ID, so the order is a pure function of the journal.
///
/// Experiments enter when they become pending (declared, lost, retried) at their sorted position.
/// Those that leave the pending state are not searched for: a scan skips them, and they are dropped
/// once they reach the front. Dispatch therefore costs what it looks at, not the sweep's size.
struct PendingQueue {
    private var entries: [(cost: Double, id: String)] = []
    private var members: Set<String> = []

    /// Whether `a` is dispatched before `b`.
    private static func precedes(_ a: (cost: Double, id: String), _ b: (cost: Double, id: String)) -> Bool {
        a.cost != b.cost ? a.cost > b.cost : a.id < b.id
    }

    /// Adds `id` at its place unless it is already queued.
    mutating func insert(id: String, cost: Double) {
        guard members.insert(id).inserted else { return }
        let entry = (cost: cost, id: id)
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(entries[mid], entry) { low = mid + 1 } else { high = mid }
        }
        entries.insert(entry, at: low)
    }

    /// The queued IDs for which `isPending` holds, in order, until `limit` of them satisfied `accept`.
    /// Leading entries that are no longer pending are dropped.
    mutating func scan(limit: Int, isPending: (String) -> Bool, accept: (String) -> Bool) -> [String] {
        var stale = 0
        while stale < entries.count, !isPending(entries[stale].id) { members.remove(entries[stale].id); stale += 1 }
        entries.removeFirst(stale)
        var out = [String]()
        for e in entries where out.count < limit && isPending(e.id) && accept(e.id) { out.append(e.id) }
        return out
    }

    var count: Int { entries.count }
}
