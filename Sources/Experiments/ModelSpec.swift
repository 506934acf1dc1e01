import Foundation

/// A model configuration, written as the `model` object of the golden `case.json` schema:
/// `{"arch": "resnet18", "variant": "cifar", "width": 0.25, "input_shape": [1, 28, 28], "num_classes": 10}`.
/// ViTs (`"arch": "vit"` or `"vit_small_patch16_224"`) add `patch_size`, `embed_dim`, `depth`,
/// `num_heads`, `mlp_hidden` (and optionally `head_dim`).
public struct ModelSpec: Codable, Sendable, Equatable {
    public var arch: String
    public var variant: String?
    public var width: Double?
    public var inputShape: [Int]
    public var numClasses: Int
    public var patchSize: Int?
    public var embedDim: Int?
    public var depth: Int?
    public var numHeads: Int?
    public var headDim: Int?
    public var mlpHidden: Int?

    enum CodingKeys: String, CodingKey {
        case arch, variant, width
        case inputShape = "input_shape", numClasses = "num_classes", patchSize = "patch_size"
        case embedDim = "embed_dim", depth, numHeads = "num_heads", headDim = "head_dim", mlpHidden = "mlp_hidden"
    }

    /// Keys a model object may carry; `description` and `classifier` are informative only.
    public static let knownKeys: Set<String> = Set(["arch", "variant", "width", "input_shape", "num_classes", "patch_size",
                                                    "embed_dim", "depth", "num_heads", "head_dim", "mlp_hidden",
                                                    "description", "classifier"])

    /// The CNN architectures and their variants.
    public static let cnnArchitectures = ["resnet18", "resnet50", "vgg19_bn"]

    public init(arch: String, variant: String? = nil, width: Double? = nil, inputShape: [Int], numClasses: Int) {
        self.arch = arch; self.variant = variant; self.width = width
        self.inputShape = inputShape; self.numClasses = numClasses
    }

    /// Parses and validates a model object; every problem names the field (and `source`).
    public static func parse(_ data: Data, source: String) throws -> ModelSpec {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelSpecError("\(source): not a JSON object")
        }
        // Accept a whole case.json too: use its "model" object.
        let model = (object["model"] as? [String: Any]) ?? object
        let unknown = Set(model.keys).subtracting(knownKeys)
        guard unknown.isEmpty else {
            throw ModelSpecError("\(source): unknown key(s) \(unknown.sorted().joined(separator: ", ")); expected \(knownKeys.sorted().joined(separator: ", "))")
        }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: JSONSerialization.data(withJSONObject: model))
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelSpecError("\(source): missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ModelSpecError("\(source): field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw ModelSpecError("\(source): \(error)")
        }
        try spec.validate(source: source)
        return spec
    }

    /// Checks ranges and combinations.
    public func validate(source: String = "model") throws {
        func fail(_ m: String) -> ModelSpecError { ModelSpecError("\(source): \(m)") }
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw fail("field 'input_shape' must be [C, H, W] with positive sizes, got \(inputShape)")
        }
        guard inputShape[1] == inputShape[2] else { throw fail("field 'input_shape': only square inputs are supported, got \(inputShape)") }
        guard numClasses >= 1 else { throw fail("field 'num_classes' must be positive") }
        if Self.cnnArchitectures.contains(arch) {
            guard let v = variant, Variant(rawValue: v) != nil else { throw fail("field 'variant' must be cifar or imagenet") }
            if let w = width, !(w > 0 && w <= 8) { throw fail("field 'width' must be in (0, 8], got \(w)") }
            let minimum = v == "cifar" ? 8 : 32
            guard inputShape[1] >= minimum else { throw fail("field 'input_shape': \(arch) \(v) needs at least \(minimum)x\(minimum)") }
        } else if arch.hasPrefix("vit") {
            for (name, value) in [("patch_size", patchSize), ("embed_dim", embedDim), ("depth", depth), ("num_heads", numHeads),
                                  ("mlp_hidden", mlpHidden)] {
                guard let value, value > 0 else { throw fail("field '\(name)' is required for a ViT and must be positive") }
            }
            guard inputShape[1] % patchSize! == 0 else { throw fail("field 'patch_size' \(patchSize!) must divide the image size \(inputShape[1])") }
            guard embedDim! % numHeads! == 0 else { throw fail("field 'embed_dim' \(embedDim!) must be divisible by 'num_heads' \(numHeads!)") }
            if let h = headDim, h * numHeads! != embedDim! { throw fail("field 'head_dim' \(h) x num_heads must equal embed_dim") }
        } else {
            throw fail("field 'arch' is '\(arch)'; expected one of \((Self.cnnArchitectures + ["vit"]).joined(separator: ", "))")
        }
    }

    /// Canonical JSON (sorted keys), as stored in checkpoint metadata.
    public func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }
}

/// A model configuration that cannot be built, and why (naming the field).
public struct ModelSpecError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Which reference definition a CNN builder follows.
public enum Variant: String, Sendable, CaseIterable, Codable {
    /// Torch-Pruning's CIFAR zoo: 3x3 stride-1 stem, no max-pool, functional ReLU and pooling.
    case cifar
    /// torchvision: 7x7 stride-2 stem, max-pool, ReLU and pooling modules.
    case imagenet
}
