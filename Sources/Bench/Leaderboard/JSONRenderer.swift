import Foundation

/// Renders a `LeaderboardReport` as pretty JSON with sorted keys (the whole model).
public enum JSONRenderer {
    public static func render(_ report: LeaderboardReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }
}
