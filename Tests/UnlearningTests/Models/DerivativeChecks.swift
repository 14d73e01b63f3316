import Testing
import TestSupport
import Unlearning

/// The derivative oracles every model suite runs, on one objective at one point.
struct DerivativeReport: CustomStringConvertible {
  var gradientError: Double
  var hvpVersusFiniteDifference: Double
  var hvpVersusDenseHessian: Double
  var hessianAsymmetry: Double
  var perSampleGradientError: Double

  var description: String {
    "grad \(gradientError), hvp/fd \(hvpVersusFiniteDifference), hvp/dense \(hvpVersusDenseHessian),"
      + " asym \(hessianAsymmetry), per-sample \(perSampleGradientError)"
  }
}

enum DerivativeChecks {
  /// Random weights in [0, 2] with every fourth weight exactly 0.
  static func weights(count n: Int, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    return (0..<n).map { i in i % 4 == 3 ? 0 : 2 * g.nextUniform() }
  }

  static func run<M: TwiceDifferentiableModel>(
    _ objective: Objective<M>, at theta: [Double], seed: UInt64
  )
    -> DerivativeReport
  {
    var g = SeededGenerator(seed: seed)
    let analytic = objective.gradient(at: theta)
    let numeric = FiniteDifferences.gradient(at: theta) { objective.value(at: $0) }
    let v = g.normalVector(count: theta.count)
    let hv = objective.hessianVectorProduct(at: theta, v)
    let fdHv = FiniteDifferences.directionalDerivative(at: theta, direction: v) {
      objective.gradient(at: $0)
    }
    let h = objective.hessian(at: theta)
    let denseHv = h.multiply(v)
    // Per-sample gradients: sum_i w_i g_i + lambda n_eff theta + b equals the gradient.
    let perSample = objective.model.perSampleGradients(
      theta, features: objective.features, targets: objective.targets)
    var summed = perSample.multiply(
      objective.weights ?? [Double](repeating: 1, count: perSample.rows), transposed: true)
    summed.add(theta, scaledBy: objective.curvatureShift)
    if let b = objective.perturbation { summed.add(b) }
    return DerivativeReport(
      gradientError: FiniteDifferences.relativeError(analytic, numeric),
      hvpVersusFiniteDifference: FiniteDifferences.relativeError(hv, fdHv),
      hvpVersusDenseHessian: FiniteDifferences.relativeError(hv, denseHv),
      hessianAsymmetry: h.asymmetry / Swift.max(h.frobeniusNorm, 1e-300),
      perSampleGradientError: FiniteDifferences.relativeError(summed, analytic))
  }

  static func expectAccurate(
    _ r: DerivativeReport, fdTolerance: Double = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(r.gradientError <= fdTolerance, "\(r)", sourceLocation: sourceLocation)
    #expect(r.hvpVersusFiniteDifference <= fdTolerance, "\(r)", sourceLocation: sourceLocation)
    #expect(r.hvpVersusDenseHessian <= 1e-12, "\(r)", sourceLocation: sourceLocation)
    #expect(r.hessianAsymmetry <= 1e-14, "\(r)", sourceLocation: sourceLocation)
    #expect(r.perSampleGradientError <= 1e-12, "\(r)", sourceLocation: sourceLocation)
  }
}
