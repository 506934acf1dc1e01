/// One member of a group: a layer slice and the channel indices to remove from it, with the root
/// channel each index came from.
public struct GroupItem: Sendable {
    public let target: PruningTarget
    public var indices: [Int]
    public var rootIndices: [Int]
}

/// The layer slices that must be pruned together when channels of a root layer are pruned
/// (§5). Item 0 is the root's own item.
public struct Group: Sendable {
    public let root: PruningTarget
    public let items: [GroupItem]

    /// The root's node index.
    public var rootNode: Int { root.node }
}

extension DependencyGraph {
    /// Builds the group of pruning `indices` on `root` (§5.1): the stack algorithm, then items
    /// with the same target merged (index union, first occurrence kept).
    public func group(root: PruningTarget, indices: [Int]) -> Group {
        var items = [GroupItem(target: root, indices: indices, rootIndices: indices)]
        var visited = Set<Int>()
        var stack = [0]
        while let k = stack.popLast() {
            let item = items[k]
            visited.insert(item.target.node)
            for (target, mapped) in edges(from: item.target, Array(zip(item.indices, item.rootIndices))) {
                if mapped.isEmpty { continue }
                let idx = mapped.map(\.0)
                if visited.contains(target.node) && items.contains(where: { $0.target == target && $0.indices == idx }) { continue }
                items.append(GroupItem(target: target, indices: idx, rootIndices: mapped.map(\.1)))
                stack.append(items.count - 1)
            }
        }
        // Merge items with the same target.
        var merged: [GroupItem] = [], position: [PruningTarget: Int] = [:]
        for item in items {
            guard let p = position[item.target] else {
                position[item.target] = merged.count
                var first = GroupItem(target: item.target, indices: [], rootIndices: [])
                var seen = Set<Int>()
                for (i, r) in zip(item.indices, item.rootIndices) where seen.insert(i).inserted {
                    first.indices.append(i); first.rootIndices.append(r)
                }
                merged.append(first)
                continue
            }
            var seen = Set(merged[p].indices)
            for (i, r) in zip(item.indices, item.rootIndices) where seen.insert(i).inserted {
                merged[p].indices.append(i); merged[p].rootIndices.append(r)
            }
        }
        return Group(root: root, items: merged)
    }

    /// The side a group rooted at `node` prunes: out, or the single side of a depthwise conv.
    func rootTarget(_ node: Int) -> PruningTarget { PruningTarget(node: node, side: .out) }

    /// Whether `name` is ignored: equal to an ignored name or inside an ignored container.
    static func isIgnored(_ name: String, _ ignored: Set<String>) -> Bool {
        let module = Model.moduleName(name)
        return ignored.contains { module == $0 || module.hasPrefix($0 + ".") }
    }

    /// Every prunable group, in Torch-Pruning's enumeration order (§5.2): one per root layer
    /// whose out side no earlier group covers; built with all of the root's channels. A group
    /// touching the out side of an ignored layer is not yielded (ignoring protects outputs only).
    public func allGroups(ignoring ignored: Set<String>) -> [Group] {
        var seen = Set<Int>(), groups: [Group] = []
        for node in enumerationOrder where roles[node].isRootType {
            let name = model.nodes[node].name
            if Self.isIgnored(name, ignored) { continue }
            // A kind with an inner side (attention: the head-dim group, Torch-Pruning's qkv-out
            // group re-rooted at proj's in side, §4.8) yields it before its out-side group.
            let inner = PruningTarget(node: node, side: .inner)
            if let c = channels(inner) { groups.append(group(root: inner, indices: Array(0..<c))) }
            if seen.contains(node) { continue }
            let root = rootTarget(node)
            guard let c = channels(root) else { continue }
            let g = group(root: root, indices: Array(0..<c))
            var prunable = true
            for item in g.items where item.target.side == .out && item.target.node >= 0 {
                seen.insert(item.target.node)
                if Self.isIgnored(model.nodes[item.target.node].name, ignored) { prunable = false }
            }
            if prunable { groups.append(g) }
        }
        return groups
    }

    /// A group is valid only if no item removes all channels of its target (§5.1).
    public func isValid(_ g: Group) -> Bool {
        for item in g.items {
            if let c = channels(item.target), item.indices.count >= c { return false }
        }
        return true
    }
}

import NN
