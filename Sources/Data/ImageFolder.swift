import Foundation

/// An ImageNet-style folder of class subfolders, listed exactly as torchvision's
/// `datasets.ImageFolder` lists it: classes are the root's subdirectories (hidden ones and
/// symlinked ones included) in Python's code-point order; inside each class the walk is
/// recursive, follows symlinks, visits directories in the order of their path strings (a class
/// folder's own files first) and files by name; a file is a sample when its name ends, in any
/// case, with one of torchvision's image extensions. The label is the class's position.
public struct ImageFolder: Sendable {
    /// torchvision's `IMG_EXTENSIONS`.
    public static let imageExtensions = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"]

    /// One listed image.
    public struct Sample: Sendable, Equatable {
        /// `root/class/.../file`.
        public let path: String
        /// The class index.
        public let label: Int32
    }

    /// The folder listed.
    public let root: String
    /// Class folder names in index order.
    public let classes: [String]
    /// Every sample, in torchvision's order.
    public let samples: [Sample]
    /// Files inside class folders that were skipped for their extension, relative to the root.
    public let skipped: [String]

    /// Lists `root`.
    ///
    /// - Parameter allowEmpty: keep classes without a single image (torchvision's `allow_empty`);
    ///   by default they are an error, as in torchvision.
    /// - Throws: ``DatasetError/missingFile(path:hint:)`` for a missing root,
    ///   ``DatasetError/invalidConfiguration(_:)`` for a root without class folders or with
    ///   empty classes.
    public init(root: String, allowEmpty: Bool = false) throws(DatasetError) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw .missingFile(path: root, hint: "Expected a folder with one subfolder per class (ImageNet's train/ or val/ layout).")
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root) } catch {
            throw .unreadable(path: root, reason: (error as NSError).localizedDescription)
        }
        let classes = entries.filter { Self.isDirectory((root as NSString).appendingPathComponent($0)) }.sorted(by: pythonLess)
        guard !classes.isEmpty else {
            throw .invalidConfiguration("\(root): no class folders found (expected one subfolder per class)")
        }
        var samples: [Sample] = [], skipped: [String] = [], empty: [String] = []
        for (label, name) in classes.enumerated() {
            let before = samples.count
            let classDir = (root as NSString).appendingPathComponent(name)
            for dir in Self.walk(classDir) {
                for file in dir.files.sorted(by: pythonLess) {
                    let path = (dir.path as NSString).appendingPathComponent(file)
                    let lower = file.lowercased()
                    if Self.imageExtensions.contains(where: { lower.hasSuffix($0) }) {
                        samples.append(Sample(path: path, label: Int32(label)))
                    } else {
                        skipped.append(String(path.dropFirst(root.count).drop { $0 == "/" }))
                    }
                }
            }
            if samples.count == before { empty.append(name) }
        }
        if !empty.isEmpty && !allowEmpty {
            throw .invalidConfiguration("\(root): found no valid file for the classes \(empty.joined(separator: ", ")); "
                + "supported extensions are: \(Self.imageExtensions.joined(separator: ", "))")
        }
        self.root = root
        self.classes = classes
        self.samples = samples
        self.skipped = skipped
    }

    /// Number of samples.
    public var count: Int { samples.count }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// `sorted(os.walk(top, followlinks=True))`: every directory below `top` (itself included)
    /// with its non-directory entries, ordered by path string. A symlink cycle is visited once.
    private static func walk(_ top: String) -> [(path: String, files: [String])] {
        var result: [(path: String, files: [String])] = []
        var seen = Set<String>()
        var stack = [top]
        while let dir = stack.popLast() {
            let real = (dir as NSString).resolvingSymlinksInPath
            guard seen.insert(real).inserted else { continue }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            var files: [String] = []
            for name in names {
                let path = (dir as NSString).appendingPathComponent(name)
                if isDirectory(path) { stack.append(path) } else { files.append(name) }
            }
            result.append((dir, files))
        }
        return result.sorted { pythonLess($0.path, $1.path) }
    }
}

/// Python's `str` ordering: lexicographic by Unicode code point, case-sensitive, no normalisation.
func pythonLess(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
}
