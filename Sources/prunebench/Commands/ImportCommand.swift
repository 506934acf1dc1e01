import ArgumentParser
import Experiments
import Foundation
import Models
import NN

/// `prunebench import`: PyTorch weights in, a safetensors checkpoint out, nothing executed.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a PyTorch checkpoint (.pth, .pt, pytorch_model.bin) to safetensors, checked against a model.",
        discussion: """
        Reads torch.save files (zip and legacy formats) with a pickle reader that executes nothing and accepts
        only tensors, storages, OrderedDict and argparse.Namespace (as torch.load(weights_only=True) does);
        anything else is refused with the global it names, and no output is written. Training checkpoints are
        unwrapped (state_dict / model, module. and _orig_mod. prefixes). --object-tree reads a pickled model
        object (Ultralytics' yolov8m.pt) as inert data. With --model, every name and shape is checked against
        the model and the output is a self-describing prunebench checkpoint (what `inspect` and sweeps read).
        Example: prunebench import resnet18-f37072fd.pth --model r18.json --out resnet18.safetensors
        """
    )

    @Argument(help: "The PyTorch (or safetensors) file.") var input: String
    @Option(help: "A model description (JSON, as `models --config` takes) to check the weights against.") var model: String?
    @Option(help: "Output safetensors file.") var out: String
    @Flag(help: "Read a pickled model object's tensors (Ultralytics .pt) instead of refusing its classes.") var objectTree = false
    @Flag(help: "Prefer the EMA weights (state_dict_ema / model_ema) of a training checkpoint.") var ema = false

    func run() throws {
        do {
            if let model {
                let spec = try ModelSpec.parse(try Data(contentsOf: URL(fileURLWithPath: model)), source: model)
                let (net, imported) = try PretrainedWeights.load(input, into: spec, objectTree: objectTree, useEMA: ema)
                try Checkpoint.save(net, spec: spec, to: out, extra: ["prunebench.imported_from": (input as NSString).lastPathComponent])
                print("\(input): \(imported.container), \(imported.selection.isEmpty ? "" : imported.selection + ", ")"
                    + "\(imported.tensors.order.count) tensors fit \(spec.arch); wrote \(out)")
            } else {
                let imported = try PretrainedWeights.read(input, objectTree: objectTree, useEMA: ema)
                var file = imported.tensors
                file.metadata = ["format": "pt", "prunebench.imported_from": (input as NSString).lastPathComponent]
                try file.write(to: out)
                print("\(input): \(imported.container), \(imported.selection.isEmpty ? "" : imported.selection + ", ")"
                    + "\(file.order.count) tensors; wrote \(out)")
            }
        } catch { throw CommandFailure(error) }
    }
}
