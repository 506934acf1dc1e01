import Foundation

/// Settings of the coordinator (cluster.md §8 timers, §13 security).
public struct CoordinatorConfig: Sendable {
    /// Worker endpoint, e.g. `tcp://*:5555`.
    public var bind: String
    /// Operator endpoint (status, drain, cancel), e.g. `ipc:///path/journal.db.control`.
    public var control: String
    public var journalPath: String
    /// Content-addressed store of checkpoints that travel between workers.
    public var storePath: String
    public var heartbeatMilliseconds = 1000
    public var liveness = 3
    public var leaseMilliseconds = 60_000
    public var curve: CurveSettings?
    public var allowlistPath: String?
    /// Stop (and tell workers the sweep is complete) once every experiment is terminal.
    public var exitWhenDone = false
    /// Threads per job sent in ASSIGN (0: the worker's own default, cores / slots).
    public var threadsPerJob = 0

    public init(bind: String, control: String, journalPath: String, storePath: String) {
        self.bind = bind; self.control = control; self.journalPath = journalPath; self.storePath = storePath
    }

    /// The default operator endpoint of a journal: an ipc socket beside it.
    public static func defaultControl(journal: String) -> String {
        "ipc://" + URL(fileURLWithPath: journal).standardizedFileURL.path + ".control"
    }

    var heartbeat: TimeInterval { Double(heartbeatMilliseconds) / 1000 }
    var suspectAfter: TimeInterval { heartbeat * Double(liveness) }
    var lease: TimeInterval { Double(leaseMilliseconds) / 1000 }
}

/// One connected worker as the coordinator sees it.
struct WorkerSession {
    let id: String
    var incarnation: UInt64
    var slots: Int
    var cores: Int
    var build: String
    var draining: Bool
    var lastSeen: Date
    var lastSent: Date = .distantPast
    var lastHeartbeatSequence: UInt64 = 0
    /// Attempts this worker holds that are current at the coordinator, with the time of their ASSIGN
    /// (or adoption).
    var held: [AttemptRef: Date] = [:]
    var cached: Set<String>
    var suspectLogged = false
    var credit: Int { max(0, slots - held.count) }
}
