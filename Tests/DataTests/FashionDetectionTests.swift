import Foundation
import Imaging
import XCTest
@testable import Data

/// The rendered detection stand-in: deterministic, COCO-valid, all three area ranges, tight boxes.
final class FashionDetectionTests: XCTestCase {
    /// 20 Fashion-MNIST-sized items: a bright disc of radius 4-13 on black, labels 0-9.
    private func items() throws -> Dataset {
        var pixels: [UInt8] = []
        for i in 0..<20 {
            let radius = Double(4 + i % 10)
            for r in 0..<28 {
                for c in 0..<28 {
                    let d = ((Double(r) - 13.5) * (Double(r) - 13.5) + (Double(c) - 13.5) * (Double(c) - 13.5)).squareRoot()
                    pixels.append(d <= radius ? UInt8(120 + 6 * (i % 20)) : 0)
                }
            }
        }
        return try Dataset(name: "discs", pixels: pixels, labels: (0..<20).map { Int32($0 % 10) }, channels: 1, height: 28,
                           width: 28, classCount: 10, classNames: (0..<10).map { "class\($0)" })
    }

    func testCanvasesAreDeterministicTightAndCoverEveryAreaRange() throws {
        let set = try items(), renderer = FashionDetection(seed: 3)
        var areas: [Double] = []
        for i in 0..<60 {
            let sample = try renderer.render(i, from: set)
            XCTAssertEqual(sample, try renderer.render(i, from: set), "canvas \(i) is not a function of seed and index")
            XCTAssertEqual(sample.image.width, 160)
            XCTAssertFalse(sample.annotations.isEmpty)
            for (k, a) in sample.annotations.enumerated() {
                let x = Int(a.bbox[0]), y = Int(a.bbox[1]), w = Int(a.bbox[2]), h = Int(a.bbox[3])
                XCTAssertTrue(x >= 0 && y >= 0 && x + w <= 160 && y + h <= 160, "\(a.bbox)")
                XCTAssertTrue((1...10).contains(a.categoryID))
                XCTAssertLessThanOrEqual(a.area, Double(w * h))
                // Tight: each edge row and column of the box holds a lit pixel.
                func lit(_ r: Int, _ c: Int) -> Bool { sample.image.pixels[(r * 160 + c) * 3] != 0 }
                XCTAssertTrue((x..<(x + w)).contains { lit(y, $0) } && (x..<(x + w)).contains { lit(y + h - 1, $0) })
                XCTAssertTrue((y..<(y + h)).contains { lit($0, x) } && (y..<(y + h)).contains { lit($0, x + w - 1) })
                // No two boxes of a canvas overlap.
                for b in sample.annotations[(k + 1)...] {
                    let overlap = a.bbox[0] < b.bbox[0] + b.bbox[2] && b.bbox[0] < a.bbox[0] + a.bbox[2]
                        && a.bbox[1] < b.bbox[1] + b.bbox[3] && b.bbox[1] < a.bbox[1] + a.bbox[3]
                    XCTAssertFalse(overlap, "\(a.bbox) overlaps \(b.bbox)")
                }
                areas.append(a.area)
            }
        }
        XCTAssertTrue(areas.contains { $0 < 32 * 32 }, "no small object")
        XCTAssertTrue(areas.contains { $0 > 32 * 32 && $0 < 96 * 96 }, "no medium object")
        XCTAssertTrue(areas.contains { $0 > 96 * 96 }, "no large object")
        XCTAssertNotEqual(try FashionDetection(seed: 4).render(0, from: set), try renderer.render(0, from: set))
    }

    func testWrittenSetLoadsAsCOCO() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try FashionDetection(seed: 1).write(count: 8, from: try items(), to: dir)
        let coco = try COCODetection(annotations: path, images: dir + "/images")
        XCTAssertEqual(coco.images.count, 8)
        XCTAssertEqual(coco.categories.map(\.name), (0..<10).map { "class\($0)" })
        XCTAssertEqual(Set(coco.annotations.map(\.id)).count, coco.annotations.count)
        let first = try XCTUnwrap(coco.images.first)
        XCTAssertEqual(try FashionDetection(seed: 1).render(0, from: try items()).image.pixels,
                       try ImageDecoder.decode(contentsOf: coco.path(of: first)).pixels)
    }

    func testBadSettingsAreOneError() throws {
        let set = try items()
        assertDatasetError(try FashionDetection(canvas: 100).render(0, from: set), contains: ["multiple of 32"])
        assertDatasetError(try FashionDetection(canvas: 64, sideBands: [10...80]).render(0, from: set), contains: ["1...64"])
    }
}
