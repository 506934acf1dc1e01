import Tensor

extension Model {
    /// The full state dict: every parameter and buffer by name, and every layer's counters
    /// (``Layer/counters``: batch norm's `num_batches_tracked`) as int64 scalars, as PyTorch's
    /// `state_dict()` has them.
    public func stateDict() -> SafeTensors {
        var st = SafeTensors()
        for node in nodes.dropFirst() {
            for (name, p) in node.layer.state { st.set(Model.stateName(node: node.name, state: name), p.value) }
            for (name, value) in node.layer.counters {
                st.set(Model.stateName(node: node.name, state: name), integers: [Int64(value)], shape: [])
            }
        }
        return st
    }

    /// Loads parameters and buffers by name. Every missing, unexpected or mis-shaped tensor is
    /// collected and reported in one ``StateLoadError``; nothing is changed unless all fit.
    /// `num_batches_tracked` entries are optional.
    public func load(_ st: SafeTensors, source: String = "state dict") throws {
        let named = namedState
        var missing: [String] = [], misshaped: [String] = []
        let expected = Set(named.map(\.name))
        for (name, p) in named {
            guard let t = st.floats[name] else { missing.append(name); continue }
            if t.shape != p.value.shape { misshaped.append("\(name): \(t.shape), expected \(p.value.shape)") }
        }
        let unexpected = st.order.filter { !expected.contains($0) && !$0.hasSuffix(".num_batches_tracked") }
        guard missing.isEmpty && misshaped.isEmpty && unexpected.isEmpty else {
            throw StateLoadError(source: source, missing: missing, unexpected: unexpected, misshaped: misshaped)
        }
        for (name, p) in named { p.value = st.floats[name]! }
        for node in nodes.dropFirst() {
            for (name, _) in node.layer.counters {
                if let n = st.integers[Model.stateName(node: node.name, state: name)]?.values.first {
                    node.layer.setCounter(name, to: Int(n))
                }
            }
        }
    }
}

/// A state dict that does not fit a model.
public struct StateLoadError: Error, CustomStringConvertible {
    public let source: String
    public let missing: [String], unexpected: [String], misshaped: [String]
    public var description: String {
        var parts = ["\(source) does not fit the model:"]
        if !missing.isEmpty { parts.append("missing \(missing.count): \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { parts.append("unexpected \(unexpected.count): \(unexpected.joined(separator: ", "))") }
        if !misshaped.isEmpty { parts.append("wrong shape \(misshaped.count): \(misshaped.joined(separator: "; "))") }
        return parts.joined(separator: "\n  ")
    }
}
