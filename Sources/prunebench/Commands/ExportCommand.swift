import ArgumentParser
import Foundation
import Models
import NN
import Pruning
import Tensor

/// `prunebench export`: a (pruned) checkpoint out in a format other tools read.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint (pruned or not) as a PyTorch state dict (.pth) or an ONNX model (.onnx).",
        discussion: """
        --format pth writes a torch.save zip file: torch.load(f, weights_only=True) gives an OrderedDict of
        float32 tensors (int64 num_batches_tracked) under torchvision/timm names, with the pruned widths.
        --format onnx writes an ONNX model (opset 17): input 'input' [batch, C, H, W] float32, output 'output',
        weights as initializers under their state-dict names. --probe also writes a safetensors file with a
        seeded input x [2, C, H, W] and this engine's output y for it, to check the file in any runtime.
        Example: prunebench export runs/x/model.safetensors --format onnx --out pruned.onnx --probe probe.safetensors
        """
    )

    enum Format: String, ExpressibleByArgument { case pth, onnx }

    @Argument(help: "A prunebench checkpoint (self-describing safetensors).") var checkpoint: String
    @Option(help: "Output format: pth or onnx.") var format: Format = .pth
    @Option(help: "Output file.") var out: String
    @Option(help: "With --format onnx: also write a probe (x, y) safetensors file.") var probe: String?

    func validate() throws {
        if probe != nil && format != .onnx { throw ValidationError("--probe goes with --format onnx") }
    }

    func run() throws {
        do {
            let (model, spec, history) = try PrunedCheckpoint.load(checkpoint)
            let what = "\(checkpoint): \(spec.arch)\(history.isEmpty ? "" : ", \(history.count) pruned groups")"
            switch format {
            case .pth:
                let state = model.stateDict()
                try PretrainedWeights.writeTorch(state, to: out)
                print("\(what), \(state.order.count) tensors; wrote \(out)")
            case .onnx:
                let bytes = try model.onnx(graphName: spec.arch)
                try Data(bytes).write(to: URL(fileURLWithPath: out))
                print("\(what), \(model.namedState.count) tensors, ONNX opset \(ONNXGraph.opset), \(bytes.count) bytes; wrote \(out)")
                if let probe {
                    var g = SeededGenerator(seed: 2406)
                    let x = Tensor.randomNormal([2] + model.inputShape, using: &g)
                    var context = ForwardContext(training: false)
                    var y = model.forward(ChannelsLast.fromNCHW(x), context: &context)
                    if y.rank == 4 { y = ChannelsLast.toNCHW(y) }
                    var file = SafeTensors()
                    file.set("x", x)
                    file.set("y", y)
                    try file.write(to: probe)
                    print("probe: x \(x.shape), y \(y.shape); wrote \(probe)")
                }
            }
        } catch { throw CommandFailure(error) }
    }
}
