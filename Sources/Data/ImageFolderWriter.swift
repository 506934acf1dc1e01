import Foundation
import Imaging

/// Writes labelled images as an ImageNet-style folder: one subfolder per class, named
/// `NNN_<class name>` so that the sorted folder order is the label order, each image a JPEG
/// (quality 95) or PNG file named by its sample index.
public enum ImageFolderWriter {
    /// The file format written.
    public enum Format: String, Sendable, CaseIterable { case jpeg, png }

    /// Writes samples `0..<count` of `samples` under `directory` (created if missing).
    /// - Throws: ``DatasetError/unreadable(path:reason:)`` when a file cannot be written,
    ///   ``DatasetError/image(_:)`` when a sample cannot be decoded or encoded.
    public static func write(_ samples: any ImageSamples, count: Int? = nil, to directory: String,
                             format: Format = .jpeg) throws(DatasetError) {
        let n = min(count ?? samples.count, samples.count)
        let classCount = max(samples.classNames.count, Int((0..<n).map { samples.label($0) }.max() ?? 0) + 1)
        let digits = String(max(classCount - 1, 0)).count
        func folder(_ label: Int) -> String {
            let number = String(repeating: "0", count: max(0, digits - String(label).count)) + String(label)
            let name = samples.classNames.indices.contains(label) ? samples.classNames[label] : ""
            let safe = name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
            return safe.isEmpty ? number : number + "_" + String(safe)
        }
        let fm = FileManager.default
        for label in 0..<classCount {
            let path = (directory as NSString).appendingPathComponent(folder(label))
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw .unreadable(path: path, reason: "cannot create the folder: \((error as NSError).localizedDescription)")
            }
        }
        for i in 0..<n {
            let image: RGBImage
            let bytes: Data
            do throws(ImageError) {
                image = try samples.image(i)
                bytes = format == .jpeg ? try JPEGEncoder.encode(image, quality: 95) : try PNGEncoder.encode(image)
            } catch { throw .image(error) }
            let path = (directory as NSString).appendingPathComponent(folder(Int(samples.label(i))))
                + "/\(i).\(format == .jpeg ? "jpg" : "png")"
            do { try bytes.write(to: URL(fileURLWithPath: path)) } catch {
                throw .unreadable(path: path, reason: "cannot write: \((error as NSError).localizedDescription)")
            }
        }
    }
}
