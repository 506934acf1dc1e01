import Foundation
import Imaging

/// Labelled images one at a time as 8-bit RGB, whatever holds them: an in-memory data set
/// (gray replicated to RGB) or an image folder (each file decoded on request).
public protocol ImageSamples: Sendable {
    /// A short name for messages.
    var name: String { get }
    /// Number of samples.
    var count: Int { get }
    /// Class names in index order.
    var classNames: [String] { get }
    /// The label of sample `index`.
    func label(_ index: Int) -> Int32
    /// Where sample `index` comes from (a file path, or `name[index]`).
    func origin(_ index: Int) -> String
    /// Sample `index` as RGB.
    func image(_ index: Int) throws(ImageError) -> RGBImage
}

extension Dataset: ImageSamples {
    public func label(_ index: Int) -> Int32 { labels[index] }
    public func origin(_ index: Int) -> String { files?[index] ?? "\(name)[\(index)]" }

    /// Image `index` as RGB: its file decoded, or the channel-planar bytes interleaved (a single
    /// channel replicated).
    public func image(_ index: Int) throws(ImageError) -> RGBImage {
        if let files { return try ImageDecoder.decode(contentsOf: files[index]) }
        let plane = height * width
        let src: ArraySlice<UInt8> = pixels[index * sampleSize ..< (index + 1) * sampleSize]
        var out = [UInt8](repeating: 0, count: plane * 3)
        let base = src.startIndex
        for p in 0..<plane {
            for c in 0..<3 { out[p * 3 + c] = src[base + (channels == 1 ? 0 : c) * plane + p] }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}

/// An ``ImageFolder``'s samples, decoded from their files on request.
public struct ImageFolderSamples: ImageSamples {
    /// The listing.
    public let folder: ImageFolder

    public init(_ folder: ImageFolder) { self.folder = folder }

    public var name: String { folder.root }
    public var count: Int { folder.count }
    public var classNames: [String] { folder.classes }
    public func label(_ index: Int) -> Int32 { folder.samples[index].label }
    public func origin(_ index: Int) -> String { folder.samples[index].path }
    public func image(_ index: Int) throws(ImageError) -> RGBImage {
        try ImageDecoder.decode(contentsOf: folder.samples[index].path)
    }
}
