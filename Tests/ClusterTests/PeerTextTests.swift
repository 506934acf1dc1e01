@testable import Cluster
import Foundation
import XCTest

/// Peer-supplied text in log lines, and the rate limit on warnings about peers.
final class PeerTextTests: XCTestCase {
    func testControlBytesAndNewlinesAreEscaped() {
        XCTAssertEqual(PeerText.escaped("w1"), "w1")
        XCTAssertEqual(PeerText.escaped("a\nb\u{1B}[31m\\"), "a\\x0ab\\x1b[31m\\\\")
        XCTAssertEqual(PeerText.escaped([0x00, 0xFF, 0x41] as [UInt8]), "\\x00\\xffA")
        XCTAssertEqual(PeerText.escaped("é"), "\\xc3\\xa9", "non-ASCII bytes shown as bytes")
        let forged = "x\n2026-12-07T00:00:00 info coordinator: result recorded accuracy=99.99"
        XCTAssertFalse(PeerText.escaped(forged, limit: 1000).contains("\n"))
    }

    func testLongTextIsCapped() {
        let s = PeerText.escaped(String(repeating: "\u{01}", count: 10_000))
        XCTAssertLessThan(s.utf8.count, PeerText.maximumLength + 30)
        XCTAssertTrue(s.hasSuffix("(10000 bytes)"), s)
    }

    func testWarningsAreRateLimitedPerPeerAndSummarized() {
        var w = PeerWarnings()
        w.burst = 3
        w.maximumPeers = 2
        let start = Date()
        XCTAssertEqual((0..<10).map { _ in w.admit("a") }.filter { $0 }.count, 3)
        XCTAssertEqual((0..<2).map { _ in w.admit("b") }.filter { $0 }.count, 2)
        // A flood of new peers shares one bucket.
        XCTAssertEqual((0..<100).map { w.admit("p\($0)") }.filter { $0 }.count, 3)
        XCTAssertNil(w.summary(now: start))
        let held = w.summary(now: start.addingTimeInterval(w.interval + 1))
        XCTAssertEqual(held?.map(\.peer), [PeerWarnings.otherPeers, "a"])
        XCTAssertEqual(held?.map(\.suppressed), [97, 7])
        XCTAssertTrue(w.admit("a"), "a new interval starts afresh")
    }
}
