import NN

/// Which side of a layer a pruning operation acts on.
///
/// Conv and Linear layers have two separate sides. Pass-through kinds (batch norm, activations,
/// pooling, add, dropout, flatten, depthwise conv) have one channel axis: their in-function *is*
/// their out-function, and the graph always records them with ``out``.
///
/// ``inner`` is the attention dimension of an ``AttentionLayer`` (qkv rows in each of the q, k and
/// v blocks, proj columns): Torch-Pruning's qkv-out group re-rooted at proj's in side (§4.8).
public enum ChannelSide: String, Sendable, Hashable {
    case out, `in`, inner
}

/// A layer slice a pruning operation targets: a model node and a side. Node `-1` stands for the
/// model's output (Torch-Pruning's output node): it is never pruned, but a group that would remove
/// every output channel is invalid.
public struct PruningTarget: Hashable, Sendable {
    public let node: Int
    public let side: ChannelSide
    public init(node: Int, side: ChannelSide) { self.node = node; self.side = side }
    /// The pseudo target standing for the model output.
    public static let output = PruningTarget(node: -1, side: .out)
}

/// How channel indices pass through one node kind (Torch-Pruning's per-kind layer pruners, §3).
public enum ChannelRole: Sendable, Equatable {
    /// The model input (never pruned).
    case input
    /// Conv or Linear: separate in and out sides; propagation stops at the other side. A grouped
    /// conv (1 < groups < in) is a ``conv`` too (§4.7): its groups become the channel grouping of
    /// both its groups (``DependencyGraph/channelGroups(_:)``) and never change.
    case conv, linear
    /// A depthwise conv (groups = out = in > 1): pass-through, shrinks in, out and groups together.
    case depthwiseConv
    /// Batch norm: pass-through with per-channel state.
    case batchNorm
    /// Activations, pooling, residual add, dropout, adaptive pooling: identity on channels.
    case elementwise
    /// Layer norm over the last axis: pass-through with per-feature weight and bias.
    case layerNorm
    /// A parameter source node (ViT `cls_token`, `pos_embed`) pruned on its last axis.
    case parameter
    /// timm attention (one node): in side = qkv columns, out side = proj rows, and the inner
    /// attention dimension (``ChannelSide/inner``) grouped by heads.
    case attention
    /// Flatten of an `[N, H, W, C]` map into `[N, C*H*W]` in (C, H, W) order: channel c becomes
    /// the block of features `c*stride ..< (c+1)*stride`, stride = H*W (1: identity).
    case flatten(stride: Int)
    /// Channel concat (``ConcatLayer``): input i's indices are offset by o_i = c_0 + … + c_{i−1},
    /// from the inputs' current channel counts (§4.2).
    case concat
    /// One piece of a channel split (``SliceChannelsLayer``): producer index i maps to i − start
    /// when start ≤ i < start + size (§4.3, §4.5).
    case sliceChannels

    /// Pass-through kinds have in ≡ out.
    public var isPassThrough: Bool {
        switch self {
        case .conv, .linear, .input, .attention: return false
        default: return true
        }
    }

    /// Kinds that can root a group (Torch-Pruning's root types: ConvNd, Linear).
    public var isRootType: Bool {
        switch self {
        case .conv, .linear, .depthwiseConv, .attention: return true
        default: return false
        }
    }
}

/// A model the dependency graph cannot represent faithfully.
public struct PruningGraphError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The dependency graph of a model, built from its graph definition (no tracing).
///
/// Every node gets a ``ChannelRole`` from its layer kind. Edges follow the data flow (§3 of
/// docs/pruning.md): a node reached on its out side (or any pass-through node) reaches each
/// consumer's in side; a node reached on its in side (or any pass-through node) reaches each
/// producer's out side. Flatten nodes map indices between channel and feature coordinates.
public final class DependencyGraph {
    public let model: Model
    public let roles: [ChannelRole]
    public let consumers: [[Int]]
    /// Node indices in Torch-Pruning's module enumeration order (§2.3): the order in which a
    /// depth-first walk from the output, popping the last-pushed input first, first meets them.
    public let enumerationOrder: [Int]

    public init(model: Model) throws {
        self.model = model
        let shapes = try model.shapes(batch: 1)
        var roles: [ChannelRole] = []
        for (i, node) in model.nodes.enumerated() {
            if i == 0 { roles.append(.input); continue }
            switch node.layer {
            case let conv as Conv2d:
                let g = conv.geometry
                if g.groups == 1 { roles.append(.conv) }
                else if g.groups == g.outChannels && g.groups == g.inChannels && g.outChannels > 1 { roles.append(.depthwiseConv) }
                else if g.groups < g.inChannels && g.inChannels % g.groups == 0 && g.outChannels % g.groups == 0 { roles.append(.conv) }
                else { throw PruningGraphError("node '\(node.name)': convolution with groups \(g.groups), \(g.inChannels) in and \(g.outChannels) out channels is not supported by the pruning engine") }
            case is LinearLayer:
                // Features are the last axis: [N, D] or tokens [N, L, D].
                guard [2, 3].contains(shapes[node.inputs[0]].count) else {
                    throw PruningGraphError("node '\(node.name)': Linear on input rank \(shapes[node.inputs[0]].count) is not supported by the pruning engine")
                }
                roles.append(.linear)
            case is BatchNorm2d: roles.append(.batchNorm)
            case is ReLULayer, is AddLayer, is Pool2d, is AdaptiveAvgPool2d, is DropoutLayer: roles.append(.elementwise)
            // ViT: channels are the last axis throughout, so these keep channel indices.
            case is GELULayer, is PatchTokensLayer, is PrependTokenLayer, is BroadcastAddLayer, is SelectTokenLayer:
                roles.append(.elementwise)
            case is LayerNormLayer: roles.append(.layerNorm)
            case is ConcatLayer: roles.append(.concat)
            case is SliceChannelsLayer: roles.append(.sliceChannels)
            case is ClassTokenLayer, is PositionEmbeddingLayer: roles.append(.parameter)
            case is AttentionLayer: roles.append(.attention)
            case is FlattenLayer:
                let s = shapes[node.inputs[0]]
                roles.append(.flatten(stride: s.count == 4 ? s[1] * s[2] : 1))
            default:
                throw PruningGraphError("node '\(node.name)': layer kind '\(node.layer.kind)' has no channel rule; the pruning engine rejects the model rather than mis-group it")
            }
        }
        self.roles = roles
        var consumers = Array(repeating: [Int](), count: model.nodes.count)
        for (i, n) in model.nodes.enumerated() { for j in n.inputs { consumers[j].append(i) } }
        self.consumers = consumers

        // Torch-Pruning creates module nodes while walking the autograd graph from the output
        // with a stack; a node is created when first met as an input. Inputs are met in argument
        // order (conv: input; add: left, right).
        var created = Set<Int>(), order: [Int] = [], visited = Set<Int>()
        func create(_ i: Int) { if created.insert(i).inserted { order.append(i) } }
        var stack = [model.outputNode]
        while let v = stack.popLast() {
            if visited.contains(v) { continue }
            create(v)
            for u in model.nodes[v].inputs where u != 0 {
                create(u)
                stack.append(u)
            }
            visited.insert(v)
        }
        self.enumerationOrder = order
    }

    public func name(_ node: Int) -> String { node < 0 ? "<output>" : model.nodes[node].name }

    /// The side a pruning operation arriving from a producer uses on node `w`.
    func inSide(_ w: Int) -> ChannelSide { roles[w].isPassThrough ? .out : .in }

    /// Current channel count of a target on its side, or nil for kinds without one
    /// (element-wise ops, flatten).
    public func channels(_ t: PruningTarget) -> Int? {
        if t.node < 0 {
            return (try? model.shapes(batch: 1))?[model.outputNode].last
        }
        let layer = model.nodes[t.node].layer
        // Only attention nodes have an inner side.
        if t.side == .inner && roles[t.node] != .attention { return nil }
        switch roles[t.node] {
        case .conv, .depthwiseConv:
            let g = (layer as! Conv2d).geometry
            return t.side == .out ? g.outChannels : g.inChannels
        case .linear:
            let l = layer as! LinearLayer
            return t.side == .out ? l.outFeatures : l.inFeatures
        case .batchNorm: return (layer as! BatchNorm2d).channels
        case .layerNorm: return (layer as! LayerNormLayer).features
        case .parameter: return layer.state.first?.parameter.value.shape.last
        case .sliceChannels: return (layer as! SliceChannelsLayer).size
        case .attention:
            let a = layer as! AttentionLayer
            switch t.side {
            case .in: return a.inFeatures
            case .out: return a.outFeatures
            case .inner: return a.attentionDim
            }
        default: return nil
        }
    }

    /// The targets reached from `target` by one dependency edge, with the index mapping applied
    /// (indices paired with root indices). Producers come before consumers, as in Torch-Pruning.
    func edges(from target: PruningTarget, _ idx: [(Int, Int)]) -> [(PruningTarget, [(Int, Int)])] {
        let v = target.node
        guard v >= 0 else { return [] }
        let role = roles[v]
        var result: [(PruningTarget, [(Int, Int)])] = []
        // The attention inner dimension lives inside one node: no edges.
        if target.side == .inner { return [] }
        let backward = role.isPassThrough || target.side == .in
        let forward = role.isPassThrough || target.side == .out
        // Concat offsets from the inputs' current channel counts, recomputed at every call (§4.2).
        var offsets: [Int] = []
        if role == .concat, let shapes = try? model.shapes(batch: 1) {
            offsets = [0]
            for u in model.nodes[v].inputs { offsets.append(offsets.last! + (shapes[u].last ?? 0)) }
        }
        if backward {
            for (position, u) in model.nodes[v].inputs.enumerated() where u != 0 {
                var mapped = idx
                // Concat → input: keep [o_p, o_{p+1}) and subtract o_p.
                if role == .concat, offsets.count > position + 1 {
                    let (lo, hi) = (offsets[position], offsets[position + 1])
                    mapped = mapped.filter { $0.0 >= lo && $0.0 < hi }.map { ($0.0 - lo, $0.1) }
                }
                // Slice → producer: add start.
                if role == .sliceChannels {
                    let start = (model.nodes[v].layer as! SliceChannelsLayer).start
                    mapped = mapped.map { ($0.0 + start, $0.1) }
                }
                // A flatten producer: features back to channels, j -> j / s, deduplicated.
                if case .flatten(let s) = roles[u], s > 1 { mapped = Self.shrink(idx, s) }
                result.append((PruningTarget(node: u, side: .out), mapped))
            }
        }
        if forward {
            for w in consumers[v] {
                var mapped = idx
                if case .flatten(let s) = role, s > 1 { mapped = Self.expand(idx, s) }
                switch roles[w] {
                case .concat:
                    // Input → concat: add o_p for every position p at which v feeds w.
                    guard let shapes = try? model.shapes(batch: 1) else { break }
                    var o = 0
                    for u in model.nodes[w].inputs {
                        if u == v { result.append((PruningTarget(node: w, side: .out), mapped.map { ($0.0 + o, $0.1) })) }
                        o += shapes[u].last ?? 0
                    }
                    continue
                case .sliceChannels:
                    // Producer → slice: keep [start, start + size) and subtract start.
                    let slice = model.nodes[w].layer as! SliceChannelsLayer
                    mapped = mapped.filter { $0.0 >= slice.start && $0.0 < slice.start + slice.size }.map { ($0.0 - slice.start, $0.1) }
                default: break
                }
                result.append((PruningTarget(node: w, side: inSide(w)), mapped))
            }
            if v == model.outputNode {
                result.append((.output, idx))
            }
        }
        return result
    }

    /// The channel grouping G of a group (§7.1, §7.2 step 3): the head count for an attention
    /// inner group (head-dim pruning: scores folded to (G, C/G), positions repeated in every
    /// head); otherwise the largest `groups` of a grouped (not depthwise) conv among the items, on
    /// either side, so the same relative channels go from every conv group (§4.7); else 1.
    public func channelGroups(_ g: Group) -> Int {
        if g.root.side == .inner, g.root.node >= 0, let a = model.nodes[g.root.node].layer as? AttentionLayer { return a.numHeads }
        var groups = 1
        for item in g.items where item.target.node >= 0 && roles[item.target.node] == .conv {
            groups = max(groups, (model.nodes[item.target.node].layer as! Conv2d).geometry.groups)
        }
        return groups
    }

    static func expand(_ idx: [(Int, Int)], _ s: Int) -> [(Int, Int)] {
        idx.flatMap { (i, r) in (0..<s).map { (i * s + $0, r) } }
    }

    static func shrink(_ idx: [(Int, Int)], _ s: Int) -> [(Int, Int)] {
        var seen = Set<Int>(), out: [(Int, Int)] = []
        for (j, r) in idx where seen.insert(j / s).inserted { out.append((j / s, r)) }
        return out
    }
}
