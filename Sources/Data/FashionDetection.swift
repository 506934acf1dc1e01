import Foundation
import Imaging
import Tensor

/// A detection data set rendered from a classification set's items (Fashion-MNIST by default):
/// each canvas gets a few items, each resized to a side drawn from three bands so that the boxes
/// fall in all three COCO area ranges (small < 32², medium, large > 96²), placed without overlap.
/// The annotation of an item is COCO's: the tight box of its non-zero pixels and, as `area`, the
/// number of those pixels (its mask area), category id = class + 1.
///
/// Everything is a function of the seed and the image index, so the set is the same on every
/// machine and any subset can be rendered alone.
public struct FashionDetection: Sendable {
    /// Canvas side in pixels (a multiple of 32, as YOLOv8 needs).
    public var canvas: Int
    /// Items tried per canvas (fewer when no free place is found).
    public var itemsPerImage: ClosedRange<Int>
    /// Item sides in pixels, one band per COCO area range: small, medium, large.
    public var sideBands: [ClosedRange<Int>]
    /// The seed of the layout.
    public var seed: UInt64
    /// Draw items from the first this many samples only (nil: all).
    public var itemLimit: Int?

    /// The default: 160x160 canvases with 1-4 items of 12-24, 40-80 or 104-136 pixels.
    public init(canvas: Int = 160, itemsPerImage: ClosedRange<Int> = 1...4,
                sideBands: [ClosedRange<Int>] = [12...24, 40...80, 104...136], seed: UInt64 = 0) {
        self.canvas = canvas; self.itemsPerImage = itemsPerImage; self.sideBands = sideBands; self.seed = seed
    }

    /// One rendered canvas and its annotations.
    public struct Sample: Sendable, Equatable {
        public var image: RGBImage
        public var annotations: [COCODetection.Annotation]
    }

    /// Renders canvas `index` from `items` (the item of each placement drawn by the seed).
    /// Annotation ids are `index * 100 + k + 1`; the image id is `index + 1`.
    public func render(_ index: Int, from items: any ImageSamples) throws(DatasetError) -> Sample {
        guard canvas >= 32, canvas % 32 == 0 else { throw .invalidConfiguration("the canvas side must be a multiple of 32, got \(canvas)") }
        guard let largest = sideBands.map(\.upperBound).max(), largest <= canvas, sideBands.allSatisfy({ $0.lowerBound >= 1 }) else {
            throw .invalidConfiguration("item sides \(sideBands) must lie in 1...\(canvas)")
        }
        let pool = min(items.count, itemLimit ?? items.count)
        guard pool > 0 else { throw .invalidConfiguration("no items to place") }
        var g = SeededGenerator(seed: seed, stream: 0xDE7 &+ UInt64(index))
        var pixels = [UInt8](repeating: 0, count: canvas * canvas * 3)
        var placed: [(x: Int, y: Int, side: Int)] = []
        var annotations: [COCODetection.Annotation] = []
        let wanted = itemsPerImage.lowerBound + g.nextInt(below: itemsPerImage.count)
        for _ in 0..<wanted {
            let item = g.nextInt(below: pool)
            let band = sideBands[g.nextInt(below: sideBands.count)]
            let side = band.lowerBound + g.nextInt(below: band.count)
            // Up to 20 places; the first that overlaps nothing placed so far.
            var spot: (x: Int, y: Int)?
            for _ in 0..<20 {
                let x = g.nextInt(below: canvas - side + 1), y = g.nextInt(below: canvas - side + 1)
                if placed.allSatisfy({ x + side <= $0.x || $0.x + $0.side <= x || y + side <= $0.y || $0.y + $0.side <= y }) {
                    spot = (x, y)
                    break
                }
            }
            guard let spot else { continue }
            let source: RGBImage
            do { source = try items.image(item) } catch { throw .image(error) }
            let scaled = Resampler.resize(source, width: side, height: side, filter: .bilinear)
            var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1, area = 0
            for r in 0..<side {
                for c in 0..<side {
                    let s = (r * side + c) * 3
                    guard scaled.pixels[s] | scaled.pixels[s + 1] | scaled.pixels[s + 2] != 0 else { continue }
                    let d = ((spot.y + r) * canvas + spot.x + c) * 3
                    for k in 0..<3 { pixels[d + k] = scaled.pixels[s + k] }
                    minX = min(minX, c); maxX = max(maxX, c); minY = min(minY, r); maxY = max(maxY, r)
                    area += 1
                }
            }
            guard area > 0 else { continue }
            placed.append((spot.x, spot.y, side))
            annotations.append(COCODetection.Annotation(
                id: index * 100 + annotations.count + 1, imageID: index + 1, categoryID: Int(items.label(item)) + 1,
                bbox: [Double(spot.x + minX), Double(spot.y + minY), Double(maxX - minX + 1), Double(maxY - minY + 1)],
                area: Double(area), isCrowd: false))
        }
        return Sample(image: RGBImage(width: canvas, height: canvas, pixels: pixels), annotations: annotations)
    }

    /// Writes `count` canvases as PNG files `images/000001.png`, ... and `instances.json` (COCO's
    /// format, categories named by `items`' class names) into `directory`; returns the annotation file's path.
    @discardableResult
    public func write(count: Int, from items: any ImageSamples, to directory: String,
                      progress: (Int) -> Void = { _ in }) throws(DatasetError) -> String {
        let imagesDir = directory + "/images"
        do { try FileManager.default.createDirectory(atPath: imagesDir, withIntermediateDirectories: true) } catch {
            throw .unreadable(path: imagesDir, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var images: [COCODetection.Image] = [], annotations: [COCODetection.Annotation] = []
        for i in 0..<count {
            let sample = try render(i, from: items)
            let name = String(format: "%06d.png", i + 1)
            do {
                try PNGEncoder.encode(sample.image).write(to: URL(fileURLWithPath: imagesDir + "/" + name))
            } catch let error as ImageError {
                throw .image(error)
            } catch {
                throw .unreadable(path: imagesDir + "/" + name, reason: "cannot write: \(error.localizedDescription)")
            }
            images.append(COCODetection.Image(id: i + 1, fileName: name, width: canvas, height: canvas))
            annotations += sample.annotations
            progress(i + 1)
        }
        let categories = items.classNames.enumerated().map { COCODetection.Category(id: $0.offset + 1, name: $0.element) }
        let path = directory + "/instances.json"
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let file = COCODetection.FileContents(images: images, annotations: annotations, categories: categories)
            try encoder.encode(file).write(to: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        return path
    }
}
