import Foundation
import Tensor
import XCTest

/// LAPACK singular values and the Sturm-count rank: exact values on known matrices, and the count
/// above `c · σ_max` equal to the count over `dgesdd`'s values on random matrices of every shape
/// class (full rank, low rank, zero, tall, wide, 1 × n), away from the tolerance.
final class SingularValueTests: XCTestCase {
    func testKnownValues() {
        let s = SingularValueSolver(rows: 2, cols: 3)
        s.compute(rowMajor: [3, 0, 0, 0, 4, 0])
        XCTAssertEqual(s.values[0], 4, accuracy: 1e-12); XCTAssertEqual(s.values[1], 3, accuracy: 1e-12)
        XCTAssertEqual(s.countAbove(rowMajor: [3, 0, 0, 0, 4, 0], relativeTolerance: 0.5), 2)
        XCTAssertEqual(s.countAbove(rowMajor: [3, 0, 0, 0, 4, 0], relativeTolerance: 0.8), 1)
        XCTAssertEqual(s.countAbove(rowMajor: [Double](repeating: 0, count: 6), relativeTolerance: 1e-6), 0)
    }

    func testCountAboveAgreesWithAllValues() {
        var g = SystemRandomNumberGenerator()
        for (rows, cols) in [(1, 1), (1, 7), (7, 1), (4, 4), (7, 7), (14, 14), (28, 28), (5, 9), (9, 5), (32, 17)] {
            let solver = SingularValueSolver(rows: rows, cols: cols)
            for rank in [0, 1, 2, min(rows, cols)] {
                // A sum of `rank` random outer products, plus tiny noise on half of the trials.
                var a = [Double](repeating: 0, count: rows * cols)
                for _ in 0..<rank {
                    let u = (0..<rows).map { _ in Double.random(in: -1...1, using: &g) }
                    let v = (0..<cols).map { _ in Double.random(in: -1...1, using: &g) }
                    for i in 0..<rows { for j in 0..<cols { a[i * cols + j] += u[i] * v[j] } }
                }
                for noisy in [false, true] {
                    let m = noisy ? a.map { $0 + Double.random(in: -1e-9...1e-9, using: &g) } : a
                    for c in [1e-12, 3.3e-6, 1e-3, 0.3] {
                        solver.compute(rowMajor: m)
                        let top = solver.values.max() ?? 0
                        let tol = c * top
                        // Skip draws with a value within 10⁻⁸ relative of the tolerance (either count is right).
                        if solver.values.contains(where: { abs($0 - tol) <= 1e-8 * max(top, 1e-300) }) { continue }
                        let expected = top > 0 ? solver.values.filter { $0 > tol }.count : 0
                        XCTAssertEqual(solver.countAbove(rowMajor: m, relativeTolerance: c), expected,
                                       "\(rows)x\(cols) rank \(rank) noisy \(noisy) c \(c)")
                    }
                }
            }
        }
    }
}
