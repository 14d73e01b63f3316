/// A deterministic optimiser of an ``Objective``.
///
/// Every trainer reports a ``Training/Result`` with the sum-form gradient norm and an explicit
/// `converged` flag; none returns a non-converged answer silently. Given the same objective,
/// start and configuration (seed included), the result is bitwise reproducible on the same
/// machine and thread count.
public protocol Trainer: Sendable {
  /// Minimises `objective` starting at `start` (or at the model's
  /// ``TwiceDifferentiableModel/initialParameters(seed:)`` when `nil`).
  func train<Model: TwiceDifferentiableModel>(_ objective: Objective<Model>, from start: [Double]?)
    -> Training.Result
}

extension Trainer {
  /// Minimises `objective` from the model's default initial parameters.
  public func train<Model: TwiceDifferentiableModel>(_ objective: Objective<Model>)
    -> Training.Result
  {
    train(objective, from: nil)
  }
}

/// Wall-clock timing for training results.
struct Stopwatch {
  private let start = ContinuousClock.now

  var seconds: Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }
}

extension Objective {
  /// The absolute sum-form gradient threshold `relative * n_eff` (at least `relative`).
  func absoluteTolerance(relative: Double) -> Double {
    relative * Swift.max(effectiveCount, 1)
  }

  /// The starting point: `start` (checked) or the model's initial parameters.
  func startingPoint(_ start: [Double]?, seed: UInt64) -> [Double] {
    guard let start else { return model.initialParameters(seed: seed) }
    precondition(
      start.count == parameterCount,
      "Trainer: start has \(start.count) entries, expected \(parameterCount)")
    return start
  }

  /// A finished result at `theta` (one more value and gradient evaluation).
  func result(
    _ theta: [Double], iterations: Int, tolerance: Double, stopwatch: Stopwatch, method: String,
    notes: [String]
  ) -> Training.Result {
    let (value, gradient) = valueAndGradient(at: theta)
    let norm = gradient.norm()
    return Training.Result(
      parameters: theta, iterations: iterations, gradientNorm: norm, gradientTolerance: tolerance,
      objectiveValue: value, seconds: stopwatch.seconds, converged: norm <= tolerance,
      method: method, notes: notes)
  }
}
