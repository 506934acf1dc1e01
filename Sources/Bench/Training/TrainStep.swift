import NN
import Tensor

/// One optimisation step of a classifier: forward, cross-entropy, backward, optimizer update.
public struct TrainStep {
    public var labelSmoothing: Float
    public var gradientClip: Float?
    /// Sparse training: called after backward and before gradient clipping and the optimizer
    /// step, to add a regularizer's gradient (Torch-Pruning's `pruner.regularize(model)`).
    public var regularize: ((Model) -> Void)?

    public init(labelSmoothing: Float = 0, gradientClip: Float? = nil, regularize: ((Model) -> Void)? = nil) {
        self.labelSmoothing = labelSmoothing
        self.gradientClip = gradientClip
        self.regularize = regularize
    }

    /// Runs the step and returns the batch's mean loss and number of correct predictions.
    public func run(model: Model, optimizer: inout some Optimizer, images: Tensor, labels: [Int32],
                    context: inout ForwardContext) -> (loss: Double, correct: Int) {
        model.zeroGradients()
        let logits = model.forward(images, context: &context)
        let (loss, grad) = CrossEntropy.lossAndGradient(logits: logits, targets: labels, labelSmoothing: labelSmoothing)
        model.backward(grad)
        regularize?(model)
        if let clip = gradientClip { clipGradientNorm(model.namedParameters, maxNorm: clip) }
        optimizer.step(model.namedParameters)
        return (loss, Accuracy.correct(logits: logits, targets: labels))
    }
}
