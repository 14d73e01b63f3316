/// Ridge regression: the squared loss `loss_i = (theta^T x_i - y_i)^2 / 2` with the L2 term
/// of ``Objective``.
///
/// The objective is quadratic, so one Newton step from anywhere is the exact minimiser and a
/// Newton removal equals retraining to round-off: the exact-removal oracle. Targets are real
/// values. `ell'(z) = z - y`, `ell'' = 1`; the dense Hessian is `X~^T diag(w) X~`.
///
/// Parameter layout: `w` (`d`), then the intercept when ``fitsIntercept``.
public struct RidgeRegression: GeneralizedLinearModel, Hashable, Codable {
  /// Number of input features `d`.
  public let featureCount: Int
  /// Whether a bias on a constant-1 feature is appended (the last parameter).
  public let fitsIntercept: Bool

  /// Creates a ridge model on `featureCount` features (optionally with an intercept).
  public init(featureCount: Int, fitsIntercept: Bool = false) {
    precondition(featureCount >= 0, "RidgeRegression: negative feature count")
    self.featureCount = featureCount
    self.fitsIntercept = fitsIntercept
  }

  /// 1 (a single real output).
  public var outputClassCount: Int { 1 }
  /// `true`.
  public var isConvex: Bool { true }

  /// `loss = r^2 / 2`, `ell' = r`, `ell'' = 1` with `r = z - y`. `O(n)`.
  public func lossDerivatives(linearPredictors z: [Double], targets: [Double]) -> (
    values: [Double], first: [Double], second: [Double]
  ) {
    precondition(
      z.count == targets.count,
      "RidgeRegression: \(targets.count) targets for \(z.count) predictors")
    let r = zip(z, targets).map { $0 - $1 }
    return (r.map { 0.5 * $0 * $0 }, r, [Double](repeating: 1, count: r.count))
  }

  /// The predictions `z_i` as an `n x 1` matrix.
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    let z = linearPredictors(parameters, features: features)
    return Matrix(rows: z.count, columns: 1, elements: z)
  }

  /// The predictions rounded to the nearest integer (clamped to the `Int` range).
  public func predictions(_ parameters: [Double], features: Matrix) -> [Int] {
    linearPredictors(parameters, features: features).map { z in
      guard z.isFinite else { return 0 }
      return Int(Swift.max(Swift.min(z.rounded(), 9.0e18), -9.0e18))
    }
  }
}
