/// A seeded, platform-independent random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random decision in the engine (initialisation, dropout masks, shuffling, augmentation)
/// draws from one of these, so the same seed gives the same stream on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `seed`. Different `stream` values give independent streams for one seed.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(&x), splitMix(&x), splitMix(&x), splitMix(&x))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), from the top 24 bits (exactly representable in float32).
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func nextUniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Standard normal (Box-Muller in double precision).
    public mutating func nextNormal() -> Float {
        let u1 = max(nextUniformDouble(), 1e-300)
        let u2 = nextUniformDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Uniform integer in `0..<bound`, without modulo bias.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }
}

// Foundation-free log/cos for Double through the C library.
#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif

extension Tensor {
    /// Elements drawn from normal(mean, std).
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    using g: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.mutablePointer()
        for i in 0..<t.count { p[i] = mean + std * g.nextNormal() }
        return t
    }

    /// Elements drawn uniformly from [low, high).
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     using g: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.mutablePointer()
        for i in 0..<t.count { p[i] = low + (high - low) * g.nextUniform() }
        return t
    }
}
