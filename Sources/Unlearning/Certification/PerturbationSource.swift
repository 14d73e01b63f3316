import RealModule

/// Where the secret loss perturbation `b` of certified removal comes from.
public enum PerturbationSource: Sendable, Codable, Hashable {
  /// The operating system's cryptographic generator (`SystemRandomNumberGenerator`): the only
  /// private choice, and the default everywhere.
  case system
  /// A seeded generator: anyone who knows the seed rebuilds `b`, which voids the certificate.
  /// For tests and notebooks that must print identical text only; a state trained with it says
  /// so and cannot be released publicly.
  case reproducibleNotPrivate(seed: UInt64)

  /// Whether `b` drawn from this source is secret.
  public var isPrivate: Bool { self == .system }

  /// `count` independent `N(0, sigma^2)` entries. `draw` is the 0-based index of the draw
  /// (training 0, each budget-triggered retrain 1, 2, ...): the reproducible source gives a
  /// distinct deterministic vector per draw; the system source ignores it.
  public func drawPerturbation(count: Int, sigma: Double, draw: Int) -> [Double] {
    switch self {
    case .system:
      var generator = SystemRandomNumberGenerator()
      return (0..<count).map { _ in sigma * Self.standardNormal(using: &generator) }
    case .reproducibleNotPrivate(let seed):
      var generator = SeededGenerator(seed: seed &+ UInt64(draw) &* 0x9E37_79B9_7F4A_7C15)
      return generator.normalVector(count: count, standardDeviation: sigma)
    }
  }

  /// One standard normal by the Box-Muller transform on two 53-bit uniforms in `(0, 1]`.
  static func standardNormal(using generator: inout some RandomNumberGenerator) -> Double {
    let u1 = Double((generator.next() >> 11) + 1) * 0x1p-53
    let u2 = Double(generator.next() >> 11) * 0x1p-53
    return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
  }
}
