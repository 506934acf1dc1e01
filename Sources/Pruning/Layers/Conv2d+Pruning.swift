import NN
import Tensor

/// `nn.Conv2d` (Torch-Pruning's `ConvPruner`): out side = weight rows and bias, in side = weight
/// columns. groups = 1 and grouped convs (1 < groups < in) are ``ChannelRole/conv``; a depthwise
/// conv (groups = in = out > 1) is pass-through and shrinks in, out and groups together (§4.7).
extension Conv2d: PrunableLayer {
    public func channelRole(inputShapes: [[Int]]) throws -> ChannelRole {
        let g = geometry
        if g.groups == 1 { return .conv }
        if isDepthwise { return .depthwiseConv }
        if g.groups < g.inChannels && g.inChannels % g.groups == 0 && g.outChannels % g.groups == 0 { return .conv }
        throw PruningGraphError("convolution with groups \(g.groups), \(g.inChannels) in and \(g.outChannels) out channels is not supported by the pruning engine")
    }

    public func channelCount(_ side: ChannelSide) -> Int? {
        switch side {
        case .out: return geometry.outChannels
        case .in: return geometry.inChannels
        case .inner: return nil
        }
    }

    /// Out (and a depthwise conv's single side): weight rows, bias. In: the weight columns of
    /// the input channels (a grouped conv's relative positions, ``Conv2d/weightColumns(ofInputs:)``).
    public func parameterSlices(_ side: ChannelSide, indices: [Int], roots: [Int]) -> [ParameterSlice] {
        switch side {
        case .out:
            return ParameterSlice.rows(of: weight, bias: bias, indices: indices, roots: roots, kind: .convLinear)
        case .in:
            return [ParameterSlice(weight, axis: 1, indices: weightColumns(ofInputs: indices), roots: roots, kind: .convLinear,
                                   groups: geometry.groups)]
        case .inner: return []
        }
    }

    public func keepChannels(_ side: ChannelSide, _ indices: [Int]) {
        switch side {
        case .out: keep(outputs: indices)
        case .in: keep(inputs: indices)
        case .inner: break
        }
    }

    /// A grouped conv's groups; 1 for groups = 1 and for a depthwise conv (it shrinks its groups).
    public func channelGroups(_ side: ChannelSide) -> Int { isDepthwise ? 1 : geometry.groups }

    public func checkpointWidths(module: String) -> [(key: String, width: Int)] { [(module, geometry.outChannels)] }

    public var classifierWidth: Int? { geometry.outChannels }

    public var fisherSource: FisherSource? {
        FisherSource(weight: weight, skipsAsClassifier: { _ in false }) { [geometry] in
            let kernel = Conv2DKernel(geometry)
            return { gy, x in kernel.backwardWeights(gy, input: x).weight }
        }
    }

    /// groups = 1 only: a draw is (output channel o, output pixel p), and
    /// `u_i = Σ_taps W[o, i, tap] · x[p + tap, i]` over the taps inside the input.
    public func consumerSamples(inputs: [Tensor], outputShape yShape: [Int], generator g: inout SeededGenerator)
        -> (values: [Float], width: Int)? {
        let geo = geometry
        guard geo.groups == 1 else { return nil }
        let x = inputs[0]
        let n = x.shape[0], h = x.shape[1], w = x.shape[2], cin = geo.inChannels
        let ho = yShape[1], wo = yShape[2], cout = geo.outChannels
        let kh = geo.kernelH, kw = geo.kernelW
        let wt = weight.value.pointer, xp = x.pointer
        let draws = ConsumerSamples.samplesPerImage
        var out = [Float](repeating: 0, count: n * draws * cin)
        var row = 0
        for s in 0..<n {
            for _ in 0..<draws {
                let o = g.nextInt(below: cout), pos = g.nextInt(below: ho * wo)
                let oy = pos / wo, ox = pos % wo
                for ky in 0..<kh {
                    let iy = oy * geo.strideH - geo.padH + ky * geo.dilationH
                    guard iy >= 0 && iy < h else { continue }
                    for kx in 0..<kw {
                        let ix = ox * geo.strideW - geo.padW + kx * geo.dilationW
                        guard ix >= 0 && ix < w else { continue }
                        let xrow = xp + ((s * h + iy) * w + ix) * cin
                        for i in 0..<cin {
                            out[row * cin + i] += wt[((o * cin + i) * kh + ky) * kw + kx] * xrow[i]
                        }
                    }
                }
                row += 1
            }
        }
        return (out, cin)
    }

    public var ranksFeatureMaps: Bool { true }
}
