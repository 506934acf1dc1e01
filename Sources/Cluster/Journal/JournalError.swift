/// An error opening, reading or updating a journal. Its description names the file and what was
/// expected, e.g. `runs/j.db: not a prunebench journal (no journal_meta table)`.
public struct JournalError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, for callers that react differently to each case.
    public enum Kind: String, Sendable {
        /// The file is not an SQLite database, or not one written by prunebench.
        case notAJournal
        /// The journal was written by a newer or older build than this one can read.
        case unsupportedVersion
        /// An operation named an experiment ID the journal does not declare.
        case unknownExperiment
        /// An operation is not allowed in the experiment's current state.
        case invalidTransition
        /// A merge output already exists, or a merge input does not.
        case badPath
        /// A stored result body does not decode as an `ExperimentResult`.
        case badResult
    }

    public var kind: Kind
    /// The journal file (or `merge`) the error is about.
    public var file: String
    /// What was expected, in words.
    public var reason: String

    public init(_ kind: Kind, file: String, _ reason: String) {
        self.kind = kind
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
