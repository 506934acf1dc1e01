import CZeroMQ
import Foundation

/// CURVE settings of one side (cluster.md §13).
public struct CurveSettings: Sendable {
    /// This side's key pair.
    public var keys: CurveKeyPair
    /// Client side: the coordinator's public key. Server side: nil.
    public var serverPublicKey: String?
    public init(keys: CurveKeyPair, serverPublicKey: String? = nil) { self.keys = keys; self.serverPublicKey = serverPublicKey }
}

/// Builds the sockets with the options of cluster.md §14.2.
enum SocketFactory {
    static func coordinatorRouter(_ context: ZMQContext, curve: CurveSettings?) throws -> ZMQSocket {
        let s = try ZMQSocket(context, type: ZMQ_ROUTER)
        try s.set(ZMQ_ROUTER_MANDATORY, Int32(1))
        try s.set(ZMQ_ROUTER_HANDOVER, Int32(1))
        try s.set(ZMQ_LINGER, Int32(1000))
        try s.set(ZMQ_SNDHWM, Int32(10_000))
        try s.set(ZMQ_RCVHWM, Int32(10_000))
        try s.set(ZMQ_MAXMSGSIZE, Int64(WireLimits.maxMessage))
        try s.set(ZMQ_HEARTBEAT_IVL, Int32(1000))
        try s.set(ZMQ_HEARTBEAT_TIMEOUT, Int32(3000))
        try s.set(ZMQ_TCP_KEEPALIVE, Int32(1))
        if let curve {
            try s.set(ZMQ_CURVE_SERVER, Int32(1))
            try s.setCurveKey(ZMQ_CURVE_SECRETKEY, z85: curve.keys.secretKey)
            try s.set(ZMQ_ZAP_DOMAIN, string: "pruningbench")
        }
        return s
    }

    static func workerDealer(_ context: ZMQContext, workerID: String, curve: CurveSettings?) throws -> ZMQSocket {
        let s = try ZMQSocket(context, type: ZMQ_DEALER)
        try s.set(ZMQ_ROUTING_ID, string: workerID)
        try s.set(ZMQ_IMMEDIATE, Int32(1))
        try s.set(ZMQ_RECONNECT_IVL, Int32(100))
        try s.set(ZMQ_RECONNECT_IVL_MAX, Int32(5000))
        try s.set(ZMQ_LINGER, Int32(0))
        try s.set(ZMQ_MAXMSGSIZE, Int64(WireLimits.maxMessage))
        try s.set(ZMQ_HEARTBEAT_IVL, Int32(1000))
        try s.set(ZMQ_HEARTBEAT_TIMEOUT, Int32(3000))
        try s.set(ZMQ_HEARTBEAT_TTL, Int32(5000))
        try s.set(ZMQ_TCP_KEEPALIVE, Int32(1))
        if let curve, let server = curve.serverPublicKey {
            try s.setCurveKey(ZMQ_CURVE_SERVERKEY, z85: server)
            try s.setCurveKey(ZMQ_CURVE_PUBLICKEY, z85: curve.keys.publicKey)
            try s.setCurveKey(ZMQ_CURVE_SECRETKEY, z85: curve.keys.secretKey)
        }
        return s
    }

    /// The coordinator's operator socket: local requests of at most 1 MiB, dropped at close.
    static func controlRouter(_ context: ZMQContext) throws -> ZMQSocket {
        let s = try ZMQSocket(context, type: ZMQ_ROUTER)
        try s.set(ZMQ_LINGER, Int32(0))
        try s.set(ZMQ_MAXMSGSIZE, Int64(WireLimits.maxControlMessage))
        return s
    }

    /// An operator command's socket to the coordinator.
    static func controlClient(_ context: ZMQContext) throws -> ZMQSocket {
        let s = try ZMQSocket(context, type: ZMQ_DEALER)
        try s.set(ZMQ_LINGER, Int32(0))
        return s
    }
}
