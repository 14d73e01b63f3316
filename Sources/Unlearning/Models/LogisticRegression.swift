import RealModule

/// Binary L2 logistic regression: `P(y = 1 | x) = sigma(z)`, `z = w^T x (+ c)`.
///
/// Targets are 0 or 1 (soft labels in [0, 1] also work). Internally `s = 2y - 1` and the
/// per-sample loss is the stable `softplus(-s z) = log(1 + exp(-s z))`, with
/// - `ell'(z) = sigma(z) - y` (so `||grad loss_i|| <= ||x~_i||`),
/// - `ell''(z) = sigma(z)(1 - sigma(z)) <= 1/4`,
/// - `ell'''(z) = sigma(1 - sigma)(1 - 2 sigma)`, `sup |ell'''| = 1 / (6 sqrt 3)`.
///
/// Parameter layout: `w` (`d` entries), then the intercept `c` when ``fitsIntercept`` (`p = d`
/// or `d + 1`). The dense Hessian of the sum-form objective is one weighted Gram call plus
/// `lambda * n_eff * I` (see ``Objective``). Value type, `Sendable`.
public struct LogisticRegression: GeneralizedLinearModel, Hashable, Codable {
  /// Number of input features `d`.
  public let featureCount: Int
  /// Whether a bias on a constant-1 feature is appended (the last parameter).
  public let fitsIntercept: Bool
  /// `gamma`: the Lipschitz constant of `ell''` used by certificates. Default 1/4 (the value
  /// Guo et al. use); the sharp value is `1 / (6 sqrt 3)` (``sharpCurvatureLipschitzConstant``).
  public let curvatureLipschitzConstant: Double

  /// The sharp Lipschitz constant of `sigma(z)(1 - sigma(z))`: `1 / (6 sqrt 3) ~ 0.0962`.
  public static let sharpCurvatureLipschitzConstant = 1 / (6 * Double.sqrt(3))

  /// Creates a binary logistic regression model.
  ///
  /// - Parameters:
  ///   - featureCount: `d`, the number of feature columns.
  ///   - fitsIntercept: append a bias on a constant-1 feature (`p = d + 1`). Off by default:
  ///     certified removal assumes `||x|| <= 1`, which a constant feature breaks (see
  ///     ``gradientNormBound``).
  ///   - curvatureLipschitzConstant: `gamma` for certificates (default 1/4, the paper's value).
  public init(
    featureCount: Int, fitsIntercept: Bool = false, curvatureLipschitzConstant: Double = 0.25
  ) {
    precondition(featureCount >= 0, "LogisticRegression: negative feature count")
    precondition(curvatureLipschitzConstant > 0, "LogisticRegression: gamma must be positive")
    self.featureCount = featureCount
    self.fitsIntercept = fitsIntercept
    self.curvatureLipschitzConstant = curvatureLipschitzConstant
  }

  /// 2 (classes 0 and 1).
  public var outputClassCount: Int { 2 }
  /// `true`: the loss is convex in `z`, hence in the parameters.
  public var isConvex: Bool { true }

  /// `C = sup ||x~||` for `||x|| <= 1`: 1, or `sqrt 2` with an intercept (the appended 1).
  public var gradientNormBound: Double { fitsIntercept ? Double.sqrt(2) : 1 }
  /// `g3 = sup |ell'''| = 1 / (6 sqrt 3)`.
  public var thirdDerivativeBound: Double { Self.sharpCurvatureLipschitzConstant }

  /// `loss = softplus(-s z)`, `ell' = sigma(z) - y`, `ell'' = sigma(z)(1 - sigma(z))`. `O(n)`.
  public func lossDerivatives(linearPredictors z: [Double], targets: [Double]) -> (
    values: [Double], first: [Double], second: [Double]
  ) {
    precondition(
      z.count == targets.count,
      "LogisticRegression: \(targets.count) targets for \(z.count) predictors")
    let n = z.count
    var values = [Double](repeating: 0, count: n)
    var first = values
    var second = values
    for i in 0..<n {
      let y = targets[i]
      let s = LogisticFunctions.sigmoid(z[i])
      values[i] = LogisticFunctions.crossEntropy(logit: z[i], target: y)
      first[i] = s - y
      second[i] = s * (1 - s)
    }
    return (values, first, second)
  }

  /// `ell'''(z_i) = sigma(1 - sigma)(1 - 2 sigma)` for every sample (length `n`).
  public func lossThirdDerivatives(linearPredictors z: [Double]) -> [Double] {
    z.map { t in
      let s = LogisticFunctions.sigmoid(t)
      return s * (1 - s) * (1 - 2 * s)
    }
  }

  /// `n x 2` rows `[1 - sigma(z_i), sigma(z_i)]` (each entry computed directly, no cancellation).
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    let z = linearPredictors(parameters, features: features)
    var out = Matrix(rows: z.count, columns: 2)
    for i in z.indices {
      out[i, 0] = LogisticFunctions.sigmoid(-z[i])
      out[i, 1] = LogisticFunctions.sigmoid(z[i])
    }
    return out
  }

  /// 1 where `z_i > 0`, else 0.
  public func predictions(_ parameters: [Double], features: Matrix) -> [Int] {
    linearPredictors(parameters, features: features).map { $0 > 0 ? 1 : 0 }
  }
}
