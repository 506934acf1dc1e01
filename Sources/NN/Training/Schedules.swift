/// A learning rate as a function of the optimizer step.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step `step` (0-based) of `totalSteps`.
    func learningRate(step: Int) -> Float
}

/// `MultiStepLR`: the base rate multiplied by `gamma` at each milestone step passed.
public struct MultiStepSchedule: LearningRateSchedule {
    public var base: Float, milestones: [Int], gamma: Float
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base; self.milestones = milestones.sorted(); self.gamma = gamma
    }
    public func learningRate(step: Int) -> Float {
        var lr = base
        for m in milestones where step >= m { lr *= gamma }
        return lr
    }
}

/// Linear warm-up from `base * warmupStartFactor` to `base` over `warmupSteps`, then a cosine
/// decay to `minimum` at `totalSteps`.
public struct CosineWarmupSchedule: LearningRateSchedule {
    public var base: Float, minimum: Float, warmupSteps: Int, totalSteps: Int, warmupStartFactor: Float
    public init(base: Float, totalSteps: Int, warmupSteps: Int = 0, minimum: Float = 0, warmupStartFactor: Float = 0.01) {
        self.base = base; self.minimum = minimum
        self.warmupSteps = warmupSteps; self.totalSteps = max(totalSteps, 1)
        self.warmupStartFactor = warmupStartFactor
    }
    public func learningRate(step: Int) -> Float {
        if step < warmupSteps {
            let t = Float(step) / Float(max(warmupSteps, 1))
            return base * (warmupStartFactor + (1 - warmupStartFactor) * t)
        }
        let span = max(totalSteps - warmupSteps, 1)
        let t = min(Double(step - warmupSteps) / Double(span), 1)
        return minimum + (base - minimum) * Float(0.5 * (1 + Foundationless.cos(Double.pi * t)))
    }
}

/// A constant rate.
public struct ConstantSchedule: LearningRateSchedule {
    public var rate: Float
    public init(_ rate: Float) { self.rate = rate }
    public func learningRate(step: Int) -> Float { rate }
}
