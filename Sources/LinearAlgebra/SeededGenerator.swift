/// A small, fast, deterministic random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in the package flows from one of these, created from an explicit seed,
/// so that results are reproducible bit for bit across runs and machines. Use
/// ``split()`` to derive an independent stream for a sub-task without disturbing this one's
/// sequence length.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// Creates a generator whose whole output is a function of `seed`.
  public init(seed: UInt64) {
    var sm = seed
    func splitMix(_ x: inout UInt64) -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(&sm), splitMix(&sm), splitMix(&sm), splitMix(&sm))
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    @inline(__always) func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    let result = rotl(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotl(state.3, 45)
    return result
  }

  /// A new generator seeded from this one's next output (an independent stream).
  public mutating func split() -> SeededGenerator { SeededGenerator(seed: next()) }

  /// A uniform double in `[0, 1)` with 53 random bits.
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal draw (Box-Muller; one draw per call, deterministic).
  public mutating func nextNormal() -> Double {
    var u1 = nextUniform()
    while u1 <= .leastNormalMagnitude { u1 = nextUniform() }
    let u2 = nextUniform()
    return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * .pi * u2)
  }

  /// A normal draw with the given mean and standard deviation.
  public mutating func nextNormal(mean: Double, standardDeviation: Double) -> Double {
    mean + standardDeviation * nextNormal()
  }

  /// `count` independent `N(0, standardDeviation^2)` draws.
  public mutating func normalVector(count: Int, standardDeviation: Double = 1) -> [Double] {
    (0..<count).map { _ in standardDeviation * nextNormal() }
  }
}

extension Double {
  @usableFromInline static func log(_ x: Double) -> Double { _log(x) }
  @usableFromInline static func cos(_ x: Double) -> Double { _cos(x) }
}

#if canImport(Glibc)
  import Glibc
  @usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
  @usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
  import Darwin
  @usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
  @usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
