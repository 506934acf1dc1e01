import NN

/// One applied group, as Torch-Pruning records it: root layer name, whether it pruned the root's
/// out channels, and the root indices removed (positions in the layer as it was at that moment).
public struct PruningRecord: Sendable, Equatable {
    public let root: String
    public let isOut: Bool
    public let indices: [Int]
}

extension DependencyGraph {
    /// Physically removes every item's indices from its layer (§5.1 "Applying a group"): each
    /// item's adapter keeps the other channels of its side (``PrunableLayer/keepChannels(_:_:)``);
    /// then every node whose producer lost output channels hears of it
    /// (``PrunableLayer/inputChannelsRemoved(position:_:)``: a channel slice shifts its start and
    /// shrinks its size, in the producer's coordinates before this group, so the next group's
    /// mapping is current). Element-wise, flatten and output items carry no state.
    public func apply(_ g: Group) -> PruningRecord {
        for item in g.items where item.target.node >= 0 && !item.indices.isEmpty {
            guard let c = channels(item.target) else { continue }
            let removed = Set(item.indices)
            adapters[item.target.node].keepChannels(item.target.side, (0..<c).filter { !removed.contains($0) })
        }
        var producerRemoved: [Int: [Int]] = [:]
        for item in g.items where item.target.node >= 0 && item.target.side == .out && !item.indices.isEmpty {
            producerRemoved[item.target.node] = item.indices
        }
        for (v, node) in model.nodes.enumerated() {
            for (position, u) in node.inputs.enumerated() {
                if let removed = producerRemoved[u] { adapters[v].inputChannelsRemoved(position: position, removed) }
            }
        }
        return PruningRecord(root: recordName(g.root), isOut: g.root.side == .out,
                             indices: g.items[0].rootIndices.sorted())
    }

    /// The history name of a root: the module name plus the adapter's record suffix (timm
    /// attention: Torch-Pruning roots its submodules, `attn.proj` for out and inner, `attn.qkv`
    /// for in, §4.8).
    func recordName(_ t: PruningTarget) -> String {
        Model.moduleName(name(t.node)) + adapters[t.node].recordSuffix(t.side)
    }

    /// The root a history record names: a node and side (see ``recordName(_:)``).
    func resolveRecord(_ r: PruningRecord) -> PruningTarget? {
        if let node = model.nodes.firstIndex(where: { $0.name == r.root }) {
            return PruningTarget(node: node, side: r.isOut || roles[node].isPassThrough ? .out : .in)
        }
        for (node, n) in model.nodes.enumerated() where r.root.hasPrefix(n.name) {
            if let side = adapters[node].recordSide(suffix: String(r.root.dropFirst(n.name.count)), isOut: r.isOut) {
                return PruningTarget(node: node, side: side)
            }
        }
        return nil
    }
}

extension DependencyGraph {
    /// Replays pruning records on this graph's model (a fresh model of the same definition):
    /// each record's group is rebuilt from its root and applied, reproducing the pruned shapes
    /// (and, on the same weights, the pruned model).
    public func replay(_ records: [PruningRecord]) throws {
        for r in records {
            guard let root = resolveRecord(r) else {
                throw PruningGraphError("pruning history names '\(r.root)', which is not a layer of the model")
            }
            guard let c = channels(root), r.indices.allSatisfy({ $0 >= 0 && $0 < c }) else {
                throw PruningGraphError("pruning history: indices of '\(r.root)' out of range")
            }
            let removed = Set(r.indices)
            if let refusal = adapters[root.node].keepRefusal(root.side, (0..<c).filter { !removed.contains($0) }) {
                throw PruningGraphError("pruning history: '\(r.root)' \(refusal)")
            }
            let g = group(root: root, indices: r.indices)
            guard isValid(g) else { throw PruningGraphError("pruning history: record for '\(r.root)' would empty a layer") }
            _ = apply(g)
        }
    }
}
