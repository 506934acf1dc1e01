import Experiments
import ArgumentParser
import Foundation
import Models
import NN
import Pruning

/// Shared output of `models --config` and `inspect`: architecture, widths, counts.
struct ModelReport: Encodable {
    struct Layer: Encodable { var name: String; var kind: String; var shape: [String: [Int]]; var macs: Int? }
    var model: ModelSpec
    var parameters: Int
    var macs: Int
    var layerMACs: [String: Int]
    var layers: [Layer]

    init(model: Model, spec: ModelSpec) throws {
        let counts = try model.counts()
        self.model = spec
        parameters = counts.parameters
        macs = counts.macs
        let perModule = Dictionary(uniqueKeysWithValues: counts.layerMACs.map { ($0.name, $0.macs) })
        layerMACs = perModule
        var seen = Set<String>()
        layers = model.nodes.dropFirst().compactMap { node in
            let module = Model.moduleName(node.name)
            guard !node.layer.state.isEmpty, seen.insert(module).inserted else { return nil }
            let shapes = Dictionary(uniqueKeysWithValues: node.layer.state.map { ($0.name, $0.parameter.value.shape) })
            return Layer(name: module, kind: node.layer.kind, shape: shapes, macs: perModule[module])
        }
    }

    func printText() {
        print("model: \(model.json())")
        print("parameters: \(parameters.formatted())   MACs: \(macs.formatted())")
        for l in layers {
            let shapes = l.shape.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("  \(l.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(l.kind.padding(toLength: 12, withPad: " ", startingAt: 0)) \(shapes)  MACs \(l.macs ?? 0)")
        }
    }

    func printJSON() throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try e.encode(self), as: UTF8.self))
    }
}

/// `prunebench models`: the zoo, or the counts of one configuration.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the model zoo, or print parameters and MACs (total and per layer) of one configuration.",
        discussion: """
        MODEL.json is the `model` object of a golden case.json (a whole case.json works too), e.g.
        {"arch": "resnet18", "variant": "cifar", "width": 0.25, "input_shape": [1, 28, 28], "num_classes": 10}.
        MACs follow Torch-Pruning 1.6.1's counter (docs/macs.md).
        """
    )

    @Option(help: "A model configuration (JSON) to count.") var config: String?
    @Flag(help: "Print JSON.") var json = false

    struct ZooEntry: Encodable { var arch: String; var variants: [String]; var reference: String }
    static let zoo = [
        ZooEntry(arch: "resnet18", variants: ["cifar", "imagenet"], reference: "Torch-Pruning CIFAR zoo / torchvision"),
        ZooEntry(arch: "resnet50", variants: ["cifar", "imagenet"], reference: "Torch-Pruning CIFAR zoo / torchvision"),
        ZooEntry(arch: "vgg19_bn", variants: ["cifar", "imagenet"], reference: "Torch-Pruning CIFAR zoo / torchvision"),
        ZooEntry(arch: "vit", variants: ["timm"], reference: "timm VisionTransformer (vit_small_patch16_224 and smaller configurations)"),
    ]

    func run() throws {
        guard let config else {
            if json {
                let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try e.encode(Self.zoo), as: UTF8.self))
            } else {
                for z in Self.zoo { print("\(z.arch.padding(toLength: 10, withPad: " ", startingAt: 0)) \(z.variants.joined(separator: ", "))  (\(z.reference))") }
                print("CNNs take any width multiplier, input channels, resolution and classes; ViTs any image, patch, embedding, depth, heads, MLP and classes.")
            }
            return
        }
        guard let data = FileManager.default.contents(atPath: config) else {
            throw CommandFailure("cannot read --config \(config)")
        }
        do {
            let spec = try ModelSpec.parse(data, source: config)
            let report = try ModelReport(model: try spec.build(), spec: spec)
            if json { try report.printJSON() } else { report.printText() }
        } catch let e as ModelSpecError {
            throw CommandFailure(e)
        }
    }
}

/// `prunebench inspect`: what a checkpoint holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint's architecture, layer widths, parameters and MACs."
    )

    @Argument(help: "A prunebench safetensors checkpoint (trained or pruned).") var checkpoint: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        do {
            let (model, spec, history) = try PrunedCheckpoint.load(checkpoint)
            let report = try ModelReport(model: model, spec: spec)
            if !json && !history.isEmpty { print("pruned: \(history.count) groups in its history") }
            if json { try report.printJSON() } else { report.printText() }
        } catch let e as ModelSpecError {
            throw CommandFailure(e)
        } catch let e as SafeTensorsError {
            throw CommandFailure(e)
        } catch let e as StateLoadError {
            throw CommandFailure(e)
        } catch let e as PruningGraphError {
            throw CommandFailure(e)
        }
    }
}
