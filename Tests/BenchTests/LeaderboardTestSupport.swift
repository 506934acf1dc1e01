import Experiments
import Bench
import Foundation

/// Synthetic experiment results for the leaderboard tests.
enum LeaderboardFixtures {
    /// A minimal pruning result as JSON; `make` fills in the fields a test varies.
    static let template = #"""
    {"id":"x","name":"x","metrics":{"accuracy":0,"kind":"prune","seed":0,"software_version":"test","threads":1,"train_fingerprint":"t","test_fingerprint":"t",
    "train_images":1,"test_images":1,"last_epoch_accuracy":0,"epoch_accuracies":[0],"parameters":1000,"macs":2000,"checkpoint_sha256":"c"},
    "spec":{"kind":"prune","task":"classification","model":{"arch":"resnet18","input_shape":[1,28,28],"num_classes":10},
    "dataset":{"name":"fashion-mnist","role":"cifar100","stand_in":true},"profile":"smoke","seed":0,"settings":{"data":{}}},
    "timings":{"wall_seconds":1}}
    """#

    /// One pruning result on `board` for `method` at `speedup` with `accuracy` against `base`.
    static func make(board: String = "test.board", method: String, speedup: Double = 2, accuracy: Double,
                     base: Double = 50, seed: Int = 0, parametersLeft: Double = 50) -> ExperimentResult {
        var r = try! JSONDecoder().decode(ExperimentResult.self, from: Data(template.utf8))
        r.spec.leaderboard = board
        r.spec.method = method
        r.spec.speedup = speedup
        r.spec.scheme = .globalProtected
        r.spec.seed = seed
        r.spec.base = "base-\(board)-\(seed)"
        r.metrics.seed = seed
        r.metrics.accuracy = accuracy
        r.metrics.baseAccuracy = base
        r.metrics.deltaAccuracy = accuracy - base
        r.metrics.parametersLeftPercent = parametersLeft
        r.metrics.parameters = Int(parametersLeft * 100)
        r.metrics.achievedSpeedup = speedup + 0.1
        r.timings.pruneStepMeanSeconds = 0.5
        r.timings.baseLatencyBatch1Seconds = 0.004; r.timings.latencyBatch1Seconds = 0.004 / (1 + speedup / 4)
        r.timings.baseLatencyBatch64Seconds = 0.2; r.timings.latencyBatch64Seconds = 0.2 / (speedup * 0.8)
        r.timings.regularizationSeconds = Track(method: method) == .regularizer ? 30 : nil
        r.id = r.spec.id
        r.name = r.spec.readableName
        return r
    }
}
