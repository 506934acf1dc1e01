import Foundation
import Tensor

/// The end of Ultralytics' YOLOv8 `Detect` head in evaluation mode: DFL and box decoding.
///
/// Inputs, per level (strides 8, 16, 32, ...): the box branch's logits `[N, H, W, 4 * regMax]`
/// (side-major: channel `regMax * s + b` is bin b of side s, sides left, top, right, bottom) and the
/// class branch's logits `[N, H, W, classes]`, in the order box0, cls0, box1, cls1, ... Output
/// `[N, A, 4 + classes]`, A = sum of H*W over levels (anchors row-major per level, levels in order):
/// the box `(cx, cy, w, h)` in input pixels, then the class probabilities. This is Ultralytics'
/// decoded `[N, 4 + nc, A]` with the anchor axis first, as the engine keeps channels last.
///
/// Per anchor (x + 0.5, y + 0.5) of a level with stride s, each side's distance is the DFL
/// expectation `sum_b w_b softmax(logits)_b` with the fixed weights `w = 0, 1, ..., regMax - 1`
/// (`dfl.conv.weight`, a parameter that never trains); `x1 = ax - l`, `x2 = ax + r` (likewise y),
/// the box `((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1) * s`; the classes go through a sigmoid.
/// Torch-Pruning counts the DFL convolution: `regMax * 4 * A` MACs.
public final class DetectDecodeLayer: Layer {
    public static let kind = "yolo_detect"
    /// Bins per box side (Ultralytics' `reg_max`).
    public let regMax: Int
    /// Classes.
    public let classes: Int
    /// The stride of each level, in input pixels.
    public let strides: [Int]
    /// `dfl.conv.weight` `[1, regMax, 1, 1]`: `0, 1, ..., regMax - 1`, never trained.
    public let dflWeight: Parameter
    private var saved: [(probabilities: [Float], distances: [Float], scores: [Float], shape: [Int])]?

    /// A head of `strides.count` levels with the fixed DFL weights.
    public init(classes: Int, strides: [Int] = [8, 16, 32], regMax: Int = 16) {
        precondition(classes >= 1 && regMax >= 1 && !strides.isEmpty, "a detect head needs classes, bins and levels")
        self.classes = classes
        self.strides = strides
        self.regMax = regMax
        dflWeight = Parameter(Tensor(shape: [1, regMax, 1, 1], values: (0..<regMax).map(Float.init)))
    }

    public var state: [(name: String, parameter: Parameter)] { [("weight", dflWeight)] }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard inputs.count == 2 * strides.count else {
            throw ShapeError("expects a box and a class input per level (\(2 * strides.count)), got \(inputs.count)")
        }
        var anchors = 0
        for (level, _) in strides.enumerated() {
            let box = inputs[2 * level], cls = inputs[2 * level + 1]
            guard box.count == 4, cls.count == 4, box[3] == 4 * regMax, cls[3] == classes, Array(box[0..<3]) == Array(cls[0..<3]),
                  box[0] == inputs[0][0] else {
                throw ShapeError("level \(level): expects box [N, H, W, \(4 * regMax)] and classes [N, H, W, \(classes)], got \(box) and \(cls)")
            }
            anchors += box[1] * box[2]
        }
        return [inputs[0][0], anchors, 4 + classes]
    }

    public func forward(_ inputs: [Tensor], context: inout ForwardContext) -> Tensor {
        let n = inputs[0].shape[0]
        let anchors = strides.indices.reduce(0) { $0 + inputs[2 * $1].shape[1] * inputs[2 * $1].shape[2] }
        let width = 4 + classes
        var out = Tensor(uninitializedShape: [n, anchors, width])
        let weights = dflWeight.value.scalars
        var record: [(probabilities: [Float], distances: [Float], scores: [Float], shape: [Int])] = []
        let dst = out.mutablePointer()
        var first = 0
        for (level, stride) in strides.enumerated() {
            let box = inputs[2 * level], cls = inputs[2 * level + 1]
            let h = box.shape[1], w = box.shape[2], count = n * h * w
            var probabilities = [Float](repeating: 0, count: count * 4 * regMax)
            var distances = [Float](repeating: 0, count: count * 4)
            var scores = [Float](repeating: 0, count: count * classes)
            let b = box.pointer, c = cls.pointer, s = Float(stride), r = regMax, k = classes
            probabilities.withUnsafeMutableBufferPointer { p in
                distances.withUnsafeMutableBufferPointer { d in
                    scores.withUnsafeMutableBufferPointer { sc in
                        let pp = p.baseAddress!, dp = d.baseAddress!, sp = sc.baseAddress!
                        Parallel.forEach(count, grain: 64) { i in
                            let image = i / (h * w), cell = i % (h * w)
                            let ay = Float(cell / w) + 0.5, ax = Float(cell % w) + 0.5
                            for side in 0..<4 {
                                let logits = b + i * 4 * r + side * r, probs = pp + i * 4 * r + side * r
                                var top = -Float.infinity
                                for j in 0..<r { top = max(top, logits[j]) }
                                var sum: Float = 0
                                for j in 0..<r { probs[j] = expf(logits[j] - top); sum += probs[j] }
                                var expectation: Float = 0
                                for j in 0..<r { probs[j] /= sum; expectation += weights[j] * probs[j] }
                                dp[i * 4 + side] = expectation
                            }
                            let l = dp[i * 4], t = dp[i * 4 + 1], rr = dp[i * 4 + 2], bb = dp[i * 4 + 3]
                            let x1 = ax - l, y1 = ay - t, x2 = ax + rr, y2 = ay + bb
                            let row = dst + (image * anchors + first + cell) * width
                            row[0] = (x1 + x2) / 2 * s
                            row[1] = (y1 + y2) / 2 * s
                            row[2] = (x2 - x1) * s
                            row[3] = (y2 - y1) * s
                            for j in 0..<k {
                                let v = 1 / (1 + expf(-c[i * k + j]))
                                sp[i * k + j] = v
                                row[4 + j] = v
                            }
                        }
                    }
                }
            }
            if context.training { record.append((probabilities, distances, scores, box.shape)) }
            first += h * w
        }
        if context.training { saved = record }
        return out
    }

    /// Gradients of every box and class input; the DFL weights get none (they never train).
    public func backward(_ gradOutput: Tensor, needsInputGradient: [Bool]) -> [Tensor?] {
        guard let saved else { fatalError("detect head backward without a training forward") }
        let n = gradOutput.shape[0], anchors = gradOutput.shape[1], width = 4 + classes
        let weights = dflWeight.value.scalars
        let g = gradOutput.pointer
        var grads: [Tensor?] = []
        var first = 0
        for (level, stride) in strides.enumerated() {
            let record = saved[level]
            let h = record.shape[1], w = record.shape[2], count = n * h * w, r = regMax, k = classes, s = Float(stride)
            var dBox = Tensor(uninitializedShape: [n, h, w, 4 * r]), dCls = Tensor(uninitializedShape: [n, h, w, k])
            let db = dBox.mutablePointer(), dc = dCls.mutablePointer()
            record.probabilities.withUnsafeBufferPointer { p in
                record.distances.withUnsafeBufferPointer { d in
                    record.scores.withUnsafeBufferPointer { sc in
                        let pp = p.baseAddress!, dp = d.baseAddress!, sp = sc.baseAddress!
                        Parallel.forEach(count, grain: 64) { i in
                            let image = i / (h * w), cell = i % (h * w)
                            let row = g + (image * anchors + first + cell) * width
                            let gcx = row[0] * s, gcy = row[1] * s, gw = row[2] * s, gh = row[3] * s
                            // x1 = ax - l, x2 = ax + r: cx = (x1 + x2) / 2 and w = x2 - x1 (likewise y).
                            for side in 0..<4 {
                                let probs = pp + i * 4 * r + side * r, out = db + i * 4 * r + side * r
                                let centre = side % 2 == 0 ? gcx : gcy, size = side % 2 == 0 ? gw : gh
                                let expectation = dp[i * 4 + side], gd = (side < 2 ? -centre : centre) / 2 + size
                                for j in 0..<r { out[j] = probs[j] * (weights[j] - expectation) * gd }
                            }
                            for j in 0..<k {
                                let v = sp[i * k + j]
                                dc[i * k + j] = row[4 + j] * v * (1 - v)
                            }
                        }
                    }
                }
            }
            grads.append(dBox)
            grads.append(dCls)
            first += h * w
        }
        return grads
    }

    public func clearSaved() { saved = nil }

    /// The DFL convolution: `regMax * 4 * A` for A anchors.
    public func macs(inputShapes: [[Int]], outputShape: [Int]) -> Int { regMax * 4 * outputShape[1] }

    /// ONNX ops in PyTorch's layout: per level the box logits `Reshape`d to `[N, 4, regMax, HW]`,
    /// `Softmax` over the bins, the expectation (`Mul` by the DFL weights, `ReduceSum`), the class
    /// `Sigmoid`; levels `Concat`ed; the boxes decoded against constant anchors and strides; the
    /// result `Transpose`d to this layer's `[N, A, 4 + classes]`.
    public func exportONNX(_ inputs: [ONNXGraph.Value], node: String, into graph: inout ONNXGraph) throws -> String {
        let weight = graph.state(node, "weight", dflWeight.value)
        let bins = graph.add("Reshape", [weight, graph.int64s(node + ".bins_shape", [1, 1, regMax, 1])], name: node + ".bins")
        var distances: [String] = [], scores: [String] = [], ax: [Float] = [], ay: [Float] = [], steps: [Float] = []
        for (level, stride) in strides.enumerated() {
            let h = inputs[2 * level].shape[1], w = inputs[2 * level].shape[2], p = "\(node).level\(level)"
            let logits = graph.add("Reshape", [inputs[2 * level].name, graph.int64s(p + ".box_shape", [0, 4, regMax, -1])], name: p + ".bins")
            let probabilities = graph.add("Softmax", [logits], [.int("axis", 2)], name: p + ".softmax")
            let weighted = graph.add("Mul", [probabilities, bins], name: p + ".weighted")
            distances.append(graph.add("ReduceSum", [weighted, graph.int64s(p + ".bin_axis", [2])], [.int("keepdims", 0)], name: p + ".distance"))
            let classes = graph.add("Reshape", [inputs[2 * level + 1].name, graph.int64s(p + ".cls_shape", [0, 0, -1])], name: p + ".cls")
            scores.append(graph.add("Sigmoid", [classes], name: p + ".scores"))
            for y in 0..<h { for x in 0..<w { ax.append(Float(x) + 0.5); ay.append(Float(y) + 0.5); steps.append(Float(stride)) } }
        }
        let dist = graph.add("Concat", distances, [.int("axis", 2)], name: node + ".distances")
        let anchors = graph.initializer(node + ".anchors", values: ax + ay, shape: [1, 2, ax.count])
        let strideRow = graph.initializer(node + ".strides", values: steps, shape: [1, 1, steps.count])
        let lt = graph.add("Slice", [dist, graph.int64s(node + ".lt_start", [0]), graph.int64s(node + ".lt_end", [2]),
                                     graph.int64s(node + ".side_axis", [1])], name: node + ".lt")
        let rb = graph.add("Slice", [dist, graph.int64s(node + ".rb_start", [2]), graph.int64s(node + ".rb_end", [4]),
                                     graph.int64s(node + ".side_axis2", [1])], name: node + ".rb")
        let x1y1 = graph.add("Sub", [anchors, lt], name: node + ".x1y1")
        let x2y2 = graph.add("Add", [anchors, rb], name: node + ".x2y2")
        let sum = graph.add("Add", [x1y1, x2y2], name: node + ".corner_sum")
        let centre = graph.add("Div", [sum, graph.scalar(node + ".two", 2)], name: node + ".centre")
        let size = graph.add("Sub", [x2y2, x1y1], name: node + ".size")
        let box = graph.add("Concat", [centre, size], [.int("axis", 1)], name: node + ".box_units")
        let pixels = graph.add("Mul", [box, strideRow], name: node + ".box")
        let classes = graph.add("Concat", scores, [.int("axis", 2)], name: node + ".class_scores")
        let prediction = graph.add("Concat", [pixels, classes], [.int("axis", 1)], name: node + ".prediction")
        return graph.add("Transpose", [prediction], [.ints("perm", [0, 2, 1])], name: node)
    }
}
