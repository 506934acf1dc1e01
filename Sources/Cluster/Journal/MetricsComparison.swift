import Experiments
import Foundation

/// Compares the `metrics` of two result bodies (`ExperimentResult` JSON, cluster.md §12). A body
/// is decoded as an `ExperimentResult`, which ignores unknown fields, and its metrics re-encoded as
/// a JSON object, so only the fields this build knows are compared.
enum MetricsComparison {
    /// The `metrics` of a result body as a JSON object.
    static func metrics(of body: Data) throws -> [String: JSONValue] {
        let result = try JSONDecoder().decode(ExperimentResult.self, from: body)
        guard case .object(let metrics) = try JSONDecoder().decode(JSONValue.self, from: result.metricsJSON()) else {
            throw MetricsError()
        }
        return metrics
    }

    /// The metric keys whose values disagree (present on one side only, or different), sorted.
    static func differingKeys(_ a: [String: JSONValue], _ b: [String: JSONValue]) -> [String] {
        Set(a.keys).union(b.keys).filter { key in
            guard let x = a[key], let y = b[key] else { return true }
            return !agree(x, y)
        }.sorted()
    }

    /// Whether two values agree: integers (integral numbers below 2^53), strings and booleans
    /// exactly; other numbers within `|a - b| <= 1e-9 * max(1, |a|)`; arrays and objects element
    /// by element.
    static func agree(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if isInteger(x) && isInteger(y) { return x == y }
            return abs(x - y) <= 1e-9 * max(1, abs(x))
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy(agree)
        case (.object(let x), .object(let y)):
            return differingKeys(x, y).isEmpty
        default:
            return a == b
        }
    }

    private static func isInteger(_ x: Double) -> Bool {
        x.rounded() == x && abs(x) < 9_007_199_254_740_992
    }

    /// Metrics that do not encode as a JSON object.
    struct MetricsError: Error {}
}
