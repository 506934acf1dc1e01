import Foundation

/// Which part of a data set to load.
public enum Split: String, Sendable, CaseIterable {
    /// The training images.
    case train
    /// The held-out test images.
    case test
}

/// A labelled image classification data set: held in memory as compact bytes, or as a list of
/// image files decoded when a batch needs them.
///
/// In memory, images are stored as `UInt8` in `[count, channels, height, width]` order
/// (channel-planar, as the IDX and CIFAR files hold them). A file-backed set (``files`` not nil,
/// ``pixels`` empty) has images of any size; its transform names an ``ImagePipeline`` that
/// makes them one size, and `channels`/`height`/`width` are that pipeline's output.
/// ``BatchLoader`` turns either kind into float batches.
public struct Dataset: Sendable {
    /// A short name, such as `"fashion-mnist/train"`.
    public let name: String
    /// All pixels, `[count, channels, height, width]`, row-major (empty when file-backed).
    public let pixels: [UInt8]
    /// The image file of each sample, when the set is file-backed.
    public let files: [String]?
    /// One label per image, each in `0..<classCount`.
    public let labels: [Int32]
    /// Channels per image (1 for grey scale, 3 for RGB).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// Number of classes; labels are in `0..<classCount`.
    public let classCount: Int
    /// Human-readable class names, `classCount` of them, or empty when unknown.
    public let classNames: [String]
    /// A stable identifier of the contents: 64-bit FNV-1a as 16 lower-case hex digits, over the
    /// shape, the pixels and the labels (see ``fingerprint(pixels:labels:channels:height:width:)``).
    /// Record it with results to say which data they came from.
    public let fingerprint: String

    /// Number of images.
    public var count: Int { labels.count }
    /// Bytes per image: `channels * height * width`.
    public var sampleSize: Int { channels * height * width }
    /// `[count, channels, height, width]`.
    public var shape: [Int] { [count, channels, height, width] }

    /// A data set from its parts, after checking that they fit together.
    ///
    /// - Throws: ``DatasetError/invalidConfiguration(_:)`` when the extents are not positive,
    ///   the pixel count is not `labels.count * channels * height * width` or `classNames` has
    ///   the wrong length; ``DatasetError/labelOutOfRange(path:index:label:classCount:)``
    ///   (with `name` as the path) for a bad label.
    public init(name: String, pixels: [UInt8], labels: [Int32], channels: Int, height: Int,
                width: Int, classCount: Int, classNames: [String] = []) throws(DatasetError) {
        guard channels > 0, height > 0, width > 0, classCount > 0 else {
            throw .invalidConfiguration("\(name): channels \(channels), height \(height), width \(width) "
                + "and class count \(classCount) must all be positive")
        }
        let (perImage, o1) = channels.multipliedReportingOverflow(by: height)
        let (size, o2) = perImage.multipliedReportingOverflow(by: width)
        let (total, o3) = size.multipliedReportingOverflow(by: labels.count)
        guard !o1, !o2, !o3, total == pixels.count else {
            throw .invalidConfiguration("\(name): \(pixels.count) pixel bytes do not hold \(labels.count) "
                + "images of \(channels)x\(height)x\(width)")
        }
        guard classNames.isEmpty || classNames.count == classCount else {
            throw .invalidConfiguration("\(name): \(classNames.count) class names for \(classCount) classes")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw .labelOutOfRange(path: name, index: bad, label: Int(labels[bad]), classCount: classCount)
        }
        self.init(unchecked: name, pixels: pixels, labels: labels, channels: channels, height: height,
                  width: width, classCount: classCount, classNames: classNames)
    }

    /// A file-backed data set: the samples of an image folder, to be transformed by a pipeline
    /// giving `channels` x `height` x `width` images.
    ///
    /// Its fingerprint covers each file's path relative to the folder, its size in bytes and its
    /// label (not the bytes: hashing a million JPEGs per run would cost minutes), so a renamed,
    /// relabelled, added or resized file changes it.
    public init(name: String, folder: ImageFolder, channels: Int = 3, height: Int = 224, width: Int = 224) {
        self.name = name
        self.pixels = []
        self.files = folder.samples.map(\.path)
        self.labels = folder.samples.map(\.label)
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = folder.classes.count
        self.classNames = folder.classes
        var h = FNV1a()
        h.add(littleEndian: UInt64(folder.count))
        for sample in folder.samples {
            let relative = Array(sample.path.dropFirst(folder.root.count).utf8)
            relative.withUnsafeBufferPointer { h.add($0) }
            let size = (try? FileManager.default.attributesOfItem(atPath: sample.path)[.size] as? Int) ?? -1
            h.add(littleEndian: UInt64(bitPattern: Int64(size)))
            h.add(littleEndian32: UInt32(bitPattern: sample.label))
        }
        let digits = String(h.value, radix: 16)
        self.fingerprint = "files-" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Samples `indices` of the file-backed set `parent`; the fingerprint covers the parent's
    /// and the indices.
    private init(name: String, selecting indices: [Int], of parent: Dataset) {
        self.name = name
        self.pixels = []
        self.files = indices.map { parent.files![$0] }
        self.labels = indices.map { parent.labels[$0] }
        (channels, height, width) = (parent.channels, parent.height, parent.width)
        (classCount, classNames) = (parent.classCount, parent.classNames)
        var h = FNV1a()
        Array(parent.fingerprint.utf8).withUnsafeBufferPointer { h.add($0) }
        for i in indices { h.add(littleEndian: UInt64(i)) }
        let digits = String(h.value, radix: 16)
        self.fingerprint = "files-" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    init(unchecked name: String, pixels: [UInt8], labels: [Int32], channels: Int, height: Int,
         width: Int, classCount: Int, classNames: [String]) {
        self.name = name
        self.pixels = pixels
        self.files = nil
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
        self.classNames = classNames
        self.fingerprint = Dataset.fingerprint(pixels: pixels, labels: labels, channels: channels,
                                               height: height, width: width)
    }

    /// The pixels of image `index`, `[channels, height, width]` (in-memory sets only).
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        precondition(files == nil, "\(name) is file-backed: decode its files")
        precondition(index >= 0 && index < count, "image \(index) out of range 0..<\(count)")
        return pixels[index * sampleSize ..< (index + 1) * sampleSize]
    }

    /// The images at `indices`, in that order, as a new data set named `name[subset]`.
    /// Indices must be in `0..<count` (a programming error otherwise).
    public func subset(_ indices: [Int]) -> Dataset {
        if files != nil {
            return Dataset(name: name + "[subset]", selecting: indices, of: self)
        }
        let size = sampleSize
        var newPixels = [UInt8]()
        newPixels.reserveCapacity(indices.count * size)
        var newLabels = [Int32]()
        newLabels.reserveCapacity(indices.count)
        for i in indices {
            newPixels.append(contentsOf: image(i))
            newLabels.append(labels[i])
        }
        return Dataset(unchecked: name + "[subset]", pixels: newPixels, labels: newLabels, channels: channels,
                       height: height, width: width, classCount: classCount, classNames: classNames)
    }

    /// The first `n` images (all of them if `n >= count`), for quick runs.
    public func prefix(_ n: Int) -> Dataset {
        let k = max(0, min(n, count))
        if k == count { return self }
        if files != nil { return Dataset(name: name + "[:\(k)]", selecting: Array(0 ..< k), of: self) }
        return Dataset(unchecked: name + "[:\(k)]", pixels: Array(pixels[0 ..< k * sampleSize]),
                       labels: Array(labels[0 ..< k]), channels: channels, height: height, width: width,
                       classCount: classCount, classNames: classNames)
    }

    /// 64-bit FNV-1a, as 16 lower-case hex digits, over: `channels`, `height`, `width` and the
    /// image count as little-endian 64-bit integers, then every pixel byte, then every label as a
    /// little-endian 32-bit integer.
    public static func fingerprint(pixels: [UInt8], labels: [Int32], channels: Int, height: Int,
                                   width: Int) -> String {
        var h = FNV1a()
        for v in [channels, height, width, labels.count] { h.add(littleEndian: UInt64(truncatingIfNeeded: v)) }
        pixels.withUnsafeBufferPointer { h.add($0) }
        for l in labels { h.add(littleEndian32: UInt32(bitPattern: l)) }
        let digits = String(h.value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// 64-bit FNV-1a.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01B3

    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* Self.prime }
        value = h
    }

    mutating func add(littleEndian v: UInt64) {
        for k in 0..<8 { value = (value ^ ((v >> UInt64(8 * k)) & 0xFF)) &* Self.prime }
    }

    mutating func add(littleEndian32 v: UInt32) {
        for k in 0..<4 { value = (value ^ UInt64((v >> UInt32(8 * k)) & 0xFF)) &* Self.prime }
    }
}
