import TorchCheckpoint

/// CIFAR-10 and CIFAR-100 in their python distributions (`cifar-10-batches-py`,
/// `cifar-100-python`, the ones torchvision downloads): each split is a pickled dict whose `data`
/// is a NumPy `uint8` array `[n, 3072]` in the binary version's channel-planar layout, with the
/// labels as lists of ints and the class names in a `meta` pickle.
///
/// The pickles are read by the data-only pickle machine with NumPy's array globals allowed and
/// nothing else (``ObjectTreeMode/numpyArrays``): a file naming any other global is refused.
enum CIFARPython {
    /// The python folder under or at `directory`, if it holds one.
    static func directory(_ directory: String) -> String? {
        for candidate in [directory + "/cifar-100-python", directory] where Gzip.fileExists(candidate + "/meta") {
            if Gzip.fileExists(candidate + "/train") || Gzip.fileExists(candidate + "/test") { return candidate }
        }
        return nil
    }

    /// The CIFAR-10 python folder under or at `directory`, if it holds one.
    static func cifar10Directory(_ directory: String) -> String? {
        for candidate in [directory + "/cifar-10-batches-py", directory] where Gzip.fileExists(candidate + "/batches.meta") {
            return candidate
        }
        return nil
    }

    /// CIFAR-100 from `directory/train` or `directory/test`, fine or coarse labels; class names from `meta`.
    static func loadCIFAR100(split: Split, labels: CIFAR.LabelKind, directory: String) throws(DatasetError) -> Dataset {
        let classCount = labels == .fine ? 100 : 20
        let names = try classNames(directory + "/meta", key: "\(labels.rawValue)_label_names", count: classCount)
        let part = try batch(directory + "/\(split.rawValue)", labelKey: "\(labels.rawValue)_labels", classCount: classCount)
        return try Dataset(name: "cifar100-\(labels.rawValue)/\(split.rawValue)", pixels: part.pixels, labels: part.labels,
                           channels: 3, height: CIFAR.imageSize, width: CIFAR.imageSize, classCount: classCount,
                           classNames: names)
    }

    /// CIFAR-10 from `data_batch_1` ... `data_batch_5` or `test_batch`; class names from `batches.meta`.
    static func loadCIFAR10(split: Split, directory: String) throws(DatasetError) -> Dataset {
        let files = split == .train ? (1...5).map { "data_batch_\($0)" } : ["test_batch"]
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for file in files {
            let part = try batch(directory + "/" + file, labelKey: "labels", classCount: 10)
            pixels += part.pixels
            labels += part.labels
        }
        let names = try classNames(directory + "/batches.meta", key: "label_names", count: 10)
        return try Dataset(name: "cifar10/\(split.rawValue)", pixels: pixels, labels: labels, channels: 3,
                           height: CIFAR.imageSize, width: CIFAR.imageSize, classCount: 10, classNames: names)
    }

    /// One split's pickle: its `data` array and the labels under `labelKey`.
    static func batch(_ path: String, labelKey: String, classCount: Int) throws(DatasetError) -> (pixels: [UInt8], labels: [Int32]) {
        let dict = try readDict(path)
        guard let dataValue = value(dict, "data") else { throw .badPickle(path: path, reason: "the dict has no 'data' entry") }
        let array: NumpyArray
        do {
            array = try NumpyArray(dataValue, role: "'data'", file: path)
        } catch {
            throw .badPickle(path: path, reason: (error as? TorchCheckpointError)?.message ?? "\(error)")
        }
        guard array.dtype == .uint8, array.shape.count == 2, array.shape[1] == CIFAR.imageBytes, array.shape[0] > 0 else {
            throw .wrongDimensions(path: path, expected: "'data' as uint8 [n, \(CIFAR.imageBytes)]",
                                   found: "\(array.dtype.rawValue) \(array.shape)")
        }
        guard let items = value(dict, labelKey)?.sequenceValue else {
            throw .badPickle(path: path, reason: "the dict has no '\(labelKey)' list")
        }
        guard items.count == array.shape[0] else {
            throw .countMismatch(imagesPath: path + " 'data'", images: array.shape[0], labelsPath: path + " '\(labelKey)'", labels: items.count)
        }
        var labels: [Int32] = []
        labels.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let label = item.intValue else {
                throw .badPickle(path: path, reason: "'\(labelKey)'[\(i)] is \(item.kindDescription), expected an int")
            }
            guard label >= 0, label < classCount else {
                throw .labelOutOfRange(path: path, index: i, label: Int(clamping: label), classCount: classCount)
            }
            labels.append(Int32(label))
        }
        return (array.bytes, labels)
    }

    /// The class names under `key` of a meta pickle; they must be `count` strings.
    static func classNames(_ path: String, key: String, count: Int) throws(DatasetError) -> [String] {
        let dict = try readDict(path)
        guard let items = value(dict, key)?.sequenceValue, items.count == count else {
            throw .badPickle(path: path, reason: "expected '\(key)' as a list of \(count) names")
        }
        var names: [String] = []
        for item in items {
            switch item {
            case .string(let s): names.append(s)
            case .bytes(let b): names.append(String(decoding: b, as: UTF8.self))
            default: throw .badPickle(path: path, reason: "'\(key)' holds \(item.kindDescription), expected names")
            }
        }
        return names
    }

    /// The top-level dict of a pickle file (gzip-compressed too), read with NumPy arrays allowed.
    private static func readDict(_ path: String) throws(DatasetError) -> PickleDict {
        let bytes = try Gzip.readContents(path, missingHint: "expected the python version of CIFAR (train, test, meta)")
        let root: PickleValue
        do {
            root = try TorchCheckpoint.readPickle(bytes: bytes, name: path, mode: .numpyArrays)
        } catch {
            throw .badPickle(path: path, reason: (error as? TorchCheckpointError)?.message ?? "\(error)")
        }
        guard let dict = root.dictValue else {
            throw .badPickle(path: path, reason: "expected a pickled dict, found \(root.kindDescription)")
        }
        return dict
    }

    /// The entry under `key`, whether the pickle wrote its keys as text or as bytes (Python 2 `str`
    /// read as bytes, or Python 3 `bytes`).
    private static func value(_ dict: PickleDict, _ key: String) -> PickleValue? {
        for entry in dict.entries {
            switch entry.key {
            case .string(let k) where k == key: return entry.value
            case .bytes(let k) where k == Array(key.utf8): return entry.value
            default: continue
            }
        }
        return nil
    }
}
