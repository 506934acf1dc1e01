/// A failure to report to the user as one line ("Error: ...") with exit status 1: bad input
/// found after argument parsing (a config file, a checkpoint, a data set).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: Error) { description = String(describing: error) }
    init(_ message: String) { description = message }
}
