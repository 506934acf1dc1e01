import XCTest
@testable import TorchCheckpoint

/// Refusals: malicious globals, hostile bytes, unsupported containers and storages.
final class SecurityTests: XCTestCase {
    /// The exact refused globals, from `malicious.json`.
    func maliciousGlobals() throws -> [String: String] {
        let json = try XCTUnwrap(try TorchFixtures.json("malicious.json") as? [String: [String: Any]])
        var out: [String: String] = [:]
        for (file, info) in json {
            let unsafe = try XCTUnwrap(info["torch_get_unsafe_globals_in_checkpoint"] as? [String])
            out[file] = try XCTUnwrap(unsafe.first)
        }
        return out
    }

    func testMaliciousFilesAreRefusedNamingTheGlobal() throws {
        let cases = try maliciousGlobals()
        XCTAssertEqual(Set(cases.values), ["posix.system", "builtins.eval"])
        for (file, global) in cases {
            for mode in [ObjectTreeMode.strictAllowlist, .inertObjects] {
                let error = assertCheckpointError(try TorchCheckpoint.read(path: TorchFixtures.path(file), mode: mode))
                XCTAssertEqual(error?.kind, .refusedGlobal(global), "\(file) \(mode)")
                XCTAssertTrue(error?.description.contains("'\(global)'") ?? false, error?.description ?? "")
                XCTAssertTrue(error?.description.hasPrefix(file + ": ") ?? false, error?.description ?? "")
                XCTAssertTrue(error?.description.contains("nothing was loaded") ?? false)
            }
        }
    }

    /// The refusal happens at the GLOBAL opcode: bytes after it (here garbage) never run.
    func testRefusalStopsBeforeLaterOpcodes() {
        var p = PickleBytes()
        p.proto()
        p.global("posix", "system")
        p.op(0xFF, 0xFE) // invalid opcodes right after: never reached
        let zip = TestZip.checkpoint(pickle: p.bytes)
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "weights.pth"))
        XCTAssertEqual(error?.kind, .refusedGlobal("posix.system"))
        XCTAssertTrue(error?.description.hasPrefix("weights.pth: refused global 'posix.system'") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.description.contains("collections.OrderedDict, torch._utils._rebuild_tensor_v2") ?? false)
    }

    func testExactMatchingNotPrefixes() {
        for (module, name) in [("torch.hub", "load_state_dict_from_url"), ("collections", "OrderedDictX"),
                               ("torch._utils", "_rebuild_tensor_v2x"), ("torch", "FloatStorage.x"), ("subprocess", "check_output")] {
            var p = PickleBytes()
            p.proto()
            p.global(module, name)
            p.stop()
            let error = assertCheckpointError(try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: p.bytes), name: "w.pth"))
            XCTAssertEqual(error?.kind, .refusedGlobal(module + "." + name))
        }
    }

    func testStackGlobalInstAndNewObjExAreRefused() {
        var sg = PickleBytes()
        sg.proto(4)
        sg.string("posix"); sg.string("system"); sg.op(0x93)
        var inst = PickleBytes()
        inst.proto(1)
        inst.mark(); inst.bytes += Array("icollections\nOrderedDict\n".utf8)
        var ex = PickleBytes()
        ex.proto(4)
        ex.global("collections", "OrderedDict"); ex.emptyTuple(); ex.emptyDict(); ex.op(0x92)
        for (p, kind) in [(sg, TorchCheckpointError.Kind.refusedGlobal("posix.system")),
                          (inst, .refusedGlobal("collections.OrderedDict")), (ex, .unsupportedOpcode)] {
            let error = assertCheckpointError(try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: p.bytes), name: "w.pth"))
            XCTAssertEqual(error?.kind, kind, error?.description ?? "")
        }
    }

    func testUntrustedTextIsEscapedInMessages() {
        var p = PickleBytes()
        p.proto()
        p.global("po\u{1b}[31msix", String(repeating: "A", count: 500))
        let error = assertCheckpointError(try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: p.bytes), name: "w.pth"))
        let message = error?.description ?? ""
        XCTAssertFalse(message.unicodeScalars.contains(where: { $0.value < 0x20 }), message)
        XCTAssertTrue(message.contains("\\x1b"), message)
        XCTAssertLessThan(message.count, 600)
    }

    // MARK: - Hostile bytes

    /// Every prefix of a valid data.pkl and of whole files fails with an error, never a crash.
    func testTruncationsAtEveryOffset() throws {
        let views = try TorchFixtures.bytes("views.pth")
        let pickle = try TestZip.record("data.pkl", in: views)
        let storages = try (0..<6).map { ("\($0)", try TestZip.record("data/\($0)", in: views)) }
        XCTAssertNoThrow(try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: pickle, storages: storages), name: "ok"))
        for cut in 0..<pickle.count {
            let zip = TestZip.checkpoint(pickle: Array(pickle[..<cut]), storages: storages)
            XCTAssertNotNil(assertCheckpointError(try TorchCheckpoint.read(bytes: zip, name: "cut\(cut)")), "cut at \(cut)")
        }
        for cut in 0..<views.count {
            XCTAssertNotNil(assertCheckpointError(try TorchCheckpoint.read(bytes: Array(views[..<cut]), name: "v")), "file cut at \(cut)")
        }
        let legacy = try TorchFixtures.bytes("tiny_resnet_legacy.pth")
        // Every offset through the header pickles and the start of the object pickle, then sampled.
        for cut in Array(0..<1200) + Array(stride(from: 1200, to: legacy.count, by: 53)) {
            XCTAssertNotNil(assertCheckpointError(try TorchCheckpoint.read(bytes: Array(legacy[..<cut]), name: "l")), "legacy cut at \(cut)")
        }
    }

    /// Random byte flips: errors or a result, never a crash.
    func testRandomByteFlipsNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let views = try TorchFixtures.bytes("views.pth")
        let pickle = try TestZip.record("data.pkl", in: views)
        let storages = try (0..<6).map { ("\($0)", try TestZip.record("data/\($0)", in: views)) }
        var failures = 0
        for _ in 0..<1500 {
            var mutated = pickle
            for _ in 0..<Int(rng.next() % 3 + 1) {
                mutated[Int(rng.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            do { _ = try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: mutated, storages: storages), name: "f") } catch { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 100)
        let legacy = try TorchFixtures.bytes("tiny_resnet_legacy.pth")
        for _ in 0..<300 {
            var mutated = legacy
            // Flip inside the pickles and headers, where structure lives.
            mutated[Int(rng.next() % 4000)] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            _ = try? TorchCheckpoint.read(bytes: mutated, name: "lf")
        }
        for _ in 0..<300 {
            var mutated = views
            mutated[Int(rng.next() % UInt64(mutated.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            _ = try? TorchCheckpoint.read(bytes: mutated, name: "zf")
        }
    }

    func readPickle(_ bytes: [UInt8], storages: [(String, [UInt8])] = []) -> TorchCheckpointError? {
        assertCheckpointError(try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: bytes, storages: storages), name: "h.pth"))
    }

    func testMalformedPickles() {
        let cases: [(String, [UInt8], TorchCheckpointError.Kind)] = [
            ("stack underflow", [0x80, 0x02, 0x52, 0x2E], .malformed),
            ("missing MARK", [0x80, 0x02, 0x4E, 0x74, 0x2E], .malformed),
            ("memo out of range", [0x80, 0x02, 0x68, 0x05, 0x2E], .malformed),
            ("long memo out of range", [0x80, 0x02, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], .malformed),
            ("huge BINUNICODE", [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x41], .truncated),
            ("huge BINBYTES8", [0x80, 0x04, 0x8E] + [UInt8](repeating: 0xFF, count: 8), .truncated),
            ("no STOP", [0x80, 0x02, 0x4E], .truncated),
            ("empty", [], .truncated),
            ("append to None", [0x80, 0x02, 0x4E, 0x4E, 0x61, 0x2E], .malformed),
            ("setitems odd", [0x80, 0x02, 0x7D, 0x28, 0x4E, 0x75, 0x2E], .malformed),
            ("reduce on int", [0x80, 0x02, 0x4B, 0x01, 0x29, 0x52, 0x2E], .malformed),
            ("protocol 6", [0x80, 0x06, 0x4E, 0x2E], .unsupported),
            ("text INT", [0x80, 0x02, 0x49, 0x31, 0x0A, 0x2E], .unsupportedOpcode),
            ("persistent id not storage", [0x80, 0x02, 0x28, 0x58, 0x01, 0, 0, 0, 0x78, 0x74, 0x51, 0x2E], .unsupported),
            ("stop at mark", [0x80, 0x02, 0x28, 0x2E], .malformed),
        ]
        for (label, bytes, kind) in cases {
            XCTAssertEqual(readPickle(bytes)?.kind, kind, label)
        }
    }

    func testUnknownOpcodeIsNamedWithOffset() {
        let error = readPickle([0x80, 0x02, 0x4E, 0xFF, 0x2E])
        XCTAssertEqual(error?.kind, .unsupportedOpcode)
        XCTAssertTrue(error?.description.contains("offset 0x3") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.description.contains("0xff") ?? false, error?.description ?? "")
    }

    func testDeepNestingIsLimited() {
        let depth = 200_000
        let nested = [0x80, 0x02] + [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1) + [0x2E]
        XCTAssertEqual(readPickle(nested)?.kind, .limitExceeded)
        // A chain built through the memo after the fact: list i+1 appended into list i.
        var chain: [UInt8] = [0x80, 0x02]
        let count = 50_000
        for i in 0..<count { chain += [0x5D, 0x72] + TestZip.le(UInt64(i), 4) + [0x30] }
        for i in 0..<(count - 1) { chain += [0x6A] + TestZip.le(UInt64(i), 4) + [0x6A] + TestZip.le(UInt64(i + 1), 4) + [0x61, 0x30] }
        chain += [0x6A] + TestZip.le(0, 4) + [0x2E]
        XCTAssertEqual(readPickle(chain)?.kind, .limitExceeded)
    }

    func testSharedReferenceExplosionAndCyclesAreRefused() {
        // t = (t, t) eighty times: 2^80 values when expanded.
        var bomb: [UInt8] = [0x80, 0x02, 0x29, 0x71, 0x00, 0x30]
        for _ in 0..<80 { bomb += [0x68, 0x00, 0x68, 0x00, 0x86, 0x71, 0x00, 0x30] }
        bomb += [0x68, 0x00, 0x2E]
        XCTAssertEqual(readPickle(bomb)?.kind, .limitExceeded)
        // A list containing itself.
        XCTAssertEqual(readPickle([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E])?.kind, .unsupported)
    }

    func testProtocol4FramingIsSupported() throws {
        var body: [UInt8] = [0x8C, 0x05] + Array("hello".utf8) + [0x94, 0x5D, 0x68, 0x00, 0x61, 0x2E]
        body = [0x80, 0x04, 0x95] + TestZip.le(UInt64(body.count), 8) + body
        let value = try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: body), name: "p4")
        XCTAssertEqual(value.sequenceValue?.first?.stringValue, "hello")
    }

    func testLegacyMagicIsABigInt() throws {
        // LONG1 beyond 64 bits stays exact.
        let value = try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: [0x80, 0x02, 0x8A, 0x0A] + LegacyCheckpoint.magic + [0x2E]), name: "m")
        guard case .bigInt(let bytes) = value else { return XCTFail("\(value.kindDescription)") }
        XCTAssertEqual(bytes, LegacyCheckpoint.magic)
        let negative = try TorchCheckpoint.read(bytes: TestZip.checkpoint(pickle: [0x80, 0x02, 0x8A, 0x02, 0x00, 0xFF, 0x2E]), name: "n")
        XCTAssertEqual(negative.intValue, -256)
    }
}

/// A small deterministic generator for the fuzz tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
