/// The closed vocabularies of an experiment spec. Each encodes as the string a sweep file and an
/// experiment's canonical JSON have always used, so typing them changed no experiment ID.

/// A data set by name: what an experiment actually trains and evaluates on.
public enum DatasetName: String, Codable, Sendable, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case cifar10
    case cifar100
    case imagenet
    case coco

    /// "Fashion-MNIST", "CIFAR-100", ... for tables and plots.
    public var displayName: String {
        switch self {
        case .fashionMNIST: "Fashion-MNIST"
        case .cifar10: "CIFAR-10"
        case .cifar100: "CIFAR-100"
        case .imagenet: "ImageNet-1k"
        case .coco: "COCO"
        }
    }
}

/// The benchmark data set an experiment stands for (PruningBench's three).
public enum DatasetRole: String, Codable, Sendable, CaseIterable {
    case cifar100
    case imagenet
    case coco

    /// The data set of the same name.
    public var dataset: DatasetName { DatasetName(rawValue: rawValue)! }
}

/// Preprocessing that turns a stand-in data set into the input of the model it stands in for.
public enum DataTransform: String, Codable, Sendable, CaseIterable {
    /// Bilinear resize to 64×64 and the gray channel replicated to RGB.
    case upscale64RGB = "upscale64_rgb"

    /// The data sets the transform is defined for.
    public var appliesTo: [DatasetName] {
        switch self {
        case .upscale64RGB: [.fashionMNIST]
        }
    }
}

/// The optimizer of a training phase.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd
    case adamw
    /// Ultralytics' optimizer choice for detector recipes.
    case ultralytics
}

/// A learning-rate schedule: `cosine`, `constant`, `ultralytics`, `multistep:E1,E2,...` (the
/// rate times 0.1 at each listed epoch) or `step:N` (times 0.1 every N epochs).
public enum ScheduleSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    case cosine
    case constant
    case ultralytics
    case multistep([Int])
    case step(Int)

    /// The spelling forms accepted, for error messages.
    public static let forms = "cosine, constant, ultralytics, multistep:E1,E2,... or step:N"

    /// Parses the string form; nil unless it is exactly the canonical spelling (positive,
    /// increasing milestones written as plain integers), so the encoding round-trips.
    public init?(_ text: String) {
        let parsed: ScheduleSpec?
        switch text {
        case "cosine": parsed = .cosine
        case "constant": parsed = .constant
        case "ultralytics": parsed = .ultralytics
        case _ where text.hasPrefix("multistep:"):
            let ms = text.dropFirst(10).split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            parsed = ms.allSatisfy({ ($0 ?? 0) > 0 }) && !ms.isEmpty && zip(ms, ms.dropFirst()).allSatisfy({ $0! < $1! })
                ? .multistep(ms.map { $0! }) : nil
        case _ where text.hasPrefix("step:"):
            parsed = Int(text.dropFirst(5)).flatMap { $0 > 0 ? .step($0) : nil }
        default: parsed = nil
        }
        guard let parsed, parsed.description == text else { return nil }
        self = parsed
    }

    public var description: String {
        switch self {
        case .cosine: "cosine"
        case .constant: "constant"
        case .ultralytics: "ultralytics"
        case .multistep(let ms): "multistep:" + ms.map(String.init).joined(separator: ",")
        case .step(let n): "step:\(n)"
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let s = ScheduleSpec(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "schedule '\(text)' is not one of \(Self.forms)"))
        }
        self = s
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
