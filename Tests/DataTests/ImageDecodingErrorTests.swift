import Foundation
import TestSupport
import XCTest
@testable import Data
@testable import Imaging

/// Bad image files and odd folders: one clear error naming the file, never a crash.
final class ImageDecodingErrorTests: XCTestCase {
    private let folder = Fixtures.path("data/imagefolder")

    private func bytes(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: folder + "/" + relative))
    }

    func testTruncatedJPEGAndPNGAreErrorsNamingTheFile() throws {
        for (file, format) in [("Goldfish/img_01_rgb420_q90.jpg", "JPEG"), ("Goldfish/img_03_progressive.jpeg", "JPEG"),
                               ("n01443537/a_rgba.png", "PNG")] {
            let data = try bytes(file)
            for cut in [data.count / 2, data.count - 10] {
                XCTAssertThrowsError(try ImageDecoder.decode(data.prefix(cut), path: "x/\(file)")) { error in
                    XCTAssertEqual(error as? ImageError, .truncated(path: "x/\(file)", format: format), "\(file) cut at \(cut)")
                    XCTAssert("\(error)".hasPrefix("x/\(file): "))
                }
            }
        }
    }

    func testEveryPrefixOfAFileFailsCleanlyOrDecodes() throws {
        let data = try bytes("n01440764/n01440764_0002.JPEG")  // a PNG
        for cut in stride(from: 0, to: data.count, by: 7) {
            _ = try? ImageDecoder.decode(data.prefix(cut), path: "p")
        }
        let jpeg = try bytes("Goldfish/img_02_gray.JPEG")
        for cut in stride(from: 0, to: jpeg.count, by: 97) {
            _ = try? ImageDecoder.decode(jpeg.prefix(cut), path: "j")
        }
    }

    func testFormatsAreChosenByContentAndOthersAreNamed() throws {
        let png = try ImageDecoder.decode(try bytes("n01440764/n01440764_0002.JPEG"), path: "named.JPEG")
        XCTAssertEqual([png.width, png.height], [96, 96])
        XCTAssertThrowsError(try ImageDecoder.decode(Data("GIF89a....".utf8), path: "a.jpg")) {
            XCTAssertEqual($0 as? ImageError, .unsupportedFormat(path: "a.jpg", format: "GIF"))
        }
        XCTAssertThrowsError(try ImageDecoder.decode(Data("hello world".utf8), path: "b.png")) {
            XCTAssertEqual("\($0)", "b.png: not a JPEG or PNG image (first bytes 68 65 6c 6c 6f 20 77 6f)")
        }
        XCTAssertThrowsError(try ImageDecoder.decode(Data(), path: "c.png")) {
            XCTAssert("\($0)".contains("empty"))
        }
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: folder + "/missing.jpg")) {
            XCTAssert("\($0)".hasPrefix(self.folder + "/missing.jpg: cannot read"))
        }
    }

    func testCorruptJPEGBodyIsAnError() throws {
        var data = try bytes("Goldfish/img_01_rgb420_q90.jpg")
        // Overwrite the start of frame marker's segment with garbage.
        let sof = try XCTUnwrap((0 ..< data.count - 1).first { data[$0] == 0xFF && data[$0 + 1] == 0xC0 })
        for k in 2..<12 { data[sof + k] = 0xFF }
        XCTAssertThrowsError(try ImageDecoder.decode(data, path: "bad.jpg")) { error in
            XCTAssert("\(error)".hasPrefix("bad.jpg: "), "\(error)")
        }
    }

    /// Pillow checks the CRC of every chunk but IDAT: a bad IHDR CRC fails, a bad IDAT CRC loads.
    func testPNGChecksumsAsPillowChecksThem() throws {
        let original = try bytes("n01443537/b_palette.png")
        let good = try ImageDecoder.decode(original, path: "p.png")
        var badHeader = original
        badHeader[8 + 8 + 13] ^= 0xFF  // IHDR's CRC
        XCTAssertThrowsError(try ImageDecoder.decode(badHeader, path: "p.png")) {
            XCTAssertEqual("\($0)", "p.png: corrupt PNG data: bad checksum in chunk IHDR")
        }
        let bytes = [UInt8](original)
        var offset = 8, idatCRC: Int?
        while offset + 8 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            if String(decoding: bytes[offset + 4 ..< offset + 8], as: UTF8.self) == "IDAT" { idatCRC = offset + 8 + length; break }
            offset += 12 + length
        }
        var badData = original
        badData[try XCTUnwrap(idatCRC)] ^= 0xFF
        XCTAssertEqual(try ImageDecoder.decode(badData, path: "p.png"), good)
    }

    func testPNGEncoderRoundTrips() throws {
        let image = RGBImage(width: 5, height: 3, pixels: (0..<45).map { UInt8($0 * 5) })
        XCTAssertEqual(try ImageDecoder.decode(try PNGEncoder.encode(image), path: "r.png"), image)
    }

    func testPythonOrderAndEmptyClasses() throws {
        XCTAssertEqual(["class_1", "class-2", "Class3", "class-10"].sorted(by: pythonLess), ["Class3", "class-10", "class-2", "class_1"])
        let root = try makeTemporaryDirectory(self)
        let fm = FileManager.default
        for dir in ["b", "a/x-y", "a/x/z", "empty", ".hidden"] { try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        let png = try bytes("n01443537/b_palette.png")
        for file in ["b/1.PNG", "a/x/z/1.png", "a/x-y/1.png", "a/2.jpg", ".hidden/h.png", "b/readme.md"] {
            try png.write(to: URL(fileURLWithPath: root + "/" + file))
        }
        XCTAssertThrowsError(try ImageFolder(root: root)) { XCTAssert("\($0)".contains("found no valid file for the classes empty"), "\($0)") }
        let folder = try ImageFolder(root: root, allowEmpty: true)
        XCTAssertEqual(folder.classes, [".hidden", "a", "b", "empty"])
        XCTAssertEqual(folder.samples.map { String($0.path.dropFirst(root.count + 1)) },
                       [".hidden/h.png", "a/2.jpg", "a/x-y/1.png", "a/x/z/1.png", "b/1.PNG"])
        XCTAssertEqual(folder.samples.map(\.label), [0, 1, 1, 1, 2])
        XCTAssertEqual(folder.skipped, ["b/readme.md"])
        XCTAssertThrowsError(try ImageFolder(root: root + "/nope")) { XCTAssert("\($0)".contains("file not found")) }
    }
}
