import Experiments
import Foundation
import NN
import Tensor
import TorchCheckpoint

/// Weights from elsewhere: a safetensors file, or a PyTorch `torch.save` file (`.pth`, `.pt`,
/// `pytorch_model.bin`, zip or legacy format) read without executing anything.
///
/// From a torch file, the state dict is chosen the way timm does (`state_dict`, `model`, or the
/// object itself; `state_dict_ema`/`model_ema` with `useEMA`) and `module.`/`_orig_mod.` prefixes
/// are stripped. Floating-point tensors (float16, bfloat16, float32, float64) become float32;
/// integer and bool tensors become int64 (`num_batches_tracked`).
public enum PretrainedWeights {
    /// A state dict read from a file, with what the reader did.
    public struct Imported {
        /// The tensors, by their (cleaned) names, in the file's order.
        public var tensors: SafeTensors
        /// `safetensors`, `torch zip` or `torch legacy`.
        public var container: String
        /// E.g. "took 'state_dict', stripped 'module.'" (empty for safetensors).
        public var selection: String
    }

    /// Reads `path`. `objectTree` reads a pickled model object (Ultralytics' `.pt`) as inert
    /// records instead of refusing its classes; dangerous callables are refused either way.
    public static func read(_ path: String, objectTree: Bool = false, useEMA: Bool = false) throws -> Imported {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ModelSpecError("\(path): cannot be read (missing or not a file)")
        }
        let head = [UInt8](handle.readData(ofLength: 16))
        try? handle.close()
        let container = TorchCheckpoint.container(of: head)
        if container == .safetensors {
            return Imported(tensors: try SafeTensors.read(path), container: "safetensors", selection: "")
        }
        let root: PickleValue
        do {
            root = try TorchCheckpoint.read(path: path, mode: objectTree ? .inertObjects : .strictAllowlist)
        } catch let error as TorchCheckpointError {
            if case .refusedGlobal = error.kind, !objectTree, !error.refusesDangerousCallable {
                throw ModelSpecError("\(error)\n  (a whole pickled model, such as an Ultralytics .pt? --object-tree reads its tensors as inert data, still executing nothing)")
            }
            throw error
        }
        let selection = try StateDictSelection(from: root, useEMA: useEMA, file: (path as NSString).lastPathComponent)
        var st = SafeTensors()
        for (name, t) in selection.tensors {
            if t.dtype.isFloatingPoint {
                st.set(name, Tensor(shape: t.shape, values: t.floatValues()))
            } else {
                st.set(name, integers: t.int64Values(), shape: t.shape)
            }
        }
        return Imported(tensors: st, container: container == .legacy ? "torch legacy" : "torch zip",
                        selection: selection.report.description)
    }

    /// The model of `spec` with the weights of `path` loaded: every parameter and buffer must be
    /// present with its shape, and nothing else may be (all mismatches reported at once).
    public static func load(_ path: String, into spec: ModelSpec, objectTree: Bool = false, useEMA: Bool = false) throws
        -> (model: Model, imported: Imported) {
        let imported = try read(path, objectTree: objectTree, useEMA: useEMA)
        let model = try spec.build()
        try model.load(imported.tensors, source: path)
        return (model, imported)
    }
}

extension PretrainedWeights {
    /// Writes a state dict as a `torch.save` zip file that `torch.load(f, weights_only=True)`
    /// and `model.load_state_dict` accept: float tensors as float32, integer ones as int64.
    public static func writeTorch(_ st: SafeTensors, to path: String) throws {
        let entries = st.order.map { name -> TorchSaveWriter.Entry in
            if let t = st.floats[name] { return .init(name: name, shape: t.shape, values: .float32(t.scalars)) }
            let i = st.integers[name]!
            return .init(name: name, shape: i.shape, values: .int64(i.values))
        }
        try TorchSaveWriter.write(entries, to: path)
    }
}
