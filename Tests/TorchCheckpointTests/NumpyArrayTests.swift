import XCTest
@testable import TorchCheckpoint

/// `ObjectTreeMode.numpyArrays` and ``NumpyArray`` on hand-written pickles of `numpy.ndarray`s.
final class NumpyArrayTests: XCTestCase {
    /// A pickle of one array, written the way NumPy's `__reduce__` does (Python 2 str for the data).
    private func arrayPickle(code: String, order: String = "<", shape: [Int], fortran: Bool = false, data: [UInt8],
                             module: String = "numpy.core.multiarray") -> [UInt8] {
        var p = PickleBytes()
        p.proto()
        p.global(module, "_reconstruct")
        p.mark(); p.global("numpy", "ndarray"); p.mark(); p.int(0); p.tuple(); p.string("b"); p.tuple()
        p.reduce()
        p.mark()
        p.int(1)
        p.mark(); for d in shape { p.int(d) }; p.tuple()
        p.global("numpy", "dtype"); p.mark(); p.string(code); p.int(0); p.int(1); p.tuple(); p.reduce()
        p.mark(); p.int(3); p.string(order); p.none(); p.none(); p.none(); p.int(-1); p.int(-1); p.int(0); p.tuple(); p.build()
        p.bool(fortran)
        p.bytes += [0x54] + TestZip.le(UInt64(data.count), 4) + data   // BINSTRING
        p.tuple()
        p.build()
        p.stop()
        return p.bytes
    }

    private func read(_ pickle: [UInt8]) throws -> NumpyArray {
        try NumpyArray(try TorchCheckpoint.readPickle(bytes: pickle, name: "batch", mode: .numpyArrays), role: "'data'", file: "batch")
    }

    func testReadsArraysOfEachDtypeInCOrder() throws {
        let data: [UInt8] = [0xFF, 0xFE, 0x80, 0x00, 0x01, 0x7F]   // not UTF-8: kept as bytes
        let a = try read(arrayPickle(code: "u1", order: "|", shape: [2, 3], data: data))
        XCTAssertEqual(a.dtype, .uint8)
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.bytes, data)
        // Valid UTF-8 data survives byte for byte too, and NumPy 2's module spelling is read.
        let text = Array("héllo!".utf8)
        XCTAssertEqual(try read(arrayPickle(code: "u1", order: "|", shape: [text.count], data: text, module: "numpy._core.multiarray")).bytes, text)
        let ints = f32Bytes([1, 2, 3, 4])
        XCTAssertEqual(try read(arrayPickle(code: "f4", shape: [4], data: ints)).dtype, .float32)
        // Fortran order [2, 3] int16: column-major 1 4 2 5 3 6 becomes 1 2 3 4 5 6.
        let column: [UInt8] = [1, 0, 4, 0, 2, 0, 5, 0, 3, 0, 6, 0]
        let f = try read(arrayPickle(code: "i2", shape: [2, 3], fortran: true, data: column))
        XCTAssertEqual(f.bytes, [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0])
    }

    func testBadArraysAreOneErrorNamingTheField() throws {
        func message(_ pickle: [UInt8]) -> String {
            do { _ = try read(pickle); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(arrayPickle(code: "u1", shape: [2, 3], data: [1, 2, 3])).contains("holds 3 bytes"))
        XCTAssertTrue(message(arrayPickle(code: "O", shape: [1], data: [0])).contains("dtype 'O'"))
        XCTAssertTrue(message(arrayPickle(code: "i4", order: ">", shape: [1], data: [0, 0, 0, 1])).contains("big-endian"))
        // Other globals stay refused in this mode, naming them.
        var p = PickleBytes()
        p.proto(); p.global("posix", "system"); p.mark(); p.string("true"); p.tuple(); p.reduce(); p.stop()
        let error = assertCheckpointError(try TorchCheckpoint.readPickle(bytes: p.bytes, name: "evil", mode: .numpyArrays))
        XCTAssertEqual(error?.kind, .refusedGlobal("posix.system"))
        // A pickled dict that is no array.
        var d = PickleBytes()
        d.proto(); d.emptyDict(); d.stop()
        XCTAssertTrue(message(d.bytes).contains("expected a pickled numpy.ndarray"))
        // Not a pickle at all.
        XCTAssertNotNil(assertCheckpointError(try TorchCheckpoint.readPickle(bytes: [0x50, 0x4B], name: "x", mode: .numpyArrays)))
    }
}
