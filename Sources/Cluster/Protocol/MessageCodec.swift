import Foundation

extension Message {
    /// The wire frames: protocol tag, command byte, binary body (cluster.md §5).
    public func frames() -> [[UInt8]] {
        var w = WireWriter()
        encodeBody(&w)
        return [Array(ClusterProtocol.tag.utf8), [command.rawValue], w.bytes]
    }

    /// Decodes a message from its three frames; throws `WireError` for anything malformed.
    public static func decode(_ frames: [[UInt8]]) throws -> Message {
        guard frames.count == 3 else { throw WireError("expected 3 frames (tag, command, body), got \(frames.count)") }
        guard frames[0] == Array(ClusterProtocol.tag.utf8) else {
            throw WireError("unknown protocol tag '\(String(decoding: frames[0].prefix(16), as: UTF8.self))'; expected \(ClusterProtocol.tag)")
        }
        guard frames[1].count == 1, let command = Command(rawValue: frames[1][0]) else {
            throw WireError("unknown command frame \(frames[1].prefix(4).map { String(format: "0x%02x", $0) })")
        }
        guard frames[2].count <= WireLimits.maxMessage else { throw WireError("body of \(frames[2].count) bytes exceeds the limit") }
        var r = WireReader(frames[2])
        let message = try decodeBody(command, &r)
        try r.finish("\(command)")
        return message
    }

    private func encodeBody(_ w: inout WireWriter) {
        switch self {
        case .hello(let h):
            w.string(h.workerID); w.array(h.versions) { $0.u8($1) }; w.u64(h.incarnation); w.string(h.build)
            w.int(h.cores); w.int(h.slots); w.bool(h.draining)
            w.array(h.running) { w, r in w.ref(r.ref); w.string(r.phase) }
            w.array(h.unacknowledged) { w, u in w.ref(u.ref); w.string(u.digest) }
            w.array(h.cached) { $0.string($1) }
        case .welcome(let m):
            w.u64(m.incarnation); w.u8(m.version); w.int(m.heartbeatMilliseconds); w.int(m.liveness); w.int(m.leaseMilliseconds)
            w.array(m.adopted) { $0.ref($1) }; w.array(m.cancelled) { $0.ref($1) }
        case .assign(let a):
            w.ref(a.ref); w.data(a.experimentJSON); w.int(a.threads)
            w.array(a.inputs) { w, i in w.string(i.role); w.string(i.experiment); w.string(i.digest); w.int(i.size) }
        case .progress(let p):
            w.ref(p.ref); w.u64(p.sequence); w.string(p.phase); w.string(p.detail)
        case .result(let r):
            w.ref(r.ref); w.string(r.outcome.rawValue); w.optionalString(r.failureClass?.rawValue); w.bool(r.retryable); w.string(r.message)
            w.i32(r.exitStatus); w.data(r.body); w.string(r.digest)
        case .ack(let a):
            w.ref(a.ref); w.string(a.digest); w.string(a.disposition.rawValue)
        case .cancel(let c):
            w.ref(c.ref); w.string(c.reason)
        case .drain(let d):
            w.string(d.mode.rawValue); w.int(d.deadlineSeconds); w.string(d.reason)
        case .heartbeat(let h):
            w.u64(h.sequence); w.u64(h.incarnation); w.int(h.freeSlots); w.array(h.running) { $0.ref($1) }; w.bool(h.draining)
        case .disconnect(let reason):
            w.string(reason)
        case .fetch(let f):
            w.string(f.digest); w.int(f.offset); w.int(f.length)
        case .chunk(let c):
            w.string(c.digest); w.int(c.offset); w.int(c.totalSize); w.data(c.bytes)
        }
    }

    private static func decodeBody(_ command: Command, _ r: inout WireReader) throws -> Message {
        switch command {
        case .hello:
            let id = try r.string("worker_id", max: 255)
            guard WorkerID.isValid(id) else { throw WireError("field 'worker_id': expected 1-255 printable ASCII bytes without spaces") }
            return .hello(Hello(
                workerID: id, versions: try r.array("versions") { try $0.u8("versions[]") }, incarnation: try r.u64("incarnation"),
                build: try r.string("build", max: 1024), cores: try r.count("cores", max: 65_536),
                slots: try r.count("slots", max: WireLimits.maxSlots), draining: try r.bool("draining"),
                running: try r.array("running") { RunningAttempt(ref: try $0.ref("running[]"), phase: try $0.string("running[].phase", max: 1024)) },
                unacknowledged: try r.array("unacknowledged") {
                    UnacknowledgedResult(ref: try $0.ref("unacknowledged[]"), digest: try $0.hex64("unacknowledged[].digest"))
                },
                cached: try r.array("cached") { try $0.hex64("cached[]") }))
        case .welcome:
            return .welcome(Welcome(
                incarnation: try r.u64("incarnation"), version: try r.u8("version"),
                heartbeatMilliseconds: try r.count("heartbeat_ms", max: 3_600_000), liveness: try r.count("liveness", max: 1000),
                leaseMilliseconds: try r.count("lease_ms", max: 86_400_000),
                adopted: try r.array("adopted") { try $0.ref("adopted[]") }, cancelled: try r.array("cancelled") { try $0.ref("cancelled[]") }))
        case .assign:
            return .assign(Assign(
                ref: try r.ref("assign"), experimentJSON: try r.data("experiment", max: WireLimits.maxExperimentJSON),
                threads: try r.count("threads", max: 4096),
                inputs: try r.array("inputs") {
                    Input(role: try $0.string("inputs[].role", max: 64), experiment: try $0.hex64("inputs[].experiment"),
                          digest: try $0.hex64("inputs[].digest"), size: try $0.count("inputs[].size", max: 1 << 40))
                }))
        case .progress:
            return .progress(Progress(ref: try r.ref("progress"), sequence: try r.u64("sequence"),
                                      phase: try r.string("phase", max: 256), detail: try r.string("detail", max: 4096)))
        case .result:
            let ref = try r.ref("result")
            let outcome = try r.choice("outcome", AttemptOutcome.self)
            let failureClass = try r.bool("failure_class") ? try r.choice("failure_class", FailureClass.self) : nil
            return .result(ResultReport(
                ref: ref, outcome: outcome, failureClass: failureClass, retryable: try r.bool("retryable"),
                message: try r.string("message"), exitStatus: try r.i32("exit_status"),
                body: try r.data("body", max: WireLimits.maxResultBody), digest: try r.hex64("digest")))
        case .ack:
            let ref = try r.ref("ack"), digest = try r.hex64("digest"), disposition = try r.choice("disposition", ResultDisposition.self)
            return .ack(Ack(ref: ref, digest: digest, disposition: disposition))
        case .cancel:
            return .cancel(Cancel(ref: try r.ref("cancel"), reason: try r.string("reason", max: 1024)))
        case .drain:
            let mode = try r.choice("mode", DrainMode.self)
            return .drain(Drain(mode: mode, deadlineSeconds: try r.count("deadline", max: 86_400), reason: try r.string("reason", max: 1024)))
        case .heartbeat:
            return .heartbeat(Heartbeat(sequence: try r.u64("sequence"), incarnation: try r.u64("incarnation"),
                                        freeSlots: try r.count("free_slots", max: WireLimits.maxSlots),
                                        running: try r.array("running") { try $0.ref("running[]") }, draining: try r.bool("draining")))
        case .disconnect:
            return .disconnect(reason: try r.string("reason", max: 1024))
        case .fetch:
            return .fetch(Fetch(digest: try r.hex64("digest"), offset: try r.count("offset", max: 1 << 40),
                                length: try r.count("length", max: WireLimits.maxChunk)))
        case .chunk:
            let digest = try r.hex64("digest"), offset = try r.count("offset", max: 1 << 40)
            let total = try r.int("total_size")
            guard total >= -1, total < 1 << 40 else { throw WireError("field 'total_size': out of range") }
            return .chunk(Chunk(digest: digest, offset: offset, totalSize: total, bytes: try r.data("bytes", max: WireLimits.maxChunk)))
        }
    }
}

extension WireWriter {
    mutating func ref(_ r: AttemptRef) { string(r.experiment); int(r.attempt) }
}

extension WireReader {
    mutating func ref(_ field: String) throws -> AttemptRef {
        AttemptRef(try hex64("\(field).experiment"), try count("\(field).attempt", max: WireLimits.maxAttempt))
    }
}
