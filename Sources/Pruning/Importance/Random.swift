import Experiments
import Tensor

/// `random`: uniform [0, 1) per root channel from a seeded generator; no reduction, no
/// normalization. Streams differ from PyTorch's, so decisions are not comparable with the reference.
public final class RandomImportance: ImportanceCriterion {
    public let key = Criterion.random
    private var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed, stream: 0x9A) }

    public func scores(of group: Group, in graph: DependencyGraph) -> [Float]? {
        guard let c = graph.channels(group.root) else { return nil }
        return (0..<c).map { _ in generator.nextUniform() }
    }
}
