import RealModule

/// Numerically stable scalar kernels of the logistic family, shared by the models.
///
/// Internal: every public model documents the formula it uses.
enum LogisticFunctions {
  /// `softplus(t) = log(1 + e^t) = max(t, 0) + log1p(e^-|t|)`, accurate for every finite `t`.
  @inline(__always)
  static func softplus(_ t: Double) -> Double {
    Swift.max(t, 0) + Double.log(onePlus: Double.exp(-Swift.abs(t)))
  }

  /// `sigma(t) = 1 / (1 + e^-t)`, evaluated without overflow for either sign of `t`.
  @inline(__always)
  static func sigmoid(_ t: Double) -> Double {
    if t >= 0 {
      return 1 / (1 + Double.exp(-t))
    }
    let e = Double.exp(t)
    return e / (1 + e)
  }

  /// Binary cross-entropy on a logit: `y softplus(-z) + (1 - y) softplus(z)`.
  ///
  /// For `y` in {0, 1} this is `softplus(-s z)` with `s = 2y - 1`; soft labels in [0, 1] give
  /// the usual cross-entropy.
  @inline(__always)
  static func crossEntropy(logit z: Double, target y: Double) -> Double {
    if y == 1 { return softplus(-z) }
    if y == 0 { return softplus(z) }
    return y * softplus(-z) + (1 - y) * softplus(z)
  }

  /// Row-wise stable log-sum-exp and softmax of an `n x k` row-major block, in place.
  ///
  /// On return `logits` holds the probabilities; the log-sum-exp of every row is returned.
  static func softmaxRows(_ logits: inout [Double], rows n: Int, columns k: Int) -> [Double] {
    var lse = [Double](repeating: 0, count: n)
    logits.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        let row = i * k
        var m = -Double.infinity
        for j in 0..<k { m = Swift.max(m, p[row + j]) }
        var s = 0.0
        for j in 0..<k {
          let e = Double.exp(p[row + j] - m)
          p[row + j] = e
          s += e
        }
        for j in 0..<k { p[row + j] /= s }
        lse[i] = m + Double.log(s)
      }
    }
    return lse
  }

  /// The class index a target encodes, checked to lie in `0..<classCount`.
  @inline(__always)
  static func classIndex(_ target: Double, classCount: Int) -> Int {
    let k = Int(exactly: target) ?? -1
    precondition(
      k >= 0 && k < classCount,
      "target \(target) is not a class index in 0..<\(classCount)")
    return k
  }
}
