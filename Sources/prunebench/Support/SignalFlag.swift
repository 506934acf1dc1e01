import Foundation

/// Set when one of the watched signals arrives (handled on a dispatch queue, never in a signal
/// handler); the command's loop polls it and shuts down in order.
final class SignalFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var sources: [DispatchSourceSignal] = []

    /// Watches `signals` (their default action is disabled until `stop()`).
    init(_ signals: [Int32]) {
        for s in signals {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler { [weak self] in self?.set() }
            source.resume()
            sources.append(source)
        }
    }

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }

    /// Stops watching and restores the default actions.
    func stop() {
        for s in sources { s.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
