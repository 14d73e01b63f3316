#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension CertifiedRemoval {
  /// Where the secret loss perturbation `b ~ N(0, sigma^2 I)` of certified removal comes from.
  ///
  /// The certificate's privacy rests on `b` being **unpredictable** to whoever sees the model: an
  /// adversary who can recompute `b` can subtract it and the guarantee is void. Only ``system``
  /// gives that. ``reproducibleNotPrivate(seed:)`` exists so that tests, notebooks and benchmarks
  /// can rerun bit for bit.
  ///
  /// Draws are indexed: `draw` 0 is the perturbation used at training time, and draw `k >= 1` the
  /// one used by the `k`-th budget-triggered retrain. The reproducible source derives a distinct,
  /// deterministic stream per `(seed, draw)` so no generator state has to be stored between
  /// requests; the system source ignores the index.
  ///
  /// Encoded in JSON as `{"system": {}}` or `{"reproducibleNotPrivate": {"seed": 7}}`.
  public enum PerturbationSource: Sendable, Codable, Hashable {
    /// Gaussian entries from the operating system's cryptographically secure generator
    /// (`SystemRandomNumberGenerator`: `getrandom` on Linux), by the Marsaglia polar method on
    /// 53-bit uniform doubles. Use this for every model whose certificate is meant to protect
    /// anyone.
    case system

    /// Gaussian entries from the project's `SeededGenerator` (xoshiro256**, Box-Muller).
    ///
    /// - Warning: **NOT PRIVATE.** Anyone who knows or guesses the seed (and seeds are small,
    ///   guessable and usually written down next to the results) can regenerate `b` exactly, and
    ///   the `(epsilon, delta)` certificate then means nothing. For tests, notebooks and
    ///   benchmarks only; never for a model released or kept to honour real deletion requests.
    ///
    /// Draw 0 equals `SeededGenerator(seed: seed).normalVector(count:standardDeviation:)`, so
    /// results computed before the draw index existed are reproduced unchanged.
    case reproducibleNotPrivate(seed: UInt64)

    /// Whether draws from this source are unpredictable (only ``system`` is).
    public var isPrivate: Bool {
      switch self {
      case .system: return true
      case .reproducibleNotPrivate: return false
      }
    }

    /// `count` independent `N(0, sigma^2)` entries: the perturbation vector of draw `draw`.
    ///
    /// - Parameters:
    ///   - count: the vector length (the model's parameter count), `>= 0`.
    ///   - sigma: the standard deviation of each entry, `>= 0`.
    ///   - draw: the 0-based index of the draw (training = 0, the `k`-th retrain = `k`), `>= 0`.
    ///     Selects the stream of a reproducible source; ignored by ``system``.
    /// - Returns: `count` doubles. Cost: O(count); the system source uses about 1.27 random
    ///   64-bit words per entry (two per polar attempt, accepted with probability `pi / 4`, each
    ///   accepted attempt giving two entries).
    public func drawPerturbation(count: Int, sigma: Double, draw: Int) -> [Double] {
      precondition(count >= 0, "count must be >= 0, got \(count)")
      precondition(sigma >= 0 && sigma.isFinite, "sigma must be >= 0 and finite, got \(sigma)")
      precondition(draw >= 0, "draw must be >= 0, got \(draw)")
      switch self {
      case .system:
        var generator = SystemRandomNumberGenerator()
        return Self.polarNormals(count: count, sigma: sigma, using: &generator)
      case .reproducibleNotPrivate(let seed):
        var generator = SeededGenerator(seed: Self.streamSeed(seed: seed, draw: draw))
        return generator.normalVector(count: count, standardDeviation: sigma)
      }
    }

    /// The seed of draw `draw`'s stream: `seed` itself for draw 0, otherwise a SplitMix64 mix of
    /// `seed` and `draw` (distinct draws give unrelated streams).
    static func streamSeed(seed: UInt64, draw: Int) -> UInt64 {
      if draw == 0 { return seed }
      return splitMix64(seed ^ splitMix64(0x6472_6177_2d69_6478 &+ UInt64(draw)))
    }

    /// The SplitMix64 finaliser.
    static func splitMix64(_ x: UInt64) -> UInt64 {
      var z = x &+ 0x9E37_79B9_7F4A_7C15
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }

    /// `count` normal draws by the Marsaglia polar method on 53-bit uniforms in `(-1, 1)`.
    static func polarNormals<G: RandomNumberGenerator>(
      count: Int, sigma: Double, using generator: inout G
    ) -> [Double] {
      var result = [Double]()
      result.reserveCapacity(count)
      while result.count < count {
        let u = 2 * (Double(generator.next() >> 11) * 0x1.0p-53) - 1
        let v = 2 * (Double(generator.next() >> 11) * 0x1.0p-53) - 1
        let s = u * u + v * v
        guard s > 0, s < 1 else { continue }
        let factor = (-2 * log(s) / s).squareRoot()
        result.append(sigma * u * factor)
        if result.count < count { result.append(sigma * v * factor) }
      }
      return result
    }
  }
}
