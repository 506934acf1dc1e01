import Models
import NN
import Tensor
import XCTest

/// `Model.onnx`: the file read back with an independent protobuf decoder. Numerical agreement
/// with onnxruntime is checked by bench/reference/check_onnx.py (docs/interop.md).
final class ONNXExportTests: XCTestCase {
    /// A decoded protobuf message: each field number's values in order (varints as `.int`,
    /// length-delimited as `.bytes`, fixed32 as `.fixed32`).
    struct Message {
        enum Field { case int(UInt64), bytes([UInt8]), fixed32(UInt32) }
        var fields: [Int: [Field]] = [:]

        init(_ bytes: [UInt8]) throws {
            var i = 0
            func varint() throws -> UInt64 {
                var v: UInt64 = 0, shift: UInt64 = 0
                while true {
                    guard i < bytes.count, shift < 64 else { throw TestError("bad varint") }
                    let b = bytes[i]; i += 1
                    v |= UInt64(b & 0x7F) << shift
                    if b < 0x80 { return v }
                    shift += 7
                }
            }
            while i < bytes.count {
                let key = try varint()
                let field = Int(key >> 3)
                switch key & 7 {
                case 0: fields[field, default: []].append(.int(try varint()))
                case 2:
                    let n = Int(try varint())
                    guard i + n <= bytes.count else { throw TestError("length past the end") }
                    fields[field, default: []].append(.bytes(Array(bytes[i..<(i + n)]))); i += n
                case 5:
                    guard i + 4 <= bytes.count else { throw TestError("fixed32 past the end") }
                    fields[field, default: []].append(.fixed32(bytes[i..<(i + 4)].enumerated().reduce(0) { $0 | UInt32($1.1) << (8 * UInt32($1.0)) })); i += 4
                default: throw TestError("unexpected wire type \(key & 7)")
                }
            }
        }

        func ints(_ f: Int) -> [Int64] { (fields[f] ?? []).compactMap { if case .int(let v) = $0 { Int64(bitPattern: v) } else { nil } } }
        func int(_ f: Int) -> Int64? { ints(f).first }
        func raw(_ f: Int) -> [[UInt8]] { (fields[f] ?? []).compactMap { if case .bytes(let b) = $0 { b } else { nil } } }
        func strings(_ f: Int) -> [String] { raw(f).map { String(decoding: $0, as: UTF8.self) } }
        func string(_ f: Int) -> String? { strings(f).first }
        func messages(_ f: Int) throws -> [Message] { try raw(f).map(Message.init) }
        /// The values of a packed repeated int64.
        static func varints(_ bytes: [UInt8]) throws -> [Int64] {
            var out: [Int64] = [], v: UInt64 = 0, shift: UInt64 = 0
            for b in bytes {
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { out.append(Int64(bitPattern: v)); v = 0; shift = 0 } else { shift += 7 }
            }
            guard shift == 0 else { throw TestError("truncated packed varint") }
            return out
        }
    }

    private func checkExport(_ model: Model, file: StaticString = #filePath, line: UInt = #line) throws -> (ops: [String], model: Message) {
        ModelInit.initialize(model, seed: 3)
        let bytes = try model.onnx(graphName: "test")
        let proto = try Message(bytes)
        XCTAssertEqual(proto.int(1), Int64(ONNXGraph.irVersion), file: file, line: line)
        let opset = try proto.messages(8)
        XCTAssertEqual(opset.first?.int(2), Int64(ONNXGraph.opset), file: file, line: line)
        let graph = try XCTUnwrap(try proto.messages(7).first, file: file, line: line)

        // Every state tensor is an initializer with the state-dict name, shape and bytes.
        var initializers: [String: (dims: [Int64], type: Int64?, raw: [UInt8])] = [:]
        for t in try graph.messages(5) {
            let name = try XCTUnwrap(t.string(8))
            XCTAssertNil(initializers[name], "duplicate initializer \(name)", file: file, line: line)
            initializers[name] = (try Message.varints(t.raw(1).first ?? []), t.int(2), t.raw(9).first ?? [])
        }
        for (name, parameter) in model.namedState {
            let t = try XCTUnwrap(initializers[name], "no initializer \(name)", file: file, line: line)
            XCTAssertEqual(t.dims, parameter.value.shape.map(Int64.init), name, file: file, line: line)
            XCTAssertEqual(t.type, 1, name, file: file, line: line)
            let expected = parameter.value.scalars.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
            XCTAssertEqual(t.raw, expected, name, file: file, line: line)
        }

        // The input is [batch, C, H, W]; every operator reads only values defined before it.
        let input = try XCTUnwrap(try graph.messages(11).first)
        XCTAssertEqual(input.string(1), "input", file: file, line: line)
        let shape = try XCTUnwrap(try input.messages(2).first?.messages(1).first?.messages(2).first)
        let dims = try shape.messages(1)
        XCTAssertEqual(dims.first?.string(2), "batch", file: file, line: line)
        XCTAssertEqual(dims.dropFirst().map { $0.int(1) }, model.inputShape.map { Int64($0) }, file: file, line: line)
        var defined = Set(initializers.keys).union(["input"])
        var ops: [String] = []
        for node in try graph.messages(1) {
            // An empty name is an omitted optional input (Resize's roi).
            for i in node.strings(1) where !i.isEmpty { XCTAssertTrue(defined.contains(i), "\(node.string(3) ?? "?") reads undefined \(i)", file: file, line: line) }
            let out = try XCTUnwrap(node.strings(2).first)
            XCTAssertFalse(defined.contains(out), "\(out) defined twice", file: file, line: line)
            defined.insert(out)
            ops.append(try XCTUnwrap(node.string(4)))
        }
        let output = try XCTUnwrap(try graph.messages(12).first)
        XCTAssertTrue(defined.contains(try XCTUnwrap(output.string(1))), file: file, line: line)
        return (ops, proto)
    }

    func testResNetExportsEveryWeightAndAValidGraph() throws {
        let model = ResNetBuilder(depth: .resnet18, variant: .cifar, width: 0.25, classes: 10).build()
        let (ops, _) = try checkExport(model)
        XCTAssertEqual(ops.filter { $0 == "Conv" }.count, 20)
        XCTAssertEqual(ops.filter { $0 == "BatchNormalization" }.count, 20)
        XCTAssertEqual(ops.filter { $0 == "Add" }.count, 8)
        XCTAssertEqual(ops.filter { $0 == "Gemm" }.count, 1)
        XCTAssertEqual(ops.last, "Identity")
    }

    func testVGGAndViTExport() throws {
        let vgg = try checkExport(VGGBuilder(variant: .cifar, width: 0.25, classes: 10).build())
        XCTAssertTrue(vgg.ops.contains("MaxPool"))
        let vit = try checkExport(ViTBuilder.vitTinyC32.build())
        for op in ["LayerNormalization", "Softmax", "Erf", "Expand", "Gather", "MatMul"] {
            XCTAssertTrue(vit.ops.contains(op), op)
        }
    }

    func testYOLOv8Exports() throws {
        let (ops, _) = try checkExport(YOLOv8Builder(depth: 0.33, width: 0.125, maxChannels: 512, classes: 10, resolution: 128).build())
        for op in ["Resize", "MaxPool", "Sigmoid", "Slice", "Softmax", "ReduceSum", "Transpose"] { XCTAssertTrue(ops.contains(op), op) }
    }

    func testAnUnexportableNodeIsNamed() throws {
        var b = GraphBuilder(inputShape: [3, 7, 7])
        let x = b.add("stem", Conv2d(Conv2DGeometry(inChannels: 3, outChannels: 4, kernel: 1)), b.input)
        let pooled = b.add("pool", AdaptiveAvgPool2d(outputH: 3, outputW: 3), x)
        let model = b.build(output: pooled)
        XCTAssertThrowsError(try model.onnx(graphName: "x")) { error in
            XCTAssertTrue("\(error)".contains("node 'pool' (adaptive_avg_pool2d)"), "\(error)")
            XCTAssertTrue("\(error)".contains("7x7 to 3x3"), "\(error)")
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
