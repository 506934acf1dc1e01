/// CIFAR-10 and CIFAR-100 in their binary distributions (`cifar-10-batches-bin`,
/// `cifar-100-binary`) and, through ``CIFARPython``, their python ones (`cifar-10-batches-py`,
/// `cifar-100-python`), whichever the folder holds. The binary files are fixed-size records of
/// label bytes followed by a 32x32 RGB image stored channel-planar (1024 red, 1024 green, 1024 blue bytes, each row-major).
public enum CIFAR {
    /// Image side in pixels.
    public static let imageSize = 32
    /// Bytes of one image: 3 x 32 x 32.
    public static let imageBytes = 3 * 32 * 32
    /// Where ``loadCIFAR10(split:dataDirectory:)`` looks by default (no Debian package ships it).
    public static let defaultCIFAR10Directory = "/usr/share/datasets/cifar-10-batches-bin"
    /// Where ``loadCIFAR100(split:labels:dataDirectory:)`` looks by default.
    public static let defaultCIFAR100Directory = "/usr/share/datasets/cifar-100-binary"
    /// CIFAR-10 per-channel (RGB) mean of the training pixels scaled to [0, 1].
    public static let cifar10Mean: [Float] = [0.4914, 0.4822, 0.4465]
    /// CIFAR-10 per-channel (RGB) standard deviation of the training pixels scaled to [0, 1].
    public static let cifar10Std: [Float] = [0.2470, 0.2435, 0.2616]
    /// CIFAR-100 per-channel (RGB) mean of the training pixels scaled to [0, 1].
    public static let cifar100Mean: [Float] = [0.5071, 0.4865, 0.4409]
    /// CIFAR-100 per-channel (RGB) standard deviation of the training pixels scaled to [0, 1].
    public static let cifar100Std: [Float] = [0.2673, 0.2564, 0.2762]
    /// CIFAR-10 class names in label order.
    public static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]

    /// Which CIFAR-100 label to use.
    public enum LabelKind: String, Sendable {
        /// The 100 fine classes.
        case fine
        /// The 20 superclasses.
        case coarse
    }

    /// Parses the records of one CIFAR binary file already in memory.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - path: where they came from, for error messages.
    ///   - labelBytes: label bytes before each image (1 for CIFAR-10, 2 for CIFAR-100).
    ///   - labelIndex: which of those bytes is the label wanted (CIFAR-100: 0 coarse, 1 fine).
    ///   - classCount: labels must be in `0..<classCount`.
    /// - Returns: the images `[n, 3, 32, 32]` and their labels.
    /// - Throws: ``DatasetError/badRecordSize(path:size:recordSize:)`` unless the size is a
    ///   positive multiple of the record size; ``DatasetError/labelOutOfRange(path:index:label:classCount:)``.
    public static func parseRecords(_ bytes: [UInt8], path: String, labelBytes: Int, labelIndex: Int,
                                    classCount: Int) throws(DatasetError) -> (pixels: [UInt8], labels: [Int32]) {
        guard labelBytes >= 1, labelIndex >= 0, labelIndex < labelBytes else {
            throw .invalidConfiguration("label byte \(labelIndex) of \(labelBytes)")
        }
        let record = labelBytes + imageBytes
        guard !bytes.isEmpty, bytes.count % record == 0 else {
            throw .badRecordSize(path: path, size: bytes.count, recordSize: record)
        }
        let n = bytes.count / record
        var labels = [Int32](repeating: 0, count: n)
        var pixels = [UInt8](repeating: 0, count: n * imageBytes)
        var bad: (index: Int, label: Int)?
        bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let r = src.baseAddress! + i * record
                    let label = Int(r[labelIndex])
                    if label >= classCount && bad == nil { bad = (i, label) }
                    labels[i] = Int32(label)
                    (dst.baseAddress! + i * imageBytes).update(from: r + labelBytes, count: imageBytes)
                }
            }
        }
        if let bad { throw .labelOutOfRange(path: path, index: bad.index, label: bad.label, classCount: classCount) }
        return (pixels, labels)
    }

    /// Loads CIFAR-10: `data_batch_1.bin` ... `data_batch_5.bin` (50,000 images) for training,
    /// `test_batch.bin` (10,000) for testing. Each file may also be gzip-compressed (`.bin.gz`).
    ///
    /// - Parameter dataDirectory: the `cifar-10-batches-bin` or `cifar-10-batches-py` folder or its parent; nil for
    ///   ``defaultCIFAR10Directory``.
    /// - Throws: a ``DatasetError`` naming the file at fault.
    public static func loadCIFAR10(split: Split, dataDirectory: String? = nil) throws(DatasetError) -> Dataset {
        let given = dataDirectory ?? defaultCIFAR10Directory
        if let pythonDir = CIFARPython.cifar10Directory(given) {
            return try CIFARPython.loadCIFAR10(split: split, directory: pythonDir)
        }
        let dir = resolve(given, subfolder: "cifar-10-batches-bin")
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        return try load(files: names.map { dir + "/" + $0 }, name: "cifar10/\(split.rawValue)",
                        labelBytes: 1, labelIndex: 0, classCount: 10, classNames: cifar10ClassNames,
                        hint: hint("CIFAR-10", "cifar-10-batches-bin"))
    }

    /// Loads CIFAR-100: `train.bin` (50,000 images) or `test.bin` (10,000), with the fine (100)
    /// or coarse (20) labels. Class names come from `fine_label_names.txt` /
    /// `coarse_label_names.txt` when present.
    ///
    /// - Parameter dataDirectory: the `cifar-100-binary` or `cifar-100-python` folder or its parent; nil for
    ///   ``defaultCIFAR100Directory``.
    /// - Throws: a ``DatasetError`` naming the file at fault.
    public static func loadCIFAR100(split: Split, labels: LabelKind = .fine,
                                    dataDirectory: String? = nil) throws(DatasetError) -> Dataset {
        let given = dataDirectory ?? defaultCIFAR100Directory
        if let pythonDir = CIFARPython.directory(given) {
            return try CIFARPython.loadCIFAR100(split: split, labels: labels, directory: pythonDir)
        }
        let dir = resolve(given, subfolder: "cifar-100-binary")
        let classCount = labels == .fine ? 100 : 20
        var classNames: [String] = []
        if let text = try? Gzip.readContents(dir + "/\(labels.rawValue)_label_names.txt") {
            let names = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            if names.count == classCount { classNames = names }
        }
        return try load(files: [dir + "/\(split.rawValue).bin"], name: "cifar100-\(labels.rawValue)/\(split.rawValue)",
                        labelBytes: 2, labelIndex: labels == .coarse ? 0 : 1, classCount: classCount,
                        classNames: classNames, hint: hint("CIFAR-100", "cifar-100-binary"))
    }

    private static func load(files: [String], name: String, labelBytes: Int, labelIndex: Int, classCount: Int,
                             classNames: [String], hint: String) throws(DatasetError) -> Dataset {
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for file in files {
            let path = Gzip.firstExisting([file, file + ".gz"])
            let bytes = try Gzip.readContents(path, missingHint: hint)
            let part = try parseRecords(bytes, path: path, labelBytes: labelBytes, labelIndex: labelIndex,
                                        classCount: classCount)
            pixels += part.pixels
            labels += part.labels
        }
        return try Dataset(name: name, pixels: pixels, labels: labels, channels: 3, height: imageSize,
                           width: imageSize, classCount: classCount, classNames: classNames)
    }

    /// `directory/subfolder` when that exists (the archive's top folder was given), else `directory`.
    private static func resolve(_ directory: String, subfolder: String) -> String {
        let nested = directory + "/" + subfolder
        return Gzip.fileExists(nested) ? nested : directory
    }

    private static func hint(_ what: String, _ folder: String) -> String {
        "No package on this system ships \(what): extract its binary (\(folder)) or python version and pass "
            + "`--data-dir DIR` naming that folder."
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
