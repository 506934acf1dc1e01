import Experiments
import Bench
import Foundation
import XCTest

final class GridTests: XCTestCase {
    /// pruningbench.md §9: the 13 leaderboards and their pruning experiments per board
    /// (17 rows × 3 speedups on CNN boards, 12 × 3 on ViT-S, 16 × 3 on YOLOv8m).
    static let expectedCounts: [(board: String, count: Int)] = [
        ("cifar100.resnet18.global_protected", 51),
        ("cifar100.resnet18.global_unprotected", 51),
        ("cifar100.resnet18.local", 51),
        ("cifar100.resnet50.global_protected", 51),
        ("cifar100.resnet50.global_unprotected", 51),
        ("cifar100.resnet50.local", 51),
        ("cifar100.vgg19.global_protected", 51),
        ("cifar100.vgg19.global_unprotected", 51),
        ("cifar100.vgg19.local", 51),
        ("imagenet.resnet18.global_protected", 51),
        ("imagenet.resnet50.global_protected", 51),
        ("imagenet.vit_s16.global_protected", 36),
        ("coco.yolov8m.global_protected", 48),
    ]

    static let sweepDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cluster/sweeps")
    static let sweepFiles = ["pruningbench.yaml", "fashion.yaml"]

    func load(_ file: String) throws -> Sweep { try Sweep.load(path: Self.sweepDirectory.appendingPathComponent(file).path) }

    func testBothSweepsExpandToThe645ExperimentGrid() throws {
        for file in Self.sweepFiles {
            let sweep = try load(file)
            for profile in ["smoke", "default", "paper"] {
                let grid = try Grid(sweep: sweep, profile: profile)
                XCTAssertEqual(grid.pruning.count, 645, "\(file) \(profile)")
                XCTAssertEqual(grid.countsByLeaderboard.count, 13, "\(file) \(profile)")
                XCTAssertEqual(grid.countsByLeaderboard.map(\.leaderboard), Self.expectedCounts.map(\.board), "\(file) \(profile)")
                XCTAssertEqual(grid.countsByLeaderboard.map(\.count), Self.expectedCounts.map(\.count), "\(file) \(profile)")
                // §9 families: 459 + 102 + 36 + 48.
                let byFamily = Dictionary(grouping: grid.pruning) { e -> String in
                    e.spec.dataset.role == .cifar100 ? "cifar" : e.spec.model.arch.hasPrefix("vit") ? "vit"
                        : e.spec.dataset.role == .coco ? "coco" : "imagenet_cnn"
                }.mapValues(\.count)
                XCTAssertEqual(byFamily, ["cifar": 459, "imagenet_cnn": 102, "vit": 36, "coco": 48], "\(file)")
                // One pretrain experiment per (dataset, model): 3 CIFAR + 3 ImageNet + 1 COCO.
                XCTAssertEqual(grid.pretrain.count, 7, "\(file) \(profile)")
                // README's protected boards hold 339 of the 645.
                XCTAssertEqual(grid.pruning.filter { $0.spec.scheme == .globalProtected }.count, 339)
            }
        }
    }

    func testRowsPerModelFollowSection5() throws {
        let grid = try Grid(sweep: try load("pruningbench.yaml"))
        func rows(_ board: String) -> Set<String> { Set(grid.pruning.filter { $0.spec.leaderboard == board }.map { $0.spec.method! }) }
        XCTAssertEqual(rows("cifar100.vgg19.local"), Set(LeaderboardRow.keys))
        XCTAssertEqual(rows("imagenet.vit_s16.global_protected"),
                       Set(LeaderboardRow.keys).subtracting(["bnscale_only", "obdc", "hrank", "slim", "group_slim"]))
        XCTAssertEqual(rows("coco.yolov8m.global_protected"), Set(LeaderboardRow.keys).subtracting(["obdc"]))
        XCTAssertEqual(Set(grid.pruning.filter { $0.spec.dataset.role == .cifar100 }.map { $0.spec.speedup! }), [2, 4, 8])
        XCTAssertEqual(Set(grid.pruning.filter { $0.spec.dataset.role != .cifar100 }.map { $0.spec.speedup! }), [2, 3, 4])
        // Only regularizer rows carry sparse-training settings (the criterion track has no stage 1).
        for e in grid.pruning {
            XCTAssertEqual(e.spec.settings.sparse != nil, LeaderboardRow.named(e.spec.method!)?.regularizer != nil, e.name)
        }
        // COCO cells are listed but need the detector.
        XCTAssertEqual(grid.all.filter { $0.needs == ["detector"] }.count, 49)
    }

    func testEveryBaseExistsAndIsAPretrainExperiment() throws {
        for file in Self.sweepFiles {
            let grid = try Grid(sweep: try load(file), seeds: 2)
            let byID = Dictionary(uniqueKeysWithValues: grid.all.map { ($0.id, $0) })
            for e in grid.pruning {
                XCTAssertEqual(e.spec.kind, .prune)
                guard let baseID = e.spec.base, let base = byID[baseID] else { return XCTFail("\(file): \(e.name) has no base") }
                XCTAssertEqual(base.spec.kind, .pretrain)
                XCTAssertNil(base.spec.base)
                XCTAssertEqual(base.spec.model, e.spec.model)
                XCTAssertEqual(base.spec.dataset, e.spec.dataset)
                XCTAssertEqual(base.spec.seed, e.spec.seed)
            }
            XCTAssertEqual(Set(grid.pruning.map { $0.spec.base! }), Set(grid.pretrain.map(\.id)), "\(file): every pretrain is used")
        }
    }

    func testIDsAreUniqueAndStable() throws {
        var all = Set<String>()
        for file in Self.sweepFiles {
            let sweep = try load(file)
            for profile in ["smoke", "default", "paper"] {
                let grid = try Grid(sweep: sweep, profile: profile)
                let ids = grid.all.map(\.id)
                XCTAssertEqual(Set(ids).count, ids.count, "\(file) \(profile)")
                XCTAssertTrue(ids.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
                XCTAssertEqual(try Grid(sweep: try load(file), profile: profile).all.map(\.id), ids, "expansion is deterministic")
                all.formUnion(ids)
            }
        }
        // Different sweeps and profiles share no experiment (different data, models or settings),
        // except the COCO cells: the same spec in both sweeps, so the same 49 IDs per profile.
        XCTAssertEqual(all.count, 2 * 3 * 652 - 3 * 49)
        let paper = try Grid(sweep: try load("pruningbench.yaml"), profile: "paper")
        let fashion = try Grid(sweep: try load("fashion.yaml"), profile: "paper")
        let shared = Set(paper.all.map(\.id)).intersection(fashion.all.map(\.id))
        XCTAssertEqual(shared, Set(paper.all.filter { $0.spec.dataset.role == .coco }.map(\.id)))
    }

    func testSeedsRepeatEveryCell() throws {
        let sweep = try load("fashion.yaml")
        let one = try Grid(sweep: sweep), three = try Grid(sweep: sweep, seeds: 3)
        XCTAssertEqual(three.pruning.count, 3 * 645)
        XCTAssertEqual(three.pretrain.count, 3 * 7)
        XCTAssertEqual(Set(three.all.map(\.spec.seed)), [0, 1, 2])
        XCTAssertEqual(Set(three.all.map(\.id)).count, three.all.count)
        // Seed 0 of a multi-seed grid is the single-seed grid.
        XCTAssertEqual(Set(three.all.filter { $0.spec.seed == 0 }.map(\.id)), Set(one.all.map(\.id)))
        XCTAssertEqual(three.countsByLeaderboard.map(\.count), Self.expectedCounts.map { 3 * $0.count })
    }

    func testFilters() throws {
        let sweep = try load("pruningbench.yaml")
        let board = try Grid(sweep: sweep, filter: GridFilter(leaderboards: ["cifar100.resnet50.local"]))
        XCTAssertEqual(board.pruning.count, 51)
        XCTAssertEqual(board.pretrain.count, 1)

        let method = try Grid(sweep: sweep, filter: GridFilter(methods: ["l1"]))
        XCTAssertEqual(method.pruning.count, 13 * 3)
        XCTAssertEqual(method.pretrain.count, 7)

        let obdc = try Grid(sweep: sweep, filter: GridFilter(methods: ["obdc"]))
        XCTAssertEqual(obdc.pruning.count, 11 * 3, "no OBD-C on ViT or YOLOv8m")

        let scheme = try Grid(sweep: sweep, filter: GridFilter(schemes: [.local]))
        XCTAssertEqual(scheme.pruning.count, 3 * 51)
        XCTAssertEqual(scheme.pretrain.count, 3)

        let speedup = try Grid(sweep: sweep, filter: GridFilter(speedups: [8]))
        XCTAssertEqual(speedup.pruning.count, 9 * 17)

        let model = try Grid(sweep: sweep, filter: GridFilter(models: ["resnet18"]))
        XCTAssertEqual(model.pruning.count, 4 * 51)
        XCTAssertEqual(model.pretrain.count, 2)
        XCTAssertEqual(try Grid(sweep: sweep, filter: GridFilter(models: ["vgg19_cifar"])).pruning.count, 3 * 51)

        let combined = try Grid(sweep: sweep, seeds: 2, filter: GridFilter(leaderboards: ["imagenet.vit_s16.global_protected"],
                                                                           methods: ["group_sl", "slim"], speedups: [3]))
        XCTAssertEqual(combined.pruning.map(\.name), ["imagenet.vit_s16.global_protected@3x/group_sl",
                                                      "imagenet.vit_s16.global_protected@3x/group_sl"])
        XCTAssertEqual(combined.pretrain.count, 2)

        for bad in [GridFilter(leaderboards: ["cifar100.resnet18.protected"]), GridFilter(methods: ["L1"]),
                    GridFilter(models: ["resnet34"]), GridFilter(speedups: [5])] {
            XCTAssertThrowsError(try Grid(sweep: sweep, filter: bad))
        }
        XCTAssertThrowsError(try Grid(sweep: sweep, profile: "fast"))
    }

    func testStandInsAreLabelled() throws {
        let grid = try Grid(sweep: try load("fashion.yaml"))
        for e in grid.all {
            switch e.spec.dataset.role {
            case .cifar100:
                XCTAssertEqual(e.spec.dataset, DatasetRef(name: .fashionMNIST, role: .cifar100, standIn: true))
                XCTAssertEqual(e.spec.model.variant, "cifar")
            case .imagenet:
                XCTAssertEqual(e.spec.dataset, DatasetRef(name: .fashionMNIST, role: .imagenet, standIn: true, transform: .upscale64RGB))
                XCTAssertEqual(e.spec.model.inputShape, [3, 64, 64])
            default:
                XCTAssertEqual(e.spec.dataset.role, .coco)
                XCTAssertEqual(e.needs, ["detector"])
            }
        }
        // Runnable models build at every profile's width (the smoke ViT keeps 6 heads).
        let sweep = try load("fashion.yaml")
        for profile in ["smoke", "default", "paper"] {
            for e in try Grid(sweep: sweep, profile: profile).pretrain where e.needs.isEmpty {
                XCTAssertNoThrow(try e.spec.model.validate(), "\(profile) \(e.name)")
            }
        }
    }

    func testEmbeddedSweepEqualsTheFile() throws {
        XCTAssertEqual(Sweep.embeddedFashionYAML + "\n", try fashionText(), "run cluster/embed-sweeps.sh")
        let embedded = try Grid(sweep: try Sweep.embeddedFashion()), file = try Grid(sweep: try load("fashion.yaml"))
        XCTAssertEqual(embedded.all.map(\.id), file.all.map(\.id))
    }

    // MARK: validation

    func fashionText() throws -> String {
        try String(contentsOf: Self.sweepDirectory.appendingPathComponent("fashion.yaml"), encoding: .utf8)
    }

    func assertError(_ yaml: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Sweep.parse(yaml: yaml, source: "sweeps/typo.yaml"), file: file, line: line) { error in
            let message = String(describing: error)
            XCTAssertTrue(error is SweepError, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
            for part in ["sweeps/typo.yaml"] + parts {
                XCTAssertTrue(message.contains(part), "'\(message)' should mention '\(part)'", file: file, line: line)
            }
        }
    }

    func replacingFirst(_ text: String, _ old: String, _ new: String) -> String {
        guard let r = text.range(of: old) else { XCTFail("'\(old)' not in the sweep"); return text }
        return text.replacingCharacters(in: r, with: new)
    }

    func testTypoedKeyIsNamed() throws {
        let text = try fashionText()
        assertError(replacingFirst(text, "calibration_batches: 1,", "calibraton_batches: 1,"),
                    contains: ["profiles.smoke.recipes.cifar_cnn.pruning.calibraton_batches", "unknown key"])
        assertError(replacingFirst(text, "scheme: local", "sheme: local"), contains: ["leaderboards[2].sheme", "unknown key"])
        assertError(replacingFirst(text, "default_profile:", "defualt_profile:"), contains: ["defualt_profile"])
        assertError(replacingFirst(text, "stand_in: true, path", "standin: true, path"), contains: ["datasets.cifar100.standin"])
    }

    func testBadValuesAreNamed() throws {
        let text = try fashionText()
        assertError(replacingFirst(text, "speedups: [2, 4, 8]", "speedups: [2, four, 8]"), contains: ["leaderboards[0].speedups[1]", "four"])
        assertError(replacingFirst(text, "scheme: local", "scheme: locale"), contains: ["leaderboards[2].scheme", "locale"])
        assertError(replacingFirst(text, "rows: cnn", "rows: cnns"), contains: ["leaderboards[0].rows", "cnns"])
        assertError(replacingFirst(text, "[random, l1,", "[random, l_1,"), contains: ["row_sets.cnn[1]", "l_1"])
        assertError(replacingFirst(text, "epochs: 8,", "epochs: -8,"), contains: ["profiles.smoke.recipes.cifar_cnn.pretrain.epochs", "-8"])
        assertError(replacingFirst(text, "variant: cifar", "variant: cifra"), contains: ["models.resnet18_cifar", "variant"])
        assertError(replacingFirst(text, "default_profile: default", "default_profile: fast"), contains: ["default_profile", "fast"])
        assertError(replacingFirst(text, "speedups: [2, 4, 8]", "speedups: [1, 4, 8]"), contains: ["leaderboards[0].speedups[0]"])
        assertError("name: [unclosed", contains: ["not valid YAML"])
        XCTAssertThrowsError(try Sweep.load(path: "/nonexistent/sweep.yaml")) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/sweep.yaml"))
        }
    }

    /// A misspelled dataset name, transform, optimizer or schedule is refused when the sweep is
    /// read (so `grid` refuses it), with the file, the line and the field.
    func testMisspelledVocabularyIsNamedWithItsLine() throws {
        let text = try fashionText()
        func line(of needle: String) -> String {
            let prefix = text[..<text.range(of: needle)!.lowerBound]
            return "line \(prefix.filter { $0 == "\n" }.count + 1)"
        }
        let dataset = "cifar100: {name: fashion-mnist"
        assertError(replacingFirst(text, dataset, "cifar100: {name: fashion-mnsit"),
                    contains: ["datasets.cifar100.name", line(of: dataset), "'fashion-mnsit' is not one of", "fashion-mnist"])
        assertError(replacingFirst(text, "transform: upscale64_rgb", "transform: upscale46_rgb"),
                    contains: ["datasets.imagenet.transform", line(of: "transform: upscale64_rgb"), "upscale46_rgb", "upscale64_rgb"])
        let optimizer = "optimizer: sgd"
        assertError(replacingFirst(text, optimizer, "optimizer: sdg"),
                    contains: ["profiles.smoke.recipes.cifar_cnn.pretrain.optimizer", line(of: optimizer), "'sdg'"])
        let schedule = "schedule: constant"
        assertError(replacingFirst(text, schedule, "schedule: constnat"),
                    contains: ["profiles.smoke.recipes.cifar_cnn.pretrain.schedule", line(of: schedule), "'constnat'"])
        assertError(replacingFirst(text, schedule, "schedule: 'multistep:8,4'"), contains: ["pretrain.schedule", "multistep:8,4"])
        assertError(replacingFirst(text, dataset, "cifar100: {name: cifar100, transform: upscale64_rgb"),
                    contains: ["datasets.cifar100.transform", "applies to fashion-mnist"])
    }

    /// Typed schedules spell back exactly as written, so experiment IDs did not change.
    func testSchedulesRoundTripTheirSpelling() throws {
        for text in ["cosine", "constant", "ultralytics", "multistep:60,80", "step:30"] {
            XCTAssertEqual(ScheduleSpec(text)?.description, text)
        }
        for bad in ["multistep:", "multistep:80,60", "multistep:060", "step:0", "step:-3", "Cosine", "multistep:6,,8"] {
            XCTAssertNil(ScheduleSpec(bad), bad)
        }
    }
}

/// The method registry: PruningBench's 17 rows in table order, each pairing a criterion with at
/// most one regularizer.
final class MethodRegistryTests: XCTestCase {
    func testRowsFollowTheBenchmarkTable() {
        XCTAssertEqual(LeaderboardRow.keys, ["random", "l1", "l2", "fpgm", "lamp", "bnscale_only", "taylor", "hessian", "obdc", "cp",
                                             "thinet", "hrank", "slim", "group_slim", "group_sl", "growing_reg", "l2_lasso"])
        XCTAssertEqual(LeaderboardRow.all.filter { $0.track == .regularizer }.map(\.key), Regularizer.allCases.map(\.rawValue))
        XCTAssertEqual(Set(LeaderboardRow.all.map(\.criterion)), Set(Criterion.allCases), "every criterion has a row")
        XCTAssertEqual(Criterion.allCases.filter(\.needsCalibration), [.taylor, .hessian, .obdc, .cp, .thinet, .hrank])
        XCTAssertEqual(Track(method: "group_sl"), .regularizer)
        XCTAssertEqual(Track(method: "bnscale_only"), .criterion)
    }
}

/// Costs are computed once per distinct model when the grid is built, for runnable experiments only.
final class GridCostTests: XCTestCase {
    func testCostsFollowMACsEpochsAndTheCriterion() throws {
        var grid = try Grid(sweep: Sweep.embeddedFashion(), profile: "smoke",
                            filter: GridFilter(leaderboards: ["cifar100.resnet18.global_protected", "coco.yolov8m.global_protected"],
                                               methods: ["l1", "hrank", "cp"], speedups: [2]))
        var calls = [String]()
        grid.estimateCosts { calls.append($0.arch); return 1_000_000 }
        XCTAssertEqual(calls, ["resnet18"], "one call per distinct runnable model")
        for e in grid.all { XCTAssertEqual(e.cost == nil, !e.needs.isEmpty, e.name) }
        let cost = Dictionary(uniqueKeysWithValues: grid.pruning.filter(\.needs.isEmpty).map { ($0.spec.method!, $0.cost!) })
        XCTAssertEqual(cost["hrank"]! / cost["l1"]!, 4, accuracy: 1e-12)
        XCTAssertEqual(cost["cp"]! / cost["l1"]!, 2, accuracy: 1e-12)
        XCTAssertFalse(try JSONValue.canonical(grid.pruning[0].spec).contains("cost"), "the cost is not part of the identity")
    }
}
