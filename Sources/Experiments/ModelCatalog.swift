/// The models the command line knows by name, as ``ModelSpec`` values: a name, a variant and a
/// width give the same spec `train` writes into its checkpoint and `inspect` rebuilds from.
public enum ModelCatalog {
    public static let names = ["resnet18", "resnet50", "vgg19_bn", "vit_tiny"]

    /// The spec of catalog model `name` for images of `inputShape` ([C, H, W]) and `classes`
    /// classes; validated, so every problem names the option.
    public static func spec(name: String, variant: String, width: Double, inputShape: [Int], classes: Int) throws -> ModelSpec {
        var spec: ModelSpec
        switch name {
        case "resnet18", "resnet50", "vgg19_bn":
            spec = ModelSpec(arch: name, variant: variant, width: width, inputShape: inputShape, numClasses: classes)
        case "vit_tiny":
            // timm VisionTransformer as the fixtures' vit_tiny_c32 (patch 4, embed 96, depth 4, 3 heads,
            // MLP 384) at the data set's resolution. Fixed size: variant and width do not apply.
            spec = ModelSpec(arch: name, inputShape: inputShape, numClasses: classes)
            spec.patchSize = 4; spec.embedDim = 96; spec.depth = 4; spec.numHeads = 3; spec.mlpHidden = 384
        default:
            throw ModelSpecError("unknown model '\(name)'; expected one of \(names.joined(separator: ", "))")
        }
        try spec.validate(source: "model \(name)")
        return spec
    }
}
