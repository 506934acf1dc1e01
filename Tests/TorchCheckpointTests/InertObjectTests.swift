import XCTest
@testable import TorchCheckpoint

/// `ObjectTreeMode.inertObjects` on a hand-written Ultralytics-style pickle (whole model objects).
final class InertObjectTests: XCTestCase {
    enum Item {
        case tensor(key: String, numel: Int, shape: [Int], storage: String)
        case module(String, String, parameters: [(String, Item?)], buffers: [(String, Item?)], children: [(String, Item)],
                    nonPersistent: [String] = [], extra: [(String, Item)] = [])
    }

    func emit(_ item: Item, into p: inout PickleBytes) {
        switch item {
        case .tensor(let key, let numel, let shape, let storage):
            p.global("torch._utils", "_rebuild_parameter")
            p.mark()
            p.tensor(key: key, numel: numel, shape: shape, storage: storage)
            p.bool(true)
            p.orderedDict()
            p.tuple()
            p.reduce()
        case .module(let module, let name, let parameters, let buffers, let children, let nonPersistent, let extra):
            p.global(module, name)
            p.emptyTuple()
            p.newObj()
            p.emptyDict()
            p.mark()
            p.string("training"); p.bool(false)
            for (key, entries) in [("_parameters", parameters), ("_buffers", buffers)] {
                p.string(key)
                p.orderedDict()
                p.mark()
                for (entryName, entry) in entries {
                    p.string(entryName)
                    if let entry { emit(entry, into: &p) } else { p.none() }
                }
                p.setItems()
            }
            p.string("_non_persistent_buffers_set")
            p.global("builtins", "set")
            p.op(0x5D) // EMPTY_LIST
            p.mark(); for n in nonPersistent { p.string(n) }; p.op(0x65) // APPENDS
            p.op(0x85) // TUPLE1
            p.reduce()
            p.string("_modules")
            p.orderedDict()
            p.mark()
            for (childName, child) in children { p.string(childName); emit(child, into: &p) }
            p.setItems()
            for (key, value) in extra { p.string(key); emit(value, into: &p) }
            p.setItems()
            p.build()
        }
    }

    /// `{'epoch': -1, 'model': DetectionModel(...), 'dtype': torch.float16}` plus its storages.
    func ultralyticsLike() -> (pickle: [UInt8], storages: [(String, [UInt8])]) {
        let t = { (key: String, numel: Int, shape: [Int]) in Item.tensor(key: key, numel: numel, shape: shape, storage: "FloatStorage") }
        let conv = Item.module("torch.nn.modules.conv", "Conv2d", parameters: [("weight", t("0", 6, [2, 3, 1, 1])), ("bias", nil)],
                               buffers: [], children: [])
        let bn = Item.module("torch.nn.modules.batchnorm", "BatchNorm2d",
                             parameters: [("weight", t("1", 2, [2])), ("bias", t("2", 2, [2]))],
                             buffers: [("running_mean", t("3", 2, [2])), ("running_var", t("4", 2, [2])),
                                       ("num_batches_tracked", .tensor(key: "5", numel: 1, shape: [], storage: "LongStorage")),
                                       ("scratch", t("6", 2, [2]))],
                             children: [], nonPersistent: ["scratch"])
        let block = Item.module("ultralytics.nn.modules.conv", "Conv", parameters: [], buffers: [], children: [("conv", conv), ("bn", bn)])
        let sequential = Item.module("torch.nn.modules.container", "Sequential", parameters: [], buffers: [], children: [("0", block)])
        let model = Item.module("ultralytics.nn.tasks", "DetectionModel", parameters: [], buffers: [], children: [("model", sequential)],
                                extra: [("stride", t("7", 3, [3]))])
        var p = PickleBytes()
        p.proto()
        p.emptyDict()
        p.string("epoch"); p.int(-1); p.setItem()
        p.string("model"); emit(model, into: &p); p.setItem()
        p.string("dtype"); p.global("torch", "float16"); p.setItem()
        p.stop()
        var storages: [(String, [UInt8])] = []
        for (key, count) in [("0", 6), ("1", 2), ("2", 2), ("3", 2), ("4", 2), ("6", 2), ("7", 3)] {
            storages.append((key, f32Bytes((0..<count).map { Float(Int(key)! * 10 + $0) })))
        }
        storages.append(("5", TestZip.le(42, 8)))
        return (p.bytes, storages)
    }

    func testWholeModelPickleInInertMode() throws {
        let (pickle, storages) = ultralyticsLike()
        let zip = TestZip.checkpoint(pickle: pickle, storages: storages, folder: "best")
        let value = try TorchCheckpoint.read(bytes: zip, name: "best.pt", mode: .inertObjects)
        guard case .object(let module, let name, let args, let state)? = value["model"] else {
            return XCTFail("model is \(value["model"]?.kindDescription ?? "missing")")
        }
        XCTAssertEqual(module, "ultralytics.nn.tasks")
        XCTAssertEqual(name, "DetectionModel")
        XCTAssertTrue(args.isEmpty)
        XCTAssertNotNil(state?["_modules"])
        guard case .global(let m, let n)? = value["dtype"] else { return XCTFail("dtype") }
        XCTAssertEqual(m + "." + n, "torch.float16")
        XCTAssertEqual(value["epoch"]?.intValue, -1)

        let names = TorchCheckpoint.tensors(in: value).map(\.name)
        XCTAssertEqual(names, ["model/model.0.conv.weight", "model/model.0.bn.weight", "model/model.0.bn.bias",
                               "model/model.0.bn.running_mean", "model/model.0.bn.running_var", "model/model.0.bn.num_batches_tracked"])

        let selection = try StateDictSelection(from: value)
        XCTAssertEqual(selection.report.takenKey, "model")
        XCTAssertEqual(selection.tensors.first?.name, "model.0.conv.weight")
        XCTAssertEqual(selection["model.0.conv.weight"]?.floatValues(), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(selection["model.0.conv.weight"]?.shape, [2, 3, 1, 1])
        XCTAssertEqual(selection["model.0.conv.weight"]?.requiresGrad, true)
        XCTAssertEqual(selection["model.0.bn.num_batches_tracked"]?.int64Values(), [42])
        XCTAssertNil(selection["model.0.bn.scratch"], "non-persistent buffers are not in the state dict")
    }

    func testStrictModeRefusesModelObjects() {
        let (pickle, storages) = ultralyticsLike()
        let zip = TestZip.checkpoint(pickle: pickle, storages: storages)
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "best.pt"))
        XCTAssertEqual(error?.kind, .refusedGlobal("ultralytics.nn.tasks.DetectionModel"))
    }

    func testDeniedGlobalsStayRefusedInInertMode() {
        let denied = [("posix", "system"), ("os", "system"), ("nt", "system"), ("builtins", "eval"), ("builtins", "getattr"),
                      ("__builtin__", "exec"), ("subprocess", "Popen"), ("torch.hub", "load"), ("functools", "partial"),
                      ("torch.fx.graph_module", "reduce_graph_module"), ("numpy", "load"), ("importlib", "import_module"),
                      ("ultralytics.utils", "__getattr__"), ("sys", "modules"), ("webbrowser", "open"), ("pickle", "loads")]
        for (module, name) in denied {
            var p = PickleBytes()
            p.proto()
            p.global(module, name)
            p.string("echo pwned > pwned.txt")
            p.op(0x85)
            p.reduce()
            p.stop()
            let zip = TestZip.checkpoint(pickle: p.bytes)
            let error = assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "evil.pt", mode: .inertObjects))
            XCTAssertEqual(error?.kind, .refusedGlobal(module + "." + name), "\(module).\(name)")
            XCTAssertTrue(error?.description.contains("'\(module).\(name)'") ?? false, error?.description ?? "")
        }
    }

    func testInertModeStillExecutesNothingForAllowedNames() throws {
        // A harmless-looking class called with data becomes a record holding the data.
        var p = PickleBytes()
        p.proto()
        p.global("ultralytics.utils", "IterableSimpleNamespace")
        p.mark(); p.string("a"); p.int(1); p.tuple()
        p.reduce()
        p.stop()
        let value = try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: p.bytes), name: "x.pt", mode: .inertObjects)
        guard case .object(_, let name, let args, let state) = value else { return XCTFail(value.kindDescription) }
        XCTAssertEqual(name, "IterableSimpleNamespace")
        XCTAssertEqual(args.count, 2)
        XCTAssertNil(state)
    }

    func testNamespaceIsAllowedInStrictMode() throws {
        var p = PickleBytes()
        p.proto()
        p.emptyDict()
        p.string("args")
        p.global("argparse", "Namespace")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.string("lr"); p.bytes += [0x47] + TestZip.le(0.1.bitPattern.byteSwapped, 8); p.setItem()
        p.build()
        p.setItem()
        p.stop()
        let value = try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: p.bytes), name: "train.pth")
        XCTAssertEqual(value["args"]?["lr"]?.doubleValue, 0.1)
    }
}
