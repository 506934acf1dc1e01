import Tensor

/// An ONNX graph being assembled from a model's nodes: operators, initializers and the names that
/// join them. Each layer kind appends its own operators (``Layer/exportONNX(_:node:into:)``); this
/// type only keeps names unique and serialises the result as an ONNX `ModelProto`.
///
/// The graph is in PyTorch's layout (NCHW feature maps, `[N, L, D]` tokens, weights as in the
/// state dict), so it is the model a PyTorch user would export from the reference definition.
public struct ONNXGraph {
    /// The ONNX operator set the graph uses (LayerNormalization needs 17).
    public static let opset = 17
    /// The IR version that goes with ``opset``.
    public static let irVersion = 8

    /// An operator attribute.
    public enum Attribute {
        case int(String, Int)
        case ints(String, [Int])
        case float(String, Float)
        case string(String, String)
    }

    /// One value the layer reads: its name in the graph and its shape in the engine's layout
    /// (feature maps `[N, H, W, C]`, tokens `[N, L, D]`), batch 1.
    public struct Value {
        public let name: String
        public let shape: [Int]
    }

    private struct Operator {
        var type: String, inputs: [String], output: String, name: String, attributes: [Attribute]
    }

    private struct Initializer {
        var name: String, dims: [Int], dataType: Int64, raw: [UInt8]
    }

    private var operators: [Operator] = []
    private var initializers: [Initializer] = []
    private var used: Set<String> = []

    /// An empty graph.
    public init() {}

    /// `base`, or `base_2`, `base_3`, ... if taken.
    private mutating func unique(_ base: String) -> String {
        var name = base, k = 2
        while used.contains(name) { name = "\(base)_\(k)"; k += 1 }
        used.insert(name)
        return name
    }

    /// Appends an operator reading `inputs`; returns the name of its output, `name` if free.
    @discardableResult
    public mutating func add(_ type: String, _ inputs: [String], _ attributes: [Attribute] = [], name: String) -> String {
        let output = unique(name)
        operators.append(Operator(type: type, inputs: inputs, output: output, name: output, attributes: attributes))
        return output
    }

    /// A float32 initializer holding `tensor` with its shape; returns its name.
    public mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
        initializer(name, values: tensor.scalars, shape: tensor.shape)
    }

    /// A float32 initializer of `values` with `shape`; returns its name.
    public mutating func initializer(_ name: String, values: [Float], shape: [Int]) -> String {
        var raw: [UInt8] = []
        raw.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 } }
        let unique = unique(name)
        initializers.append(Initializer(name: unique, dims: shape, dataType: 1, raw: raw))
        return unique
    }

    /// An int64 initializer (shapes, indices, slice bounds); a nil shape makes a scalar.
    public mutating func int64s(_ name: String, _ values: [Int], shape: [Int]? = nil) -> String {
        var raw: [UInt8] = []
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { raw += $0 } }
        let unique = unique(name)
        initializers.append(Initializer(name: unique, dims: shape ?? [values.count], dataType: 7, raw: raw))
        return unique
    }

    /// A node's state tensor as an initializer under its state-dict name (`layer1.0.conv1.weight`).
    public mutating func state(_ node: String, _ name: String, _ tensor: Tensor) -> String {
        initializer(Model.stateName(node: node, state: name), tensor)
    }

    /// `x W^T + b` for inputs of any rank: `MatMul` by `Transpose(W)` (the weight stays in its
    /// state-dict layout), then `Add` of the bias.
    public mutating func linear(_ x: String, weight: Tensor, bias: Tensor?, node: String) -> String {
        let w = state(node, "weight", weight)
        let transposed = add("Transpose", [w], [.ints("perm", [1, 0])], name: node + ".weight_t")
        let product = add("MatMul", [x, transposed], name: bias == nil ? node : node + ".matmul")
        guard let bias else { return product }
        return add("Add", [product, state(node, "bias", bias)], name: node)
    }

    /// The channel axis in PyTorch's layout of a value whose engine shape has `rank` axes: 1 for
    /// feature maps and `[N, C]`, the last for tokens `[N, L, D]`.
    public static func channelAxis(rank: Int) -> Int { rank == 3 ? 2 : 1 }

    /// A float32 scalar initializer.
    public mutating func scalar(_ name: String, _ value: Float) -> String { initializer(name, values: [value], shape: []) }

    /// Reserves a graph input name.
    mutating func reserve(_ name: String) { used.insert(name) }

    /// The serialised `ModelProto`: `input` `[batch, dims...]` float32 to `output` `[batch, outputDims...]`,
    /// the batch a symbolic dimension.
    func modelProto(input: String, inputDims: [Int], output: String, outputDims: [Int], graphName: String,
                    producerVersion: String) -> [UInt8] {
        var model = ProtobufWriter()
        model.int(1, Int64(Self.irVersion))                       // ir_version
        model.string(2, "prunebench")                             // producer_name
        model.string(3, producerVersion)                          // producer_version
        model.message(7) { graph in                               // graph
            for op in operators {
                graph.message(1) { node in                        // node
                    for i in op.inputs { node.string(1, i) }
                    node.string(2, op.output)
                    node.string(3, op.name)
                    node.string(4, op.type)
                    for a in op.attributes { node.message(5) { Self.write(a, &$0) } }
                }
            }
            graph.string(2, graphName)
            for t in initializers {
                graph.message(5) { tensor in                      // initializer
                    tensor.packedInts(1, t.dims.map(Int64.init))
                    tensor.int(2, t.dataType)
                    tensor.string(8, t.name)
                    tensor.bytes(9, t.raw)
                }
            }
            graph.message(11) { Self.valueInfo(input, dims: inputDims, &$0) }
            graph.message(12) { Self.valueInfo(output, dims: outputDims, &$0) }
        }
        model.message(8) { opset in opset.string(1, ""); opset.int(2, Int64(Self.opset)) }
        return model.bytes
    }

    private static func write(_ attribute: Attribute, _ w: inout ProtobufWriter) {
        switch attribute {
        case .int(let name, let v): w.string(1, name); w.int(3, Int64(v)); w.int(20, 2)
        case .ints(let name, let v): w.string(1, name); w.packedInts(8, v.map(Int64.init)); w.int(20, 7)
        case .float(let name, let v): w.string(1, name); w.float(2, v); w.int(20, 1)
        case .string(let name, let v): w.string(1, name); w.string(4, v); w.int(20, 3)
        }
    }

    /// A float32 `ValueInfoProto` with a symbolic batch dimension.
    private static func valueInfo(_ name: String, dims: [Int], _ w: inout ProtobufWriter) {
        w.string(1, name)
        w.message(2) { type in
            type.message(1) { tensor in
                tensor.int(1, 1)
                tensor.message(2) { shape in
                    shape.message(1) { $0.string(2, "batch") }
                    for d in dims { shape.message(1) { $0.int(1, Int64(d)) } }
                }
            }
        }
    }
}

/// Why a model cannot be written as ONNX: the node and what it lacks.
public struct ONNXExportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
