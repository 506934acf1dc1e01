extension Model {
    /// The model as the bytes of an ONNX file (opset ``ONNXGraph/opset``): input `input`
    /// `[batch, C, H, W]` float32 (NCHW, as the PyTorch definition takes it), output `output`,
    /// initializers under their state-dict names. Each node adds its own operators.
    ///
    /// - Throws: ``ONNXExportError`` naming the first node whose layer has no ONNX form.
    public func onnx(graphName: String, producerVersion: String = "1") throws -> [UInt8] {
        let shapes = try self.shapes(batch: 1)
        var graph = ONNXGraph()
        graph.reserve("input")
        var names = [String](repeating: "", count: nodes.count)
        names[0] = "input"
        for i in 1..<nodes.count {
            let node = nodes[i]
            let inputs = node.inputs.map { ONNXGraph.Value(name: names[$0], shape: shapes[$0]) }
            do {
                names[i] = try node.layer.exportONNX(inputs, node: node.name, into: &graph)
            } catch {
                throw ONNXExportError("node '\(node.name)' (\(node.layer.kind)): \(error)")
            }
        }
        let output = graph.add("Identity", [names[outputNode]], name: "output")
        let out = shapes[outputNode]
        let outputDims = out.count == 4 ? [out[3], out[1], out[2]] : Array(out.dropFirst())
        return graph.modelProto(input: "input", inputDims: inputShape, output: output, outputDims: outputDims,
                                graphName: graphName, producerVersion: producerVersion)
    }
}
