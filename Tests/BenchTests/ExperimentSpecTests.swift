import Experiments
import Bench
import Foundation
import Models
import XCTest

final class ExperimentSpecTests: XCTestCase {
    /// A hand-written spec; its canonical JSON and ID were computed independently
    /// (Python: json.dumps(sort_keys=True, separators=(",", ":")) and hashlib.sha256).
    static let golden = ExperimentSpec(
        kind: .prune, task: .classification,
        model: ModelSpec(arch: "resnet18", variant: "cifar", width: 0.25, inputShape: [1, 28, 28], numClasses: 10),
        dataset: DatasetRef(name: .fashionMNIST, role: .cifar100, standIn: true),
        method: "l1", scheme: .globalProtected, speedup: 2, leaderboard: "cifar100.resnet18.global_protected",
        base: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", profile: "smoke",
        settings: ExperimentSettings(
            finetune: TrainPhase(epochs: 1, batchSize: 32, optimizer: .sgd, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, schedule: .constant),
            pruning: PruningSettings(steps: 50, calibrationBatches: 1, calibrationBatchSize: 32),
            data: DataSettings(trainSubset: 1024, testSubset: 256)),
        seed: 0)

    static let goldenJSON = #"{"base":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","dataset":{"name":"fashion-mnist","role":"cifar100","stand_in":true},"kind":"prune","leaderboard":"cifar100.resnet18.global_protected","method":"l1","model":{"arch":"resnet18","input_shape":[1,28,28],"num_classes":10,"variant":"cifar","width":0.25},"profile":"smoke","scheme":"global_protected","seed":0,"settings":{"data":{"test_subset":256,"train_subset":1024},"finetune":{"batch_size":32,"epochs":1,"lr":0.01,"momentum":0.9,"optimizer":"sgd","schedule":"constant","weight_decay":0.0005},"pruning":{"calibration_batch_size":32,"calibration_batches":1,"steps":50}},"speedup":2,"task":"classification"}"#

    static let goldenID = "ab1971dbd89ad71776f85c399eba71ce579011a17ba7e16ee7cac9dd14e11526"

    func testGoldenCanonicalJSONAndID() {
        XCTAssertEqual(Self.golden.canonicalJSON, Self.goldenJSON)
        XCTAssertEqual(Self.golden.id, Self.goldenID)
        XCTAssertEqual(ContentDigest.hex(Self.goldenJSON), Self.goldenID)
    }

    func testIDIsIndependentOfKeyOrder() throws {
        // Re-encode the golden spec with its keys in reverse order at every level, then decode it.
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(Self.goldenJSON.utf8))
        func reversed(_ v: JSONValue) -> String {
            switch v {
            case .object(let o):
                return "{ " + o.keys.sorted(by: >).map { "\"\($0)\" : \(reversed(o[$0]!))" }.joined(separator: ", ") + " }"
            case .array(let a): return "[ " + a.map(reversed).joined(separator: " , ") + " ]"
            default: return v.canonical
            }
        }
        let shuffled = reversed(value)
        XCTAssertNotEqual(shuffled, Self.goldenJSON)
        let decoded = try JSONDecoder().decode(ExperimentSpec.self, from: Data(shuffled.utf8))
        XCTAssertEqual(decoded, Self.golden)
        XCTAssertEqual(decoded.id, Self.goldenID)

        // Objects built from dictionaries in different insertion orders are canonically identical.
        var a = [String: JSONValue](), b = [String: JSONValue]()
        let pairs: [(String, JSONValue)] = [("zeta", .number(1)), ("alpha", .string("x")), ("Mid", .bool(true)), ("é", .null)]
        for (k, v) in pairs { a[k] = v }
        for (k, v) in pairs.reversed() { b[k] = v }
        XCTAssertEqual(JSONValue.object(a).canonical, JSONValue.object(b).canonical)
        XCTAssertEqual(JSONValue.object(a).canonical, #"{"Mid":true,"alpha":"x","zeta":1,"é":null}"#)
    }

    func testCanonicalNumbers() {
        XCTAssertEqual(JSONValue.format(2), "2")
        XCTAssertEqual(JSONValue.format(2.0), "2")
        XCTAssertEqual(JSONValue.format(-3), "-3")
        XCTAssertEqual(JSONValue.format(0.0005), "0.0005")
        XCTAssertEqual(JSONValue.format(1e-5), "1e-05")
        XCTAssertEqual(JSONValue.format(0.1 + 0.2), "0.30000000000000004")
        XCTAssertEqual(JSONValue.format(1.5e-4), "0.00015")
        // Shortest round-trip: parsing the text gives back the same double.
        for x in [0.1, 1.0 / 3.0, 5e-4, 1.5e-4, 123456.789, 1e300] {
            XCTAssertEqual(Double(JSONValue.format(x)), x)
        }
    }

    func testEveryFieldChangesTheID() {
        var s = Self.golden
        var ids: Set<String> = [s.id]
        s.seed = 1; ids.insert(s.id); s = Self.golden
        s.speedup = 4; ids.insert(s.id); s = Self.golden
        s.method = "l2"; ids.insert(s.id); s = Self.golden
        s.scheme = .local; ids.insert(s.id); s = Self.golden
        s.profile = "default"; ids.insert(s.id); s = Self.golden
        s.settings.pruning?.steps = 400; ids.insert(s.id); s = Self.golden
        s.model.width = 0.5; ids.insert(s.id); s = Self.golden
        s.dataset.standIn = false; ids.insert(s.id)
        XCTAssertEqual(ids.count, 9)
    }

    func testCodableRoundTrip() throws {
        let data = try JSONEncoder().encode(Self.golden)
        XCTAssertEqual(try JSONDecoder().decode(ExperimentSpec.self, from: data), Self.golden)
    }
}
