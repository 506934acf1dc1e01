import Experiments
import Foundation
import XCTest

/// SHA-256 through swift-crypto: FIPS 180-2 appendix B test vectors, the empty message, and
/// files hashed in blocks.
final class ContentDigestTests: XCTestCase {
    func testOneBlockMessageABC() {
        XCTAssertEqual(ContentDigest.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testEmptyMessage() {
        XCTAssertEqual(ContentDigest.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testTwoBlock448BitMessage() {
        XCTAssertEqual(ContentDigest.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testPaddingBoundaries() {
        // 55, 56 and 64 bytes straddle the length-field boundary; digest length is always 32.
        XCTAssertEqual(ContentDigest.hex(String(repeating: "a", count: 55)), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        XCTAssertEqual(ContentDigest.hex(String(repeating: "a", count: 56)), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        XCTAssertEqual(ContentDigest.hex(String(repeating: "a", count: 64)), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    /// The million-'a' vector, hashed from memory and from a file; and a file of 2.5 MiB of varied
    /// bytes, whose streamed digest (three 1 MiB blocks) equals the in-memory one.
    func testFilesAreHashedInBlocks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let vector = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        XCTAssertEqual(ContentDigest.hex(million), vector)
        try Data(million).write(to: dir.appendingPathComponent("a"))
        XCTAssertEqual(try ContentDigest.file(atPath: dir.appendingPathComponent("a").path), vector)
        let varied = (0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try Data(varied).write(to: dir.appendingPathComponent("b"))
        XCTAssertEqual(try ContentDigest.file(atPath: dir.appendingPathComponent("b").path), ContentDigest.hex(varied))
        XCTAssertThrowsError(try ContentDigest.file(atPath: dir.appendingPathComponent("missing").path))
    }
}
