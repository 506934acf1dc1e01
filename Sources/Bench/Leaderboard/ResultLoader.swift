import Experiments
import Foundation

/// A result source that cannot be read, and why: one line naming the file (and line).
public struct LeaderboardError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads experiment results for the leaderboards.
public enum ResultLoader {
    /// Loads results from a `results.jsonl` file, or from a sweep artifact directory: its
    /// `results.jsonl` if present, else every `<id>/result.json` below it.
    /// - Throws: `LeaderboardError` naming the file (and line) of the first bad entry.
    public static func load(path: String) throws -> [ExperimentResult] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LeaderboardError("\(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return try loadJSONLines(path: path) }
        let url = URL(fileURLWithPath: path)
        let jsonl = url.appendingPathComponent("results.jsonl").path
        if FileManager.default.fileExists(atPath: jsonl) { return try loadJSONLines(path: jsonl) }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let files = entries.sorted().map { url.appendingPathComponent($0).appendingPathComponent("result.json").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard !files.isEmpty else { throw LeaderboardError("\(path): neither results.jsonl nor any */result.json found") }
        return try files.map { file in
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                throw LeaderboardError("\(file): cannot read (\(error.localizedDescription))")
            }
            return try decode(data, at: file)
        }
    }

    /// Loads one result per non-empty line of a JSON Lines file.
    public static func loadJSONLines(path: String) throws -> [ExperimentResult] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LeaderboardError("\(path): cannot read (\(error.localizedDescription))")
        }
        return try parseJSONLines(text, source: path)
    }

    /// Parses JSON Lines text; `source` names the file in errors ("source:line: ...").
    public static func parseJSONLines(_ text: String, source: String) throws -> [ExperimentResult] {
        var results = [ExperimentResult]()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            results.append(try decode(Data(trimmed.utf8), at: "\(source):\(index + 1)"))
        }
        return results
    }

    /// Decodes one result; `location` is "file" or "file:line".
    static func decode(_ data: Data, at location: String) throws -> ExperimentResult {
        do {
            return try JSONDecoder().decode(ExperimentResult.self, from: data)
        } catch let error as DecodingError {
            throw LeaderboardError("\(location): not an experiment result: \(describe(error))")
        } catch {
            throw LeaderboardError("\(location): not an experiment result: \(error)")
        }
    }

    /// A one-line description of a decoding error, naming the key path.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return keys.isEmpty ? "" : " at '\(keys)'"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.debugDescription)\(path(context))"
        case .dataCorrupted(let context): return "invalid JSON\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
