import Imaging

/// Why a data set could not be read. Every message names the file and says what was expected.
///
/// Loaders throw these for anything wrong with the files on disk; they never trap on bad input.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist. `hint` says how to get it (a package to install, a flag to pass).
    case missingFile(path: String, hint: String)
    /// The file exists but could not be read (permissions, I/O error); `reason` is the system's.
    case unreadable(path: String, reason: String)
    /// The gzip stream ends before its end-of-stream marker.
    case truncatedGzip(path: String, decompressedBytes: Int)
    /// The gzip stream is damaged (bad header, bad deflate data, CRC mismatch).
    case corruptGzip(path: String, reason: String)
    /// The decompressed contents would exceed `limit` bytes (a guard against gzip bombs).
    case tooLarge(path: String, limit: Int)
    /// An IDX file's magic number is not the expected one.
    case badMagic(path: String, expected: UInt32, found: UInt32)
    /// The file's declared or actual dimensions are not what the data set needs.
    case wrongDimensions(path: String, expected: String, found: String)
    /// The labels file and the images file disagree on the number of samples.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A label is not in `0..<classCount`.
    case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)
    /// A CIFAR binary file's size is not a whole number of records.
    case badRecordSize(path: String, size: Int, recordSize: Int)
    /// A data set or transform was built with inconsistent parameters (a programming error that
    /// is reported rather than trapped, so a command-line tool can print it).
    case invalidConfiguration(String)
    /// An image file of a file-backed set could not be decoded.
    case image(ImageError)
    /// A pickled file (CIFAR's python version) is not the data expected; `reason` names the field.
    case badPickle(path: String, reason: String)

    /// A one-line message naming the file and what was expected.
    public var description: String {
        switch self {
        case let .missingFile(path, hint):
            return "\(path): file not found. \(hint)"
        case let .unreadable(path, reason):
            return "\(path): cannot read file: \(reason)"
        case let .truncatedGzip(path, n):
            return "\(path): gzip stream is truncated (ended after \(n) decompressed bytes without "
                + "an end-of-stream marker); the download is incomplete, fetch the file again"
        case let .corruptGzip(path, reason):
            return "\(path): corrupt gzip data: \(reason)"
        case let .tooLarge(path, limit):
            return "\(path): decompressed contents exceed the limit of \(limit) bytes"
        case let .badMagic(path, expected, found):
            return "\(path): bad IDX magic number \(hex32(found)), expected \(hex32(expected))"
        case let .wrongDimensions(path, expected, found):
            return "\(path): wrong dimensions: expected \(expected), found \(found)"
        case let .countMismatch(imagesPath, images, labelsPath, labels):
            return "\(labelsPath) has \(labels) labels but \(imagesPath) has \(images) images; "
                + "expected the same number"
        case let .labelOutOfRange(path, index, label, classCount):
            return "\(path): label \(label) of sample \(index) is out of range, expected 0..<\(classCount)"
        case let .badRecordSize(path, size, recordSize):
            return "\(path): size \(size) bytes is not a multiple of the \(recordSize)-byte CIFAR record"
        case let .invalidConfiguration(message):
            return "invalid data configuration: \(message)"
        case let .image(error):
            return error.description
        case let .badPickle(path, reason):
            return "\(path): \(reason)"
        }
    }
}

/// `0x00000803`-style rendering of an IDX magic number.
func hex32(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
