import NN

/// One applied group, as Torch-Pruning records it: root layer name, whether it pruned the root's
/// out channels, and the root indices removed (positions in the layer as it was at that moment).
public struct PruningRecord: Sendable, Equatable {
    public let root: String
    public let isOut: Bool
    public let indices: [Int]
}

extension DependencyGraph {
    /// Physically removes every item's indices from its layer (§5.1 "Applying a group"):
    /// conv weight rows and bias (out) or columns (in) and geometry (a grouped conv keeps its
    /// groups), depthwise conv in/out/groups together, batch-norm γ/β/running statistics, linear rows and bias (out) or columns (in).
    /// Element-wise, flatten and output items carry no state.
    public func apply(_ g: Group) -> PruningRecord {
        for item in g.items where item.target.node >= 0 && !item.indices.isEmpty {
            guard let c = channels(item.target) else { continue }
            let removed = Set(item.indices)
            let keep = (0..<c).filter { !removed.contains($0) }
            let layer = model.nodes[item.target.node].layer
            switch (roles[item.target.node], item.target.side) {
            case (.conv, .out), (.depthwiseConv, _): (layer as! Conv2d).keep(outputs: keep)
            case (.conv, .in): (layer as! Conv2d).keep(inputs: keep)
            case (.linear, .out): (layer as! LinearLayer).keep(outputs: keep)
            case (.linear, .in): (layer as! LinearLayer).keep(inputs: keep)
            case (.batchNorm, _): (layer as! BatchNorm2d).keep(channels: keep)
            case (.layerNorm, _): (layer as! LayerNormLayer).keep(features: keep)
            case (.parameter, _):
                if let t = layer as? ClassTokenLayer { t.keep(features: keep) }
                else if let e = layer as? PositionEmbeddingLayer { e.keep(features: keep) }
            case (.attention, .in): (layer as! AttentionLayer).keep(inputs: keep)
            case (.attention, .out): (layer as! AttentionLayer).keep(outputs: keep)
            case (.attention, .inner): (layer as! AttentionLayer).keep(attention: keep)
            default: break
            }
        }
        // Channel slices: shift start and shrink size by the producer's removed channels (in the
        // producer's coordinates before this group), so the next group's offsets are current.
        for (v, node) in model.nodes.enumerated() where roles[v] == .sliceChannels {
            let u = node.inputs[0]
            guard let producer = g.items.first(where: { $0.target == PruningTarget(node: u, side: .out) }),
                  !producer.indices.isEmpty else { continue }
            (node.layer as! SliceChannelsLayer).remove(inputChannels: producer.indices)
        }
        return PruningRecord(root: recordName(g.root), isOut: g.root.side == .out,
                             indices: g.items[0].rootIndices.sorted())
    }

    /// The history name of a root: the module name; for an attention node, timm's submodule as
    /// Torch-Pruning roots it: `attn.proj` (out: hidden rows; inner: proj's in side, §4.8) or
    /// `attn.qkv` (in side).
    func recordName(_ t: PruningTarget) -> String {
        let module = Model.moduleName(name(t.node))
        guard roles[t.node] == .attention else { return module }
        return module + (t.side == .in ? ".qkv" : ".proj")
    }

    /// The root a history record names: a node and side (see ``recordName(_:)``).
    func resolveRecord(_ r: PruningRecord) -> PruningTarget? {
        if let node = model.nodes.firstIndex(where: { $0.name == r.root }) {
            return PruningTarget(node: node, side: r.isOut || roles[node].isPassThrough ? .out : .in)
        }
        for (suffix, side) in [(".proj", r.isOut ? ChannelSide.out : .inner), (".qkv", r.isOut ? ChannelSide.inner : .in)]
        where r.root.hasSuffix(suffix) {
            let module = String(r.root.dropLast(suffix.count))
            if let node = model.nodes.firstIndex(where: { $0.name == module }), roles[node] == .attention {
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
            if root.side == .inner, let a = model.nodes[root.node].layer as? AttentionLayer {
                let removed = Set(r.indices), kept = (0..<c).filter { !removed.contains($0) }
                guard AttentionLayer.isHeadSymmetric(kept, heads: a.numHeads, headDim: a.headDim) else {
                    throw PruningGraphError("pruning history: '\(r.root)' removes different dims in different heads")
                }
            }
            let g = group(root: root, indices: r.indices)
            guard isValid(g) else { throw PruningGraphError("pruning history: record for '\(r.root)' would empty a layer") }
            _ = apply(g)
        }
    }
}
