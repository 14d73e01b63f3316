import Unlearning

/// Central finite differences: the oracles for analytic gradients and Hessian-vector products.
public enum FiniteDifferences {
  /// `(f(x + h e_j) - f(x - h e_j)) / (2h)` for every coordinate `j`.
  public static func gradient(
    at x: [Double], step h: Double = 1e-5, _ f: ([Double]) -> Double
  ) -> [Double] {
    var probe = x
    return (0..<x.count).map { j in
      probe[j] = x[j] + h
      let up = f(probe)
      probe[j] = x[j] - h
      let down = f(probe)
      probe[j] = x[j]
      return (up - down) / (2 * h)
    }
  }

  /// `(g(x + h v) - g(x - h v)) / (2h)`: the directional derivative of a vector function
  /// (applied to a gradient, a Hessian-vector product).
  public static func directionalDerivative(
    at x: [Double], direction v: [Double], step h: Double = 1e-5, _ g: ([Double]) -> [Double]
  ) -> [Double] {
    let up = g(x.adding(v, scaledBy: h))
    let down = g(x.adding(v, scaledBy: -h))
    return up.subtracting(down).scaled(by: 1 / (2 * h))
  }

  /// `||a - b|| / max(||a||, ||b||, floor)`.
  public static func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-12) -> Double {
    a.subtracting(b).norm() / Swift.max(a.norm(), b.norm(), floor)
  }
}
