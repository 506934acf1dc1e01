import Foundation
import NN

/// Locates the test fixtures copied from ../shared/golden into Tests/Fixtures.
public enum Fixtures {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    public static func safetensors(_ relative: String) throws -> SafeTensors { try SafeTensors.read(path(relative)) }

    public static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(relative)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}
