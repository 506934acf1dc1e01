import XCTest

extension XCTestCase {
    /// Every relative error from ``GradientCheck`` is below the 1e-3 the kernels are held to.
    func assertSmall(_ errors: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for (i, e) in errors.enumerated() {
            XCTAssertLessThan(e, 1e-3, "\(what): input \(i) relative error \(e)", file: file, line: line)
        }
    }
}
