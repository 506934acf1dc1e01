import NN
import Tensor

/// Ultralytics' YOLOv8 detector (`ultralytics/cfg/models/v8/yolov8.yaml`) at any depth/width
/// scale: the backbone of Conv and C2f rows with SPPF, the PAN neck (nearest upsampling and
/// concatenation) and the decoupled anchor-free Detect head with DFL, strides 8/16/32. Node and
/// state names are Ultralytics' (`model.2.m.0.cv1.conv.weight`, `model.22.cv3.1.2.bias`,
/// `model.22.dfl.conv.weight`), so its state dicts load unchanged.
public struct YOLOv8Builder: Sendable {
    /// `[depth_multiple, width_multiple, max_channels]` of a named scale.
    public static let scales: [String: (depth: Double, width: Double, maxChannels: Int)] = [
        "n": (0.33, 0.25, 1024), "s": (0.33, 0.50, 1024), "m": (0.67, 0.75, 768), "l": (1.00, 1.00, 512), "x": (1.00, 1.25, 512),
    ]

    public var depth: Double
    public var width: Double
    public var maxChannels: Int
    public var classes: Int
    public var inputChannels: Int
    /// Input side; a multiple of 32.
    public var resolution: Int

    public init(depth: Double, width: Double, maxChannels: Int, classes: Int = 80, inputChannels: Int = 3, resolution: Int = 640) {
        self.depth = depth; self.width = width; self.maxChannels = maxChannels
        self.classes = classes; self.inputChannels = inputChannels; self.resolution = resolution
    }

    /// A named scale (n, s, m, l, x).
    public init?(scale: String, classes: Int = 80, inputChannels: Int = 3, resolution: Int = 640) {
        guard let s = Self.scales[scale] else { return nil }
        self.init(depth: s.depth, width: s.width, maxChannels: s.maxChannels, classes: classes, inputChannels: inputChannels,
                  resolution: resolution)
    }

    /// `make_divisible(min(c, max_channels) * width, 8)`.
    func channels(_ c: Int) -> Int { Int((Double(min(c, maxChannels)) * width / 8).rounded(.up)) * 8 }
    /// `max(round(n * depth), 1)` for n > 1 (Python's round: half to even).
    func repeats(_ n: Int) -> Int { n > 1 ? max(Int((Double(n) * depth).rounded(.toNearestOrEven)), 1) : n }

    /// Builds the graph with zeroed state (the DFL weights set); initialise or load weights next.
    public func build() -> Model {
        var b = GraphBuilder(inputShape: [inputChannels, resolution, resolution])
        var widths: [Int] = []
        var outs: [GraphBuilder.Value] = []
        func record(_ v: GraphBuilder.Value, _ c: Int) { outs.append(v); widths.append(c) }

        var x = b.input, c = inputChannels
        // Backbone (rows 0-9).
        for (row, spec) in [(0, 64), (1, 128)] {
            x = conv(&b, "model.\(row)", x, c, channels(spec), kernel: 3, stride: 2); c = channels(spec); record(x, c)
        }
        for (row, spec, n) in [(2, 128, 3)] {
            x = c2f(&b, "model.\(row)", x, c, channels(spec), n: repeats(n), shortcut: true); c = channels(spec); record(x, c)
        }
        for (convRow, spec, n) in [(3, 256, 6), (5, 512, 6), (7, 1024, 3)] {
            x = conv(&b, "model.\(convRow)", x, c, channels(spec), kernel: 3, stride: 2); c = channels(spec); record(x, c)
            x = c2f(&b, "model.\(convRow + 1)", x, c, channels(spec), n: repeats(n), shortcut: true); record(x, c)
        }
        x = sppf(&b, "model.9", x, c, channels(1024)); c = channels(1024); record(x, c)
        // Neck: up, concat with P4 / P3, C2f; then down again.
        x = b.add("model.10", UpsampleNearestLayer(scale: 2), x); record(x, c)
        x = b.add("model.11", ConcatLayer(), x, outs[6]); c += widths[6]; record(x, c)
        x = c2f(&b, "model.12", x, c, channels(512), n: repeats(3), shortcut: false); c = channels(512); record(x, c)
        x = b.add("model.13", UpsampleNearestLayer(scale: 2), x); record(x, c)
        x = b.add("model.14", ConcatLayer(), x, outs[4]); c += widths[4]; record(x, c)
        x = c2f(&b, "model.15", x, c, channels(256), n: repeats(3), shortcut: false); c = channels(256); record(x, c)
        x = conv(&b, "model.16", x, c, channels(256), kernel: 3, stride: 2); record(x, c)
        x = b.add("model.17", ConcatLayer(), x, outs[12]); c += widths[12]; record(x, c)
        x = c2f(&b, "model.18", x, c, channels(512), n: repeats(3), shortcut: false); c = channels(512); record(x, c)
        x = conv(&b, "model.19", x, c, channels(512), kernel: 3, stride: 2); record(x, c)
        x = b.add("model.20", ConcatLayer(), x, outs[9]); c += widths[9]; record(x, c)
        x = c2f(&b, "model.21", x, c, channels(1024), n: repeats(3), shortcut: false); c = channels(1024); record(x, c)
        // Detect: box and class branches per level, then DFL and decoding.
        let levels = [15, 18, 21]
        let c2 = max(16, widths[15] / 4, 64), c3 = max(widths[15], min(classes, 100))
        var branches: [GraphBuilder.Value] = []
        for (i, row) in levels.enumerated() {
            for (branch, hidden, outChannels) in [("cv2", c2, 64), ("cv3", c3, classes)] {
                let p = "model.22.\(branch).\(i)"
                var y = conv(&b, "\(p).0", outs[row], widths[row], hidden, kernel: 3, stride: 1)
                y = conv(&b, "\(p).1", y, hidden, hidden, kernel: 3, stride: 1)
                y = b.add("\(p).2", Conv2d(.init(inChannels: hidden, outChannels: outChannels, kernel: 1, bias: true)), y)
                branches.append(y)
            }
        }
        let head = b.add("model.22.dfl.conv", DetectDecodeLayer(classes: classes, strides: [8, 16, 32]), branches)
        return b.build(output: head)
    }

    /// Ultralytics' `Conv`: conv (no bias, padding k/2), BatchNorm (eps 1e-3, momentum 0.03), SiLU.
    private func conv(_ b: inout GraphBuilder, _ p: String, _ x: GraphBuilder.Value, _ cIn: Int, _ cOut: Int,
                      kernel: Int, stride: Int) -> GraphBuilder.Value {
        var y = b.add("\(p).conv", Conv2d(.init(inChannels: cIn, outChannels: cOut, kernel: kernel, stride: stride, padding: kernel / 2)), x)
        y = b.add("\(p).bn", BatchNorm2d(channels: cOut, epsilon: 1e-3, momentum: 0.03), y)
        return b.add("\(p).act", SiLULayer(), y)
    }

    /// `C2f(c1, c2, n, shortcut)`: cv1 to 2c, split in halves, n bottlenecks on the last piece, concat all, cv2.
    private func c2f(_ b: inout GraphBuilder, _ p: String, _ x: GraphBuilder.Value, _ cIn: Int, _ cOut: Int, n: Int,
                     shortcut: Bool) -> GraphBuilder.Value {
        let c = cOut / 2
        let y = conv(&b, "\(p).cv1", x, cIn, 2 * c, kernel: 1, stride: 1)
        var pieces = [b.add("\(p).chunk0", SliceChannelsLayer(start: 0, size: c), y),
                      b.add("\(p).chunk1", SliceChannelsLayer(start: c, size: c), y)]
        for j in 0..<n {
            let m = "\(p).m.\(j)"
            var z = conv(&b, "\(m).cv1", pieces[pieces.count - 1], c, c, kernel: 3, stride: 1)
            z = conv(&b, "\(m).cv2", z, c, c, kernel: 3, stride: 1)
            if shortcut { z = b.add("\(m).add", AddLayer(), pieces[pieces.count - 1], z) }
            pieces.append(z)
        }
        let joined = b.add("\(p).cat", ConcatLayer(), pieces)
        return conv(&b, "\(p).cv2", joined, (2 + n) * c, cOut, kernel: 1, stride: 1)
    }

    /// `SPPF(c1, c2, 5)`: cv1 to c1/2, the same 5x5 stride-1 max-pool three times, concat the four, cv2.
    private func sppf(_ b: inout GraphBuilder, _ p: String, _ x: GraphBuilder.Value, _ cIn: Int, _ cOut: Int) -> GraphBuilder.Value {
        let c = cIn / 2
        let y = conv(&b, "\(p).cv1", x, cIn, c, kernel: 1, stride: 1)
        var pooled = [y]
        for k in 0..<3 {
            pooled.append(b.add(k == 0 ? "\(p).m" : "\(p).m@\(k + 1)", Pool2d(.max, .init(kernel: 5, stride: 1, padding: 2)), pooled[k]))
        }
        let joined = b.add("\(p).cat", ConcatLayer(), pooled)
        return conv(&b, "\(p).cv2", joined, 4 * c, cOut, kernel: 1, stride: 1)
    }
}
