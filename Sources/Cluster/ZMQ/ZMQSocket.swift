import CZeroMQ
import Foundation

/// A libzmq call that failed, with the call's name and libzmq's message.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32
    public init(_ operation: String, code: Int32 = zmq_errno()) {
        self.operation = operation
        self.code = code
    }
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }
}

/// A ZeroMQ context. Sockets must be closed before the context is terminated (`close()`),
/// otherwise termination blocks (cluster.md §14.3).
public final class ZMQContext {
    let handle: UnsafeMutableRawPointer
    private var closed = false

    public init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQError("zmq_ctx_new") }
        handle = h
    }

    /// Terminates the context; every socket of it must already be closed.
    public func close() {
        guard !closed else { return }
        closed = true
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    deinit { close() }
}

/// One received multipart message: its frames, and the ZAP `User-Id` of its last frame (set by
/// the authentication handler on CURVE connections; nil without authentication).
public struct ZMQMessage: Sendable, Equatable {
    public var frames: [[UInt8]]
    public var userID: String?
}

/// A ZeroMQ socket, confined to the thread that uses it (ROUTER and DEALER are not thread-safe).
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    private var closed = false

    public init(_ context: ZMQContext, type: Int32) throws {
        guard let h = zmq_socket(context.handle, type) else { throw ZMQError("zmq_socket") }
        handle = h
    }

    public func set(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func set(_ option: Int32, _ value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    /// Sets a binary or string option (for string options pass the UTF-8 bytes; CURVE keys in Z85
    /// are passed with their terminating NUL by `setCurveKey`).
    public func set(_ option: Int32, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, bytes.count) }
        guard rc == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func set(_ option: Int32, string: String) throws { try set(option, bytes: Array(string.utf8)) }

    /// Sets a CURVE key option from its 40-character Z85 text (libzmq takes 41 bytes with the NUL).
    public func setCurveKey(_ option: Int32, z85: String) throws { try set(option, bytes: Array(z85.utf8) + [0]) }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError("bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError("connect \(endpoint)") }
    }

    /// Sends `frames` as one multipart message. Returns false when the message could not be queued
    /// now (EAGAIN with `dontWait`) or the peer is unknown to a ROUTER with ROUTER_MANDATORY
    /// (EHOSTUNREACH); other errors throw.
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = true) throws -> Bool {
        for (i, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if i < frames.count - 1 { flags |= ZMQ_SNDMORE }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
                if rc >= 0 { break }
                let e = zmq_errno()
                if e == EINTR { continue }
                if e == EAGAIN || e == EHOSTUNREACH { return false }
                throw ZMQError("zmq_send", code: e)
            }
        }
        return true
    }

    /// Receives one multipart message; nil if none is waiting (`dontWait`).
    public func receive(dontWait: Bool = true) throws -> ZMQMessage? {
        var frames = [[UInt8]]()
        var userID: String?
        while true {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            var rc: Int32
            repeat { rc = zmq_msg_recv(&msg, handle, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0) }
            while rc < 0 && zmq_errno() == EINTR
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN { return nil }
                throw ZMQError("zmq_msg_recv", code: e)
            }
            let size = zmq_msg_size(&msg)
            if size > 0, let data = zmq_msg_data(&msg) {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            let more = zmq_msg_more(&msg) != 0
            if !more {
                if let p = zmq_msg_gets(&msg, "User-Id") { userID = String(cString: p) }
                return ZMQMessage(frames: frames, userID: userID)
            }
        }
    }

    /// Closes the socket (linger applies). Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    deinit { close() }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for any of `sockets` to be readable.
    /// Returns one flag per socket. EINTR returns all false.
    public static func pollReadable(_ sockets: [ZMQSocket], timeoutMilliseconds: Int) throws -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
        if rc < 0 {
            if zmq_errno() == EINTR { return Array(repeating: false, count: sockets.count) }
            throw ZMQError("zmq_poll")
        }
        return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
    }
}
