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

/// How channel indices pass through one node kind (Torch-Pruning's per-kind layer pruners, §3),
/// as the kind's adapter declares it (``PrunableLayer/channelRole(inputShapes:)``). The graph
/// reads only whether a role is pass-through and whether it can root a group; index mappings and
/// parameter slices are the adapter's.
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
/// Every node's layer is a ``PrunableLayer``, which declares its ``ChannelRole`` and how indices
/// map through it. Edges follow the data flow (§3 of docs/pruning.md): a node reached on its out
/// side (or any pass-through node) reaches each consumer's in side; a node reached on its in side
/// (or any pass-through node) reaches each producer's out side. A model with a layer kind that
/// has no adapter is refused with one error naming the node and its kind.
public final class DependencyGraph {
    public let model: Model
    public let roles: [ChannelRole]
    /// Each node's pruning adapter (its layer), index 0 the model input.
    public let adapters: [any PrunableLayer]
    public let consumers: [[Int]]
    /// For each node, its consumers with the input position at which it feeds each of them,
    /// in node order (one entry per input occurrence).
    let consumerInputs: [[(node: Int, position: Int)]]
    /// Node indices in Torch-Pruning's module enumeration order (§2.3): the order in which a
    /// depth-first walk from the output, popping the last-pushed input first, first meets them.
    public let enumerationOrder: [Int]

    public init(model: Model) throws {
        self.model = model
        var adapters: [any PrunableLayer] = []
        for node in model.nodes { adapters.append(try PrunableLayers.adapter(of: node)) }
        let shapes = try model.shapes(batch: 1)
        var roles: [ChannelRole] = []
        for (node, adapter) in zip(model.nodes, adapters) {
            do {
                roles.append(try adapter.channelRole(inputShapes: node.inputs.map { shapes[$0] }))
            } catch let e as PruningGraphError {
                throw PruningGraphError("node '\(node.name)': \(e.description)")
            }
        }
        self.roles = roles
        self.adapters = adapters
        var consumers = Array(repeating: [Int](), count: model.nodes.count)
        var consumerInputs = Array(repeating: [(node: Int, position: Int)](), count: model.nodes.count)
        for (i, n) in model.nodes.enumerated() {
            for (p, j) in n.inputs.enumerated() { consumers[j].append(i); consumerInputs[j].append((i, p)) }
        }
        self.consumers = consumers
        self.consumerInputs = consumerInputs

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
    /// (element-wise ops, flatten) and sides a kind does not have.
    public func channels(_ t: PruningTarget) -> Int? {
        if t.node < 0 {
            return (try? model.shapes(batch: 1))?[model.outputNode].last
        }
        return adapters[t.node].channelCount(t.side)
    }

    /// The parameter slices a group item owns (its adapter's declaration).
    func slices(of item: GroupItem) -> [ParameterSlice] {
        adapters[item.target.node].parameterSlices(item.target.side, indices: item.indices, roots: item.rootIndices)
    }

    /// The targets reached from `target` by one dependency edge, with the index mapping applied
    /// (indices paired with root indices). Producers come before consumers, as in Torch-Pruning.
    func edges(from target: PruningTarget, _ idx: [(Int, Int)]) -> [(PruningTarget, [(Int, Int)])] {
        let v = target.node
        guard v >= 0 else { return [] }
        // An inner dimension lives inside one node: no edges.
        if target.side == .inner { return [] }
        let role = roles[v], adapter = adapters[v], context = ChannelContext(graph: self, node: v)
        var result: [(PruningTarget, [(Int, Int)])] = []
        if role.isPassThrough || target.side == .in {
            for (position, u) in model.nodes[v].inputs.enumerated() where u != 0 {
                let mapped = adapter.indicesToInput(idx, position: position, context)
                result.append((PruningTarget(node: u, side: .out),
                               adapters[u].indicesFromOutput(mapped, ChannelContext(graph: self, node: u))))
            }
        }
        if role.isPassThrough || target.side == .out {
            let out = adapter.indicesToOutput(idx, context)
            for (w, position) in consumerInputs[v] {
                let mapped = adapters[w].indicesFromInput(out, position: position, ChannelContext(graph: self, node: w))
                result.append((PruningTarget(node: w, side: inSide(w)), mapped))
            }
            if v == model.outputNode {
                result.append((.output, idx))
            }
        }
        return result
    }

    /// The channel grouping G of a group (§7.1, §7.2 step 3): the largest grouping any item's
    /// side declares (``PrunableLayer/channelGroups(_:)``): a grouped (not depthwise) conv's
    /// groups, on either side, so the same relative channels go from every conv group (§4.7); the
    /// head count of an attention inner group (head-dim pruning: scores folded to (G, C/G),
    /// positions repeated in every head); else 1.
    public func channelGroups(_ g: Group) -> Int {
        var groups = 1
        for item in g.items where item.target.node >= 0 {
            groups = max(groups, adapters[item.target.node].channelGroups(item.target.side))
        }
        return groups
    }
}
