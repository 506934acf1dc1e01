import Experiments
import Bench
@testable import Cluster
import Foundation
import XCTest

/// A worker connection driven by a test: says HELLO as `id`, then sends and receives protocol
/// messages one by one (a hostile or faulty peer the real daemons are tested against).
final class ScriptedPeer {
    let id: String
    let socket: ZMQSocket

    /// Connects to `endpoint` and says HELLO (with `slots`) until the coordinator answers WELCOME.
    init(_ id: String, context: ZMQContext, endpoint: String, slots: Int, curve: CurveSettings? = nil,
         file: StaticString = #filePath, line: UInt = #line) throws {
        self.id = id
        socket = try SocketFactory.workerDealer(context, workerID: id, curve: curve)
        try socket.connect(endpoint)
        let hello = Message.hello(.init(workerID: id, incarnation: 1, build: "test", cores: 1, slots: slots, draining: false,
                                        running: [], unacknowledged: [], cached: []))
        let deadline = Date().addingTimeInterval(20)
        var welcomed = false
        while !welcomed, Date() < deadline {
            _ = try socket.send(hello.frames(), dontWait: true)
            if case .welcome? = try receive(timeout: 0.5) { welcomed = true }
        }
        XCTAssertTrue(welcomed, "no WELCOME for \(id)", file: file, line: line)
    }

    deinit { socket.close() }

    func send(_ message: Message) throws { XCTAssertTrue(try socket.send(message.frames(), dontWait: false)) }

    /// The next protocol message within `timeout` seconds, if any.
    func receive(timeout: TimeInterval) throws -> Message? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let m = try socket.receive(dontWait: true) { return try Message.decode(m.frames) }
            usleep(10_000)
        } while Date() < deadline
        return nil
    }

    /// Receives until `match` returns a value (other messages are dropped), or nil after `timeout`.
    func await<T>(timeout: TimeInterval, _ match: (Message) -> T?) throws -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = try receive(timeout: 0.1), let v = match(m) { return v }
        }
        return nil
    }

    /// A RESULT reporting success for `ref` with `body` (digest computed).
    static func success(_ ref: AttemptRef, body: [UInt8]) -> Message {
        .result(.init(ref: ref, outcome: .succeeded, failureClass: nil, retryable: false,
                      message: "", exitStatus: 0, body: body, digest: ContentDigest.hex(body)))
    }
}
