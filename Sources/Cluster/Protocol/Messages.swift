import Foundation

/// One attempt of one experiment: the idempotency key and fencing token of every message about
/// an execution (cluster.md §4.2).
public struct AttemptRef: Sendable, Hashable, Codable, CustomStringConvertible {
    public var experiment: String
    public var attempt: Int
    public init(_ experiment: String, _ attempt: Int) { self.experiment = experiment; self.attempt = attempt }
    public var description: String { "\(experiment.prefix(12))#\(attempt)" }
}

/// The protocol messages (cluster.md §5.1) plus the artifact transfer pair FETCH/CHUNK (§10).
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case welcome(Welcome)
    case assign(Assign)
    case progress(Progress)
    case result(ResultReport)
    case ack(Ack)
    case cancel(Cancel)
    case drain(Drain)
    case heartbeat(Heartbeat)
    case disconnect(reason: String)
    case fetch(Fetch)
    case chunk(Chunk)

    public struct Hello: Sendable, Equatable {
        public var workerID: String
        public var versions: [UInt8] = [ClusterProtocol.version]
        public var incarnation: UInt64
        public var build: String
        public var cores: Int
        public var slots: Int
        public var draining: Bool
        public var running: [RunningAttempt]
        public var unacknowledged: [UnacknowledgedResult]
        /// Digests of checkpoints the worker holds.
        public var cached: [String]
    }
    public struct RunningAttempt: Sendable, Equatable {
        public var ref: AttemptRef
        public var phase: String
    }
    public struct UnacknowledgedResult: Sendable, Equatable {
        public var ref: AttemptRef
        public var digest: String
    }
    public struct Welcome: Sendable, Equatable {
        public var incarnation: UInt64
        public var version: UInt8 = ClusterProtocol.version
        public var heartbeatMilliseconds: Int
        public var liveness: Int
        public var leaseMilliseconds: Int
        public var adopted: [AttemptRef]
        public var cancelled: [AttemptRef]
    }
    /// An input file of an attempt, by content: e.g. the base checkpoint of a pruning experiment.
    public struct Input: Sendable, Equatable {
        public var role: String
        /// The experiment that produced it (its artifact directory name on the worker).
        public var experiment: String
        public var digest: String
        public var size: Int
    }
    public struct Assign: Sendable, Equatable {
        public var ref: AttemptRef
        /// The experiment as `prunebench run --spec -` reads it (a `grid --json` entry).
        public var experimentJSON: [UInt8]
        public var threads: Int
        public var inputs: [Input]
    }
    public struct Progress: Sendable, Equatable {
        public var ref: AttemptRef
        public var sequence: UInt64
        public var phase: String
        public var detail: String
    }
    public struct ResultReport: Sendable, Equatable {
        public var ref: AttemptRef
        public var outcome: AttemptOutcome
        public var failureClass: FailureClass?
        public var retryable: Bool
        public var message: String
        public var exitStatus: Int32
        /// The `ExperimentResult` JSON for a success; empty otherwise.
        public var body: [UInt8]
        /// SHA-256 (hex) of `body`.
        public var digest: String
    }
    public struct Ack: Sendable, Equatable {
        public var ref: AttemptRef
        public var digest: String
        public var disposition: ResultDisposition
    }
    public struct Cancel: Sendable, Equatable {
        public var ref: AttemptRef
        public var reason: String
    }
    public struct Drain: Sendable, Equatable {
        public var mode: DrainMode
        public var deadlineSeconds: Int
        public var reason: String
    }
    public struct Heartbeat: Sendable, Equatable {
        public var sequence: UInt64
        public var incarnation: UInt64
        public var freeSlots: Int
        public var running: [AttemptRef]
        public var draining: Bool
    }
    public struct Fetch: Sendable, Equatable {
        public var digest: String
        public var offset: Int
        public var length: Int
    }
    public struct Chunk: Sendable, Equatable {
        public var digest: String
        public var offset: Int
        /// Size of the whole artifact; -1 when the holder does not have it.
        public var totalSize: Int
        public var bytes: [UInt8]
    }

    /// Command bytes of the wire format.
    public enum Command: UInt8, Sendable, CaseIterable {
        case hello = 0x01, welcome, assign, progress, result, ack, cancel, drain, heartbeat, disconnect, fetch, chunk
    }

    public var command: Command {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .assign: .assign
        case .progress: .progress
        case .result: .result
        case .ack: .ack
        case .cancel: .cancel
        case .drain: .drain
        case .heartbeat: .heartbeat
        case .disconnect: .disconnect
        case .fetch: .fetch
        case .chunk: .chunk
        }
    }
}

/// Sizes bounded by the protocol: a peer cannot make the other side allocate more.
public enum WireLimits {
    /// The largest message of the worker socket.
    public static let maxMessage = 16 << 20
    /// The largest request of the operator (control) socket.
    public static let maxControlMessage = 1 << 20
    public static let maxExperimentJSON = 1 << 20
    public static let maxResultBody = 8 << 20
    public static let maxChunk = 1 << 20
    public static let chunkSize = 256 << 10
    public static let chunkCredit = 10
    public static let maxAttempt = 1_000_000
    public static let maxSlots = 1024
}

/// How a draining worker stops: `finish` its running attempts, or `checkpoint` (cancel them
/// now; they are reassigned).
public enum DrainMode: String, Sendable, CaseIterable, Codable {
    case finish, checkpoint
}
