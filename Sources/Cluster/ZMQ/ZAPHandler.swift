import CZeroMQ
import Foundation

/// The ZAP (RFC 27) authentication handler: a REP socket at `inproc://zeromq.zap.01`, bound
/// before any server socket, that admits CURVE clients whose public key is on the allowlist and
/// names them by their worker ID (the User-Id). Everything else is refused (cluster.md §13).
public final class ZAPHandler {
    public let socket: ZMQSocket
    private(set) var allowlist: Allowlist
    private let allowlistPath: String?
    private var allowlistModified: Date?
    /// Refused public keys (Z85) and how often, for the log.
    public private(set) var refusals = 0
    private let log: (String) -> Void

    public init(context: ZMQContext, allowlistPath: String?, allowlist: Allowlist = Allowlist(workers: [:]), log: @escaping (String) -> Void) throws {
        socket = try ZMQSocket(context, type: ZMQ_REP)
        try socket.set(ZMQ_LINGER, Int32(0))
        try socket.bind("inproc://zeromq.zap.01")
        self.allowlistPath = allowlistPath
        self.allowlist = allowlist
        self.log = log
        if let path = allowlistPath {
            self.allowlist = try Allowlist.load(path)
            allowlistModified = Self.modified(path)
        }
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Rereads the allowlist if its file changed; a broken file keeps the old list (logged).
    public func reloadIfChanged() {
        guard let path = allowlistPath, let m = Self.modified(path), m != allowlistModified else { return }
        allowlistModified = m
        do {
            allowlist = try Allowlist.load(path)
            log("allowlist reloaded: \(allowlist.workers.count) workers")
        } catch {
            log("allowlist not reloaded: \(error)")
        }
    }

    /// Answers every waiting ZAP request.
    public func serve() throws {
        while let request = try socket.receive() {
            let reply = decide(request.frames)
            try socket.send(reply, dontWait: false)
        }
    }

    /// The reply frames for one request: version, request ID, status code and text, user ID, metadata.
    func decide(_ f: [[UInt8]]) -> [[UInt8]] {
        guard f.count >= 6, String(decoding: f[0], as: UTF8.self) == "1.0" else {
            return [Array("1.0".utf8), f.count > 1 ? f[1] : [], Array("500".utf8), Array("malformed request".utf8), [], []]
        }
        let requestID = f[1]
        let mechanism = String(decoding: f[5], as: UTF8.self)
        func refuse(_ why: String) -> [[UInt8]] {
            refusals += 1
            log("authentication refused: \(why) (address \(String(decoding: f[3], as: UTF8.self)))")
            return [Array("1.0".utf8), requestID, Array("400".utf8), Array(why.utf8), [], []]
        }
        guard mechanism == "CURVE", f.count >= 7, f[6].count == 32 else { return refuse("mechanism \(mechanism) not allowed") }
        let key = Z85.encode(f[6])
        guard let worker = allowlist.workers[key] else { return refuse("public key \(key) not on the allowlist") }
        return [Array("1.0".utf8), requestID, Array("200".utf8), Array("OK".utf8), Array(worker.utf8), []]
    }
}
