import Experiments
import Foundation
import Models
import NN
import Tensor
import TestSupport
import XCTest

/// PyTorch checkpoints in and out, as a user meets them: the golden torch.save files import to
/// their expected tensors, hostile files are refused without output, exported files re-import.
final class PretrainedWeightsTests: XCTestCase {
    private func torch(_ name: String) -> String { Fixtures.path("torch/\(name)") }

    private func assertSameTensors(_ got: SafeTensors, _ want: SafeTensors, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.order.sorted(), want.order.sorted(), what, file: file, line: line)
        for (name, t) in want.floats {
            guard let g = got.floats[name] else { XCTFail("\(what): no float tensor \(name)", file: file, line: line); continue }
            XCTAssertEqual(g.shape, t.shape, "\(what): \(name)", file: file, line: line)
            let same = zip(g.scalars, t.scalars).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            XCTAssert(same && g.scalars.count == t.scalars.count, "\(what): \(name) values differ", file: file, line: line)
        }
        for (name, t) in want.integers {
            XCTAssertEqual(got.integers[name]?.shape, t.shape, "\(what): \(name)", file: file, line: line)
            XCTAssertEqual(got.integers[name]?.values, t.values, "\(what): \(name)", file: file, line: line)
        }
    }

    func testEveryGoldenCheckpointImportsToItsExpectedTensors() throws {
        for name in ["tiny_resnet", "tiny_resnet_legacy", "dtypes", "views", "parameters"] {
            let imported = try PretrainedWeights.read(torch("\(name).pth"))
            assertSameTensors(imported.tensors, try SafeTensors.read(torch("\(name).expected.safetensors")), name)
        }
        let ddp = try PretrainedWeights.read(torch("tiny_resnet_ddp_wrapped.pth"))
        XCTAssertEqual(ddp.selection, "took 'state_dict', stripped 'module.'")
        assertSameTensors(ddp.tensors, try SafeTensors.read(torch("tiny_resnet.expected.safetensors")), "ddp-wrapped")
    }

    func testMaliciousFilesAreRefusedNamingTheGlobalAndNothingIsWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (file, global) in [("malicious_posix_system.pth", "posix.system"), ("malicious_builtins_eval.pth", "builtins.eval")] {
            for extra in [[], ["--object-tree"]] {
                let out = dir + "/out.safetensors"
                let r = try Prunebench.run(["import", torch(file), "--out", out] + extra, in: dir)
                XCTAssertNotEqual(r.status, 0, file)
                XCTAssert(r.stderr.contains("refused global '\(global)'"), r.stderr)
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(file) \(extra): output written")
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/pwned.txt"))
            }
        }
    }

    func testExportedTorchFileReimportsAndFitsItsModel() throws {
        let spec = try ModelCatalog.spec(name: "resnet18", variant: "imagenet", width: 0.125, inputShape: [3, 32, 32], classes: 7)
        let model = try spec.build()
        ModelInit.initialize(model, seed: 4)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PretrainedWeights.writeTorch(model.stateDict(), to: dir + "/r18.pth")
        let (loaded, imported) = try PretrainedWeights.load(dir + "/r18.pth", into: spec)
        XCTAssertEqual(imported.container, "torch zip")
        assertSameTensors(loaded.stateDict(), model.stateDict(), "round trip")

        // The CLI with --model writes a self-describing checkpoint that reopens with the same weights.
        try Data(spec.json().utf8).write(to: URL(fileURLWithPath: dir + "/model.json"))
        let r = try Prunebench.run(["import", dir + "/r18.pth", "--model", dir + "/model.json", "--out", dir + "/r18.safetensors"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (reopened, reopenedSpec, _) = try Checkpoint.load(dir + "/r18.safetensors")
        XCTAssertEqual(reopenedSpec, spec)
        assertSameTensors(reopened.stateDict(), model.stateDict(), "imported checkpoint")

        // A model the weights do not fit: one error listing what is wrong, no output.
        var wider = spec
        wider.numClasses = 9
        try Data(wider.json().utf8).write(to: URL(fileURLWithPath: dir + "/wrong.json"))
        let bad = try Prunebench.run(["import", dir + "/r18.pth", "--model", dir + "/wrong.json", "--out", dir + "/bad.safetensors"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.stderr.contains("fc.weight: [7, 64], expected [9, 64]") || bad.stderr.contains("fc.weight"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.safetensors"))
    }
}
