/// A linear operator whose product may be estimated from a random mini-batch (a stochastic
/// Hessian-vector product). The expectation of ``apply(_:using:)`` must be `A v`.
public protocol StochasticLinearOperator {
  var dimension: Int { get }
  /// An unbiased estimate of `A v`, drawing any randomness from `generator`.
  func apply(_ v: [Double], using generator: inout SeededGenerator) -> [Double]
}

/// Any deterministic operator is a (zero-variance) stochastic one.
public struct ExactStochasticOperator<Base: LinearOperator>: StochasticLinearOperator {
  public let base: Base
  public init(_ base: Base) { self.base = base }
  public var dimension: Int { base.dimension }
  public func apply(_ v: [Double], using generator: inout SeededGenerator) -> [Double] {
    base.apply(v)
  }
}

/// LiSSA (Agarwal, Bullins & Hazan 2017): a stochastic Neumann-series estimate of `A^{-1} b`.
///
/// Recursion (Docs/Math.md section 5): `h_0 = b`, `h_j = b + (1 - damping) h_{j-1} - (A_batch h_{j-1}) / scale`,
/// estimate `h_depth / scale`, averaged over `repeats` independent runs. It converges to
/// `(A + damping * scale * I)^{-1} b` when `scale > lambda_max(A) / 2` (and `A` is PSD): the
/// effective damping is `damping * scale`. With `scale < lambda_max / 2` it diverges; that is
/// detected (NaN, infinity, or `||h_j|| > 2 (j + 1) ||b||`, impossible for a contraction) and
/// reported as ``IterativeSolution/diverged`` rather than returned as an answer.
///
/// Default scale rule: ``recommendedScale(largestEigenvalue:)`` = `1.1 * lambda_max`.
public struct LiSSA: Sendable {
  /// Divides the operator so that `I - A / scale` is a contraction; must exceed `lambda_max / 2`.
  public var scale: Double
  /// Damping `mu` in `[0, 1)`; the effective Tikhonov damping is `mu * scale`.
  public var damping: Double
  /// Recursion depth `J` per repeat.
  public var depth: Int
  /// Independent repeats averaged.
  public var repeats: Int
  /// Seed of the generator handed to the stochastic operator.
  public var seed: UInt64

  public init(
    scale: Double, damping: Double = 0, depth: Int = 1000, repeats: Int = 1, seed: UInt64 = 0
  ) {
    precondition(scale > 0, "LiSSA: scale must be positive")
    precondition(damping >= 0 && damping < 1, "LiSSA: damping must be in [0, 1)")
    precondition(depth > 0 && repeats > 0, "LiSSA: depth and repeats must be positive")
    self.scale = scale
    self.damping = damping
    self.depth = depth
    self.repeats = repeats
    self.seed = seed
  }

  /// The default scale for a PSD operator with largest eigenvalue `lambda_max`: `1.1 * lambda_max`
  /// (safely above the divergence threshold `lambda_max / 2`, and keeps the contraction factor
  /// `1 - lambda_min / scale` as small as that safety allows).
  public static func recommendedScale(largestEigenvalue: Double) -> Double {
    1.1 * largestEigenvalue
  }

  /// Estimates `A^{-1} b`.
  ///
  /// - Parameters:
  ///   - op: the (possibly stochastic) operator `A`.
  ///   - b: right-hand side.
  ///   - exactOperator: if given, the exact `A` used once at the end to report the true relative
  ///     residual of the estimate against `A` (not against the damped system).
  public func solve(
    _ op: some StochasticLinearOperator, _ b: [Double], exactOperator: (any LinearOperator)? = nil
  ) -> IterativeSolution {
    let n = op.dimension
    precondition(b.count == n, "LiSSA: right-hand side has \(b.count) entries, expected \(n)")
    var generator = SeededGenerator(seed: seed)
    var total = [Double](repeating: 0, count: n)
    let bNorm = b.norm()
    var iterations = 0
    for _ in 0..<repeats {
      var h = b
      for j in 1...depth {
        let ah = op.apply(h, using: &generator)
        // h = b + (1 - mu) h - ah / scale
        h.scale(by: 1 - damping)
        h.add(ah, scaledBy: -1 / scale)
        h.add(b)
        iterations += 1
        let hn = h.norm()
        if !hn.isFinite || hn > 2 * Double(j + 1) * bNorm + 1e-300 {
          return IterativeSolution(
            solution: [Double](repeating: .nan, count: n), iterations: iterations,
            relativeResidual: nil,
            converged: false, diverged: true)
        }
      }
      total.add(h, scaledBy: 1 / scale)
    }
    total.scale(by: 1 / Double(repeats))
    let residual = exactOperator.map { relativeResidual(of: $0, solution: total, rightHandSide: b) }
    return IterativeSolution(
      solution: total, iterations: iterations, relativeResidual: residual, converged: true,
      diverged: false)
  }

  /// Deterministic convenience: LiSSA on an exact operator (reports the true residual).
  public func solve(_ op: some LinearOperator, _ b: [Double]) -> IterativeSolution {
    solve(ExactStochasticOperator(op), b, exactOperator: op)
  }
}
