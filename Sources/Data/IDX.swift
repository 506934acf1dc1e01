/// The IDX file format of the MNIST family: a big-endian header (magic number, then one 32-bit
/// extent per dimension) followed by the data, here unsigned bytes.
public enum IDX {
    /// Magic number of an unsigned-byte file with 3 dimensions (images `[n, rows, cols]`).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte file with 1 dimension (labels `[n]`).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// The contents of an images file.
    public struct Images: Sendable {
        /// Number of images.
        public var count: Int
        /// Rows per image.
        public var rows: Int
        /// Columns per image.
        public var columns: Int
        /// `count * rows * columns` bytes, row-major.
        public var pixels: [UInt8]
    }

    /// Parses an idx3-ubyte images file already in memory.
    ///
    /// - Parameter path: where the bytes came from, for error messages.
    /// - Throws: ``DatasetError/badMagic(path:expected:found:)`` or
    ///   ``DatasetError/wrongDimensions(path:expected:found:)`` (short header, or a data size that
    ///   does not match the header).
    public static func parseImages(_ bytes: [UInt8], path: String) throws(DatasetError) -> Images {
        let dims = try header(bytes, path: path, magic: imagesMagic, rank: 3)
        let pixels = Array(bytes[(4 + 4 * 3)...])
        return Images(count: dims[0], rows: dims[1], columns: dims[2], pixels: pixels)
    }

    /// Parses an idx1-ubyte labels file already in memory.
    ///
    /// - Throws: as ``parseImages(_:path:)``.
    public static func parseLabels(_ bytes: [UInt8], path: String) throws(DatasetError) -> [UInt8] {
        _ = try header(bytes, path: path, magic: labelsMagic, rank: 1)
        return Array(bytes[(4 + 4)...])
    }

    /// Reads (inflating `.gz`) and parses an images file.
    public static func loadImages(path: String, missingHint: String = "") throws(DatasetError) -> Images {
        try parseImages(Gzip.readContents(path, missingHint: missingHint), path: path)
    }

    /// Reads (inflating `.gz`) and parses a labels file.
    public static func loadLabels(path: String, missingHint: String = "") throws(DatasetError) -> [UInt8] {
        try parseLabels(Gzip.readContents(path, missingHint: missingHint), path: path)
    }

    /// Loads a grey-scale data set from an images file and a labels file.
    ///
    /// - Parameters:
    ///   - imagesPath: the idx3-ubyte file (gzip or not).
    ///   - labelsPath: the idx1-ubyte file (gzip or not).
    ///   - name: the data set's name.
    ///   - classCount: labels must be in `0..<classCount`.
    ///   - classNames: `classCount` names or none.
    ///   - expectedSize: if given, the `(rows, columns)` every image must have.
    ///   - missingHint: what to tell the user when a file is missing.
    /// - Throws: any ``DatasetError`` for either file, including
    ///   ``DatasetError/countMismatch(imagesPath:images:labelsPath:labels:)`` and
    ///   ``DatasetError/labelOutOfRange(path:index:label:classCount:)``.
    public static func loadDataset(imagesPath: String, labelsPath: String, name: String, classCount: Int,
                                   classNames: [String] = [], expectedSize: (rows: Int, columns: Int)? = nil,
                                   missingHint: String = "") throws(DatasetError) -> Dataset {
        // Labels first: a missing or bad labels file is reported before the big images file is read.
        let labelBytes = try loadLabels(path: labelsPath, missingHint: missingHint)
        let images = try loadImages(path: imagesPath, missingHint: missingHint)
        if let expected = expectedSize, expected.rows != images.rows || expected.columns != images.columns {
            throw .wrongDimensions(path: imagesPath, expected: "\(expected.rows)x\(expected.columns) images",
                                   found: "\(images.rows)x\(images.columns)")
        }
        guard images.count == labelBytes.count else {
            throw .countMismatch(imagesPath: imagesPath, images: images.count,
                                 labelsPath: labelsPath, labels: labelBytes.count)
        }
        guard images.count > 0, images.rows > 0, images.columns > 0 else {
            throw .wrongDimensions(path: imagesPath, expected: "a non-empty set of non-empty images",
                                   found: "[\(images.count), \(images.rows), \(images.columns)]")
        }
        if let bad = labelBytes.firstIndex(where: { Int($0) >= classCount }) {
            throw .labelOutOfRange(path: labelsPath, index: bad, label: Int(labelBytes[bad]), classCount: classCount)
        }
        return try Dataset(name: name, pixels: images.pixels, labels: labelBytes.map { Int32($0) }, channels: 1,
                           height: images.rows, width: images.columns, classCount: classCount,
                           classNames: classNames)
    }

    /// Checks the magic number and that the data size matches the extents; returns the extents.
    private static func header(_ bytes: [UInt8], path: String, magic: UInt32,
                               rank: Int) throws(DatasetError) -> [Int] {
        guard bytes.count >= 4 else {
            throw .wrongDimensions(path: path, expected: "an IDX header of \(4 + 4 * rank) bytes",
                                   found: "a file of \(bytes.count) bytes")
        }
        let found = bigEndian32(bytes, at: 0)
        guard found == magic else { throw .badMagic(path: path, expected: magic, found: found) }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw .wrongDimensions(path: path, expected: "an IDX header of \(headerSize) bytes",
                                   found: "a file of \(bytes.count) bytes")
        }
        let dims = (0..<rank).map { Int(bigEndian32(bytes, at: 4 + 4 * $0)) }
        var expected = 1
        for d in dims {
            let (p, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw .wrongDimensions(path: path, expected: "extents whose product fits in memory",
                                       found: "\(dims)")
            }
            expected = p
        }
        let actual = bytes.count - headerSize
        guard actual == expected else {
            throw .wrongDimensions(path: path, expected: "\(expected) data bytes for extents \(dims)",
                                   found: "\(actual) data bytes")
        }
        return dims
    }

    private static func bigEndian32(_ b: [UInt8], at i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
