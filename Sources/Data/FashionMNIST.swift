/// Fashion-MNIST (Zalando): 28x28 grey-scale images of 10 kinds of clothing, 60,000 for training
/// and 10,000 for testing, in IDX files.
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// Per-channel mean of the training pixels scaled to [0, 1].
    public static let mean: [Float] = [0.2860]
    /// Per-channel standard deviation of the training pixels scaled to [0, 1].
    public static let std: [Float] = [0.3530]
    /// Image side in pixels.
    public static let imageSize = 28
    /// Number of classes.
    public static let classCount = 10
    /// Class names in label order.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The images and labels file paths of `split` in `directory`, preferring the gzip files and
    /// falling back to uncompressed ones (`train-images-idx3-ubyte`) when only those exist.
    public static func files(split: Split, directory: String = defaultDirectory) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        func pick(_ base: String) -> String {
            Gzip.firstExisting([directory + "/" + base + ".gz", directory + "/" + base])
        }
        return (pick("\(prefix)-images-idx3-ubyte"), pick("\(prefix)-labels-idx1-ubyte"))
    }

    /// Loads one split.
    ///
    /// - Parameters:
    ///   - split: train (60,000 images) or test (10,000).
    ///   - dataDirectory: the folder holding the four IDX files; nil for ``defaultDirectory``.
    /// - Returns: a data set named `fashion-mnist/train` or `fashion-mnist/test`, 1x28x28.
    /// - Throws: a ``DatasetError`` naming the file at fault; a missing file's message says to
    ///   install `dataset-fashion-mnist` or pass `--data-dir`.
    public static func load(split: Split, dataDirectory: String? = nil) throws(DatasetError) -> Dataset {
        let directory = dataDirectory ?? defaultDirectory
        let paths = files(split: split, directory: directory)
        let hint = "Install it with `apt-get install dataset-fashion-mnist` (files go to \(defaultDirectory)), "
            + "or pass `--data-dir DIR` naming a folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]."
        return try IDX.loadDataset(imagesPath: paths.images, labelsPath: paths.labels,
                                   name: "fashion-mnist/\(split.rawValue)", classCount: classCount,
                                   classNames: classNames, expectedSize: (imageSize, imageSize),
                                   missingHint: hint)
    }
}
