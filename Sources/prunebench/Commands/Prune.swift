import Experiments
import ArgumentParser
import Data
import Bench
import Foundation
import Models
import NN
import Pruning

/// `prunebench prune`: structural pruning of a model by a golden-case configuration.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prune a model structurally (Torch-Pruning 1.6.1's decisions); writes the pruned state dict.",
        discussion: """
        CASE.json has the golden case.json schema: a `model` object (arch, variant, width, input_shape, \
        num_classes) and a `pruning` object (importance l1/l2/bnscale/lamp/fpgm/random, scope, pruning_ratio, \
        target_speedup, iterative_steps, max_pruning_ratio, round_to, ignored_layers, ...). Other golden keys \
        (expected, io, init, ...) are ignored. With target_speedup, steps run until base/current MACs reaches it. \
        The output is the full pruned state dict; its metadata holds the model spec (prunebench.model), every \
        layer's width (prunebench.widths) and the pruning history (prunebench.pruning_history).

        Example: prunebench prune --config case.json --weights input.safetensors --out pruned.safetensors
        """
    )

    @Option(help: "Case JSON with `model` and `pruning` objects.") var config: String
    @Option(help: "State dict (safetensors) of the unpruned model.") var weights: String
    @Option(help: "Where to write the pruned state dict (safetensors).") var out: String
    @Flag(help: "Print the summary as JSON.") var json = false

    /// Top-level keys of a golden case.json.
    static let caseKeys: Set<String> = ["format_version", "name", "generator", "model", "init", "io", "pruning", "expected",
                                        "verification", "files", "tp_warnings"]

    struct Summary: Encodable {
        var speedup: Double
        var macsBefore: Int, macsAfter: Int
        var paramsBefore: Int, paramsAfter: Int
        var steps: Int
        var meanStepSeconds: Double
        var totalSeconds: Double
        var groupsPruned: Int
        var out: String
        enum CodingKeys: String, CodingKey {
            case speedup, steps, out
            case macsBefore = "macs_before", macsAfter = "macs_after", paramsBefore = "params_before"
            case paramsAfter = "params_after", meanStepSeconds = "mean_step_seconds", totalSeconds = "prune_total_seconds", groupsPruned = "groups_pruned"
        }
    }

    func run() throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch { throw CommandFailure("cannot read --config \(config): \(error.localizedDescription)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CommandFailure("\(config): not a JSON object")
        }
        if let key = Set(object.keys).subtracting(Self.caseKeys).sorted().first {
            throw CommandFailure("\(config): field '\(key)' is not a case setting; expected 'model' and 'pruning'")
        }
        guard object["model"] is [String: Any] else { throw CommandFailure("\(config): field 'model' is required and must be an object") }
        guard let pruning = object["pruning"] as? [String: Any] else {
            throw CommandFailure("\(config): field 'pruning' is required and must be an object")
        }
        do {
            let spec = try ModelSpec.parse(data, source: "\(config) model")
            let settings = try PruningConfig.parse(pruning, source: "\(config) pruning")
            let model = try spec.build()
            try settings.checkApplicable(to: model, source: "\(config) pruning")
            try model.load(try SafeTensors.read(weights), source: weights)
            let pruner = try Pruner(model: model, config: settings)
            if let c = settings.calibration { pruner.calibration = try Self.calibrationSource(c, for: spec) }
            let outcome = try pruner.run()
            try PrunedCheckpoint.save(model, spec: spec, history: pruner.history, to: out)
            let mean = outcome.stepSeconds.isEmpty ? 0 : outcome.stepSeconds.reduce(0, +) / Double(outcome.stepSeconds.count)
            let summary = Summary(speedup: outcome.speedup, macsBefore: outcome.macsBefore, macsAfter: outcome.macsAfter,
                                  paramsBefore: outcome.paramsBefore, paramsAfter: outcome.paramsAfter, steps: outcome.steps,
                                  meanStepSeconds: mean, totalSeconds: outcome.totalSeconds, groupsPruned: pruner.history.filter { !$0.indices.isEmpty }.count, out: out)
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try e.encode(summary), as: UTF8.self))
            } else {
                print("speed-up \(String(format: "%.4f", summary.speedup))x   MACs \(summary.macsBefore.formatted()) -> \(summary.macsAfter.formatted())")
                print("params \(summary.paramsBefore.formatted()) -> \(summary.paramsAfter.formatted())   steps \(summary.steps)   mean step \(String(format: "%.3f", mean * 1000)) ms")
                print("wrote \(out)")
            }
        } catch let e as CommandFailure {
            throw e
        } catch {
            throw CommandFailure(error)
        }
    }

    /// The calibration batches a data-driven criterion draws before each step: the named data set's
    /// training split, with its training transform, seeded shuffles (see `BatchLoader.calibrationSource`).
    static func calibrationSource(_ c: PruningConfig.CalibrationSettings, for spec: ModelSpec) throws -> CalibrationSource {
        guard let name = DatasetName(rawValue: c.dataset) else {
            throw PruningConfigError("pruning: field 'calibration.dataset': '\(c.dataset)' is not one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let (train, _) = try DatasetCatalog.load(name, directory: c.dataDirectory, testLimit: 1)
        let expected = spec.inputShape
        guard [train.channels, train.height, train.width] == expected else {
            throw PruningConfigError("pruning: field 'calibration.dataset': '\(c.dataset)' images are \(train.channels)x\(train.height)x\(train.width), the model takes \(expected[0])x\(expected[1])x\(expected[2])")
        }
        let loader = try BatchLoader(dataset: train, batchSize: c.batchSize, shuffle: true, seed: c.seed,
                                     transform: DatasetCatalog.transform(name, augment: true), prefetch: false)
        return loader.calibrationSource(batches: c.batches)
    }
}
