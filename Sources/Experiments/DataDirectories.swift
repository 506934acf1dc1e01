import Foundation

/// Where a machine keeps each data set's files, from repeated `--data-dir` options: `DIR` for every
/// data set, `NAME=DIR` for one (`imagenet=/data/imagenet`, `cifar100=/data/cifar`). A worker takes
/// them once and each experiment's job gets the folder of the data set it loads.
public struct DataDirectories: Sendable, Equatable {
    /// The folder for data sets without their own entry; nil: the sweep's path, else the default.
    public private(set) var fallback: String?
    /// Folders by data set.
    public private(set) var byDataset: [DatasetName: String] = [:]

    /// No folders: every data set uses the sweep's path or its default location.
    public init() {}

    /// Parses `--data-dir` values. Every folder must exist; an unknown data set name, an empty
    /// folder or a second value for the same data set is an error naming the value.
    public init(parsing values: [String], option: String = "--data-dir") throws(DataDirectoriesError) {
        let names = DatasetName.allCases.map(\.rawValue).joined(separator: ", ")
        for value in values {
            var dataset: DatasetName?
            var folder = value
            if let eq = value.firstIndex(of: "="), !value[..<eq].contains("/") {
                let key = String(value[..<eq])
                guard let name = DatasetName(rawValue: key) else {
                    throw DataDirectoriesError("\(option) \(value): unknown data set '\(key)'; expected NAME=DIR with NAME one of \(names), or a folder for all")
                }
                dataset = name
                folder = String(value[value.index(after: eq)...])
            }
            guard !folder.isEmpty else { throw DataDirectoriesError("\(option) \(value): the folder is empty") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DataDirectoriesError("\(option) \(value): '\(folder)' is not a folder on this machine")
            }
            if let dataset {
                guard byDataset[dataset] == nil else {
                    throw DataDirectoriesError("\(option) \(value): \(dataset.rawValue) already has the folder \(byDataset[dataset]!)")
                }
                byDataset[dataset] = folder
            } else {
                guard fallback == nil else {
                    throw DataDirectoriesError("\(option) \(value): a folder for every data set was already given (\(fallback!)); name the data set (NAME=DIR)")
                }
                fallback = folder
            }
        }
    }

    /// The folder of the data set an experiment loads (its own entry, else the folder for all).
    public func directory(for dataset: DatasetName) -> String? { byDataset[dataset] ?? fallback }

    /// The values that parse back to these folders, data sets in a fixed order.
    public var values: [String] {
        (fallback.map { [$0] } ?? []) + DatasetName.allCases.compactMap { name in byDataset[name].map { "\(name.rawValue)=\($0)" } }
    }
}

/// A `--data-dir` value that names no usable folder.
public struct DataDirectoriesError: Error, CustomStringConvertible, Sendable {
    /// One line naming the value and what was expected.
    public let description: String
    init(_ description: String) { self.description = description }
}
