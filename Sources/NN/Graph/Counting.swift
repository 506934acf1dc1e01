/// MAC and parameter counts of a model, by Torch-Pruning 1.6.1's rules.
public struct ModelCounts: Sendable, Equatable {
    /// Total MACs for one image.
    public var macs: Int
    /// Learnable scalars (buffers excluded).
    public var parameters: Int
    /// MACs per counted module, in first-call order. A module called k times (torchvision's
    /// ResNet block ReLU) is one entry with the sum; a module that never runs is listed with 0.
    public var layerMACs: [(name: String, macs: Int)]

    public static func == (a: ModelCounts, b: ModelCounts) -> Bool {
        a.macs == b.macs && a.parameters == b.parameters && a.layerMACs.elementsEqual(b.layerMACs) { $0 == $1 }
    }
}

extension Model {
    /// The reference module a node stands for: its name without an `@k` suffix (the k-th call of
    /// a module the reference calls more than once).
    public static func moduleName(_ nodeName: String) -> String {
        guard let at = nodeName.firstIndex(of: "@") else { return nodeName }
        return String(nodeName[..<at])
    }

    /// The state-dict name of a piece of a node's state. Nodes named `_...` hold top-level
    /// state (ViT's `cls_token`, `pos_embed`), whose names have no prefix.
    public static func stateName(node: String, state: String) -> String {
        node.hasPrefix("_") || node.isEmpty ? state : moduleName(node) + "." + state
    }

    /// Every node's output shape for a batch of `batch` (node 0 is the input, channels-last).
    public func shapes(batch: Int = 1) throws -> [[Int]] {
        var shapes = [[Int]](repeating: [], count: nodes.count)
        shapes[0] = [batch, inputShape[1], inputShape[2], inputShape[0]]
        for i in 1..<nodes.count {
            do {
                shapes[i] = try nodes[i].layer.outputShape(nodes[i].inputs.map { shapes[$0] })
            } catch let e as ShapeError {
                throw ShapeError("node '\(nodes[i].name)' (\(nodes[i].layer.kind)): \(e.description)")
            }
        }
        return shapes
    }

    /// MACs (total and per module) and parameters for one image.
    public func counts() throws -> ModelCounts {
        let shapes = try self.shapes(batch: 1)
        var order: [String] = [], perModule: [String: Int] = [:]
        for i in 1..<nodes.count where nodes[i].layer.isModule && !nodes[i].name.hasPrefix("_") {
            let layer = nodes[i].layer
            let m = layer.macs(inputShapes: nodes[i].inputs.map { shapes[$0] }, outputShape: shapes[i])
            let name = Model.moduleName(nodes[i].name)
            if perModule[name] == nil { order.append(name) }
            perModule[name, default: 0] += m
        }
        let layers = order.map { ($0, perModule[$0]!) }
        return ModelCounts(macs: layers.reduce(0) { $0 + $1.1 }, parameters: parameterCount, layerMACs: layers)
    }
}
