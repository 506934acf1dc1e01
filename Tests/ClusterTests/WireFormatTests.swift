import Experiments
import Bench
@testable import Cluster
import XCTest

final class WireFormatTests: XCTestCase {
    let id = String(repeating: "ab", count: 32)
    let digest = String(repeating: "0f", count: 32)

    var samples: [Message] {
        let ref = AttemptRef(id, 3)
        return [
            .hello(.init(workerID: "gpu07", incarnation: 42, build: "prunebench 0.1.0", cores: 2, slots: 2, draining: false,
                         running: [.init(ref: ref, phase: "running")], unacknowledged: [.init(ref: ref, digest: digest)], cached: [digest])),
            .welcome(.init(incarnation: 7, heartbeatMilliseconds: 1000, liveness: 3, leaseMilliseconds: 60_000, adopted: [ref], cancelled: [])),
            .assign(.init(ref: ref, experimentJSON: Array("{\"id\":1}".utf8), threads: 1,
                          inputs: [.init(role: "base_checkpoint", experiment: id, digest: digest, size: 1234)])),
            .progress(.init(ref: ref, sequence: 9, phase: "finetune", detail: "epoch 1/1 — ünïcode")),
            .result(.init(ref: ref, outcome: .failed, failureClass: .error, retryable: false, message: "exit status 1",
                          exitStatus: 1, body: [], digest: ContentDigest.hex([UInt8]()))),
            .result(.init(ref: ref, outcome: .succeeded, failureClass: nil, retryable: false, message: "", exitStatus: 0,
                          body: Array("{}".utf8), digest: ContentDigest.hex(Array("{}".utf8)))),
            .ack(.init(ref: ref, digest: digest, disposition: .duplicate)),
            .cancel(.init(ref: ref, reason: "superseded")),
            .drain(.init(mode: .finish, deadlineSeconds: 120, reason: "operator")),
            .heartbeat(.init(sequence: 5, incarnation: 8, freeSlots: 1, running: [ref], draining: true)),
            .disconnect(reason: "re-register"),
            .fetch(.init(digest: digest, offset: 262_144, length: 262_144)),
            .chunk(.init(digest: digest, offset: 0, totalSize: 3, bytes: [1, 2, 3])),
        ]
    }

    func testEveryMessageRoundTrips() throws {
        for m in samples {
            let frames = m.frames()
            XCTAssertEqual(frames[0], Array("PBC/1".utf8))
            XCTAssertEqual(frames[1], [m.command.rawValue])
            XCTAssertEqual(try Message.decode(frames), m)
        }
        XCTAssertEqual(Set(samples.map(\.command)).count, Message.Command.allCases.count)
    }

    func testEveryTruncationIsRejected() {
        for m in samples {
            let frames = m.frames()
            for cut in 0..<frames[2].count {
                XCTAssertThrowsError(try Message.decode([frames[0], frames[1], Array(frames[2].prefix(cut))]), "\(m.command) cut at \(cut)")
            }
            XCTAssertThrowsError(try Message.decode([frames[0], frames[1], frames[2] + [0]]), "trailing byte")
        }
    }

    func testFieldValidation() {
        // Wrong tag, unknown command, wrong frame count.
        XCTAssertThrowsError(try Message.decode([Array("PBC/2".utf8), [1], []]))
        XCTAssertThrowsError(try Message.decode([Array("PBC/1".utf8), [0x7F], []]))
        XCTAssertThrowsError(try Message.decode([Array("PBC/1".utf8), [1]]))
        // A bad experiment ID (not 64 hex digits) and an unknown outcome are named.
        var w = WireWriter()
        w.string("not-hex"); w.int(1); w.string("x")
        XCTAssertThrowsError(try Message.decode([Array("PBC/1".utf8), [Message.Command.cancel.rawValue], w.bytes])) { error in
            XCTAssertTrue("\(error)".contains("cancel.experiment"), "\(error)")
        }
        // An outcome outside the vocabulary ("failed" rewritten to "fai\u{1}ed" in the bytes) is refused by field, escaped.
        var frames = Message.result(.init(ref: AttemptRef(id, 1), outcome: .failed, failureClass: nil, retryable: false,
                                          message: "", exitStatus: 0, body: [], digest: digest)).frames()
        let at = frames[2].indices.first { frames[2][$0...].starts(with: Array("failed".utf8)) }!
        frames[2][at + 3] = 1
        XCTAssertThrowsError(try Message.decode(frames)) {
            XCTAssertTrue("\($0)".contains("field 'outcome'") && "\($0)".contains("fai\\x01ed"), "\($0)")
        }
        // A huge length prefix does not allocate: it is refused against the bytes present.
        frames = Message.disconnect(reason: "x").frames()
        frames[2] = [0xFF, 0xFF, 0xFF, 0xF0, 0x41]
        XCTAssertThrowsError(try Message.decode(frames))
        // Invalid UTF-8 and an invalid worker ID.
        var h = WireWriter()
        h.data([0xC3, 0x28])
        XCTAssertThrowsError(try Message.decode([Array("PBC/1".utf8), [Message.Command.disconnect.rawValue], h.bytes]))
        var hello = Message.Hello(workerID: "ok", incarnation: 1, build: "", cores: 1, slots: 1, draining: false, running: [], unacknowledged: [], cached: [])
        hello.workerID = "has space"
        XCTAssertThrowsError(try Message.decode(Message.hello(hello).frames()))
    }

    /// Random and mutated bodies never crash the decoder: each decodes or throws.
    func testRandomFramesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        var decoded = 0
        for i in 0..<20_000 {
            let base = samples[i % samples.count].frames()
            var body = base[2]
            switch i % 3 {
            case 0: body = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1: if !body.isEmpty { body[Int.random(in: 0..<body.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            default: body = Array(body.prefix(Int.random(in: 0...body.count, using: &rng)))
            }
            if (try? Message.decode([base[0], [UInt8.random(in: 0...13, using: &rng)], body])) != nil { decoded += 1 }
        }
        XCTAssertLessThan(decoded, 20_000)
    }

    func testZ85KeysAndAllowlist() throws {
        let pair = try CurveKeyPair.generate()
        XCTAssertTrue(Z85.isKey(pair.publicKey) && Z85.isKey(pair.secretKey))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("w.key").path
        try pair.fileText.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try CurveKeyPair.load(path), pair)
        let other = try CurveKeyPair.generate()
        try "public = \(other.publicKey)\nsecret = \(pair.secretKey)\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CurveKeyPair.load(path)) { XCTAssertTrue("\($0)".contains("does not match")) }
        // Z85 keys may contain '=': public key files of every form still read.
        let eq = String(pair.publicKey.prefix(10)) + "=" + String(pair.publicKey.dropFirst(11))
        for text in ["coordinator \(eq)\n", "public = \(eq)\nsecret = \(pair.secretKey)\n", "\(eq)\n"] {
            try text.write(toFile: path + ".pub", atomically: true, encoding: .utf8)
            XCTAssertEqual(try CurveKeyPair.loadPublicKey(path + ".pub"), eq)
        }
        let list = try Allowlist.parse("# workers\nw1 \(pair.publicKey)\n\nw2 \(other.publicKey)\n", source: "allow.txt")
        XCTAssertEqual(list.workers[pair.publicKey], "w1")
        XCTAssertThrowsError(try Allowlist.parse("w1 short\n", source: "allow.txt")) { XCTAssertTrue("\($0)".hasPrefix("allow.txt:1:")) }
    }

    func testChunkDownloadVerifiesDigest() throws {
        let content = (0..<600_000).map { UInt8($0 % 251) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = dir.appendingPathComponent("src").path
        try Data(content).write(to: URL(fileURLWithPath: source))
        let digest = ContentDigest.hex(content)
        let download = ChunkDownload(digest: digest, destination: dir.appendingPathComponent("dst").path, expectedSize: nil)
        var queue = download.requests()
        XCTAssertEqual(queue.count, 1)  // size unknown: one request until the first chunk tells it
        var status = ChunkDownload.Status.inProgress
        var maxInFlight = 0
        while !queue.isEmpty, status == .inProgress {
            maxInFlight = max(maxInFlight, queue.count)
            status = download.receive(ChunkServer.answer(queue.removeFirst(), path: source))
            if status == .inProgress { queue += download.requests() }
        }
        XCTAssertEqual(status, .done)
        XCTAssertLessThanOrEqual(maxInFlight, WireLimits.chunkCredit)
        XCTAssertEqual([UInt8](try Data(contentsOf: dir.appendingPathComponent("dst"))), content)
        let bad = ChunkDownload(digest: String(repeating: "0", count: 64), destination: dir.appendingPathComponent("bad").path, expectedSize: 3)
        _ = bad.requests()
        XCTAssertEqual(bad.receive(.init(digest: bad.digest, offset: 0, totalSize: 3, bytes: [1, 2, 3])), .failed("digest mismatch for 000000000000"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
        // A holder without the file answers with size -1: a status of its own, not a failure message to parse.
        let missing = ChunkDownload(digest: digest, destination: dir.appendingPathComponent("missing").path, expectedSize: nil)
        XCTAssertEqual(missing.receive(ChunkServer.answer(missing.requests()[0], path: nil)), .notHeld)
    }
}
