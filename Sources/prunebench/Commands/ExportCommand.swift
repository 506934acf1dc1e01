import ArgumentParser
import Foundation
import Models
import NN
import Pruning

/// `prunebench export`: a (pruned) checkpoint out in a format other tools read.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint (pruned or not) as a PyTorch state dict (.pth).",
        discussion: """
        --format pth writes a torch.save zip file: torch.load(f, weights_only=True) gives an OrderedDict of
        float32 tensors (int64 num_batches_tracked) under torchvision/timm names, with the pruned widths.
        Example: prunebench export runs/x/model.safetensors --format pth --out pruned.pth
        """
    )

    enum Format: String, ExpressibleByArgument { case pth }

    @Argument(help: "A prunebench checkpoint (self-describing safetensors).") var checkpoint: String
    @Option(help: "Output format: pth.") var format: Format = .pth
    @Option(help: "Output file.") var out: String

    func run() throws {
        do {
            let (model, spec, history) = try PrunedCheckpoint.load(checkpoint)
            let state = model.stateDict()
            try PretrainedWeights.writeTorch(state, to: out)
            print("\(checkpoint): \(spec.arch)\(history.isEmpty ? "" : ", \(history.count) pruned groups"), "
                + "\(state.order.count) tensors; wrote \(out)")
        } catch { throw CommandFailure(error) }
    }
}
