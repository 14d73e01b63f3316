import RealModule

/// The quantities every comparison reports (Docs/Math.md section 8), as pure functions.
///
/// Probabilities are `n x K` matrices whose rows sum to one (see
/// `TwiceDifferentiableModel.probabilities`). Logarithms are natural.
public enum Metrics {
  /// Probabilities are clipped to `[clip, 1]` before taking logarithms.
  public static let clip = 1e-12

  /// Fraction of `predictions` equal to `labels` (0 for empty input).
  public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
    precondition(
      predictions.count == labels.count,
      "accuracy: \(predictions.count) predictions for \(labels.count) labels")
    if labels.isEmpty { return 0 }
    let correct = zip(predictions, labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    return Double(correct) / Double(labels.count)
  }

  /// Mean over rows of `KL(p_i || q_i) = sum_c p_ic log(p_ic / q_ic)` (nats), with both clipped
  /// to `[1e-12, 1]`. Zero iff the rows agree (up to the clipping).
  public static func meanKLDivergence(_ p: Matrix, _ q: Matrix) -> Double {
    if p.rows == 0 { return 0 }
    return klDivergences(p, q).reduce(0, +) / Double(p.rows)
  }

  /// `KL(p_i || q_i)` of every row (nats), clipped as ``meanKLDivergence(_:_:)``: the
  /// per-example values its mean (and a bootstrap over examples) averages. Cost `O(n K)`.
  public static func klDivergences(_ p: Matrix, _ q: Matrix) -> [Double] {
    precondition(p.rows == q.rows && p.columns == q.columns, "KL: shapes differ")
    return (0..<p.rows).map { i in
      var total = 0.0
      for c in 0..<p.columns {
        let pc = Swift.min(Swift.max(p[i, c], clip), 1)
        let qc = Swift.min(Swift.max(q[i, c], clip), 1)
        total += pc * Double.log(pc / qc)
      }
      return total
    }
  }

  /// The ROC AUC of ``rocAUC(positives:negatives:)`` with each score counted `weight` times
  /// (weights are bootstrap multiplicities): the sorting is done once, so each set of weights
  /// costs `O(m + n)`. With all weights 1 it equals ``rocAUC(positives:negatives:)``.
  public struct WeightedAUC: Sendable {
    /// Tie groups in increasing score: the positions of the positives and negatives in each.
    let groups: [(positives: [Int], negatives: [Int])]
    public let positiveCount: Int
    public let negativeCount: Int

    /// - Precondition: both samples are non-empty.
    public init(positives: [Double], negatives: [Double]) {
      precondition(!positives.isEmpty && !negatives.isEmpty, "AUC needs both classes")
      let all =
        positives.enumerated().map { ($0.element, true, $0.offset) }
        + negatives.enumerated().map { ($0.element, false, $0.offset) }
      let sorted = all.sorted { $0.0 < $1.0 }
      var groups: [(positives: [Int], negatives: [Int])] = []
      var i = 0
      while i < sorted.count {
        var group: (positives: [Int], negatives: [Int]) = ([], [])
        var j = i
        while j < sorted.count && sorted[j].0 == sorted[i].0 {
          if sorted[j].1 {
            group.positives.append(sorted[j].2)
          } else {
            group.negatives.append(sorted[j].2)
          }
          j += 1
        }
        groups.append(group)
        i = j
      }
      self.groups = groups
      positiveCount = positives.count
      negativeCount = negatives.count
    }

    /// `sum_{i,j} w_i v_j [s_i > t_j] (ties 1/2) / (sum w sum v)`; NaN when either weight sum
    /// is zero. `positiveWeights(i)`, `negativeWeights(j)`: the weight of positive `i`, negative `j`.
    public func auc(positiveWeights w: (Int) -> Double, negativeWeights v: (Int) -> Double)
      -> Double
    {
      var below = 0.0
      var numerator = 0.0
      var positives = 0.0
      for group in groups {
        var wp = 0.0
        for i in group.positives { wp += w(i) }
        var wn = 0.0
        for j in group.negatives { wn += v(j) }
        numerator += wp * (below + 0.5 * wn)
        below += wn
        positives += wp
      }
      let denominator = positives * below
      return denominator > 0 ? numerator / denominator : .nan
    }
  }

  /// Mean over rows of the Jensen-Shannon divergence (nats; bounded by `ln 2`).
  public static func meanJensenShannonDivergence(_ p: Matrix, _ q: Matrix) -> Double {
    precondition(p.rows == q.rows && p.columns == q.columns, "JS: shapes differ")
    if p.rows == 0 { return 0 }
    var total = 0.0
    for i in 0..<p.rows {
      for c in 0..<p.columns {
        let pc = Swift.max(p[i, c], 0)
        let qc = Swift.max(q[i, c], 0)
        let m = 0.5 * (pc + qc)
        if pc > 0 { total += 0.5 * pc * Double.log(pc / m) }
        if qc > 0 { total += 0.5 * qc * Double.log(qc / m) }
      }
    }
    return total / Double(p.rows)
  }

  /// Mean absolute difference of the probability of the positive class (binary) or, for `K > 2`,
  /// half the mean L1 distance between the rows (total variation). For binary `n x 2` input both
  /// equal `mean |p_1 - q_1|`.
  public static func meanAbsoluteProbabilityDifference(_ p: Matrix, _ q: Matrix) -> Double {
    precondition(p.rows == q.rows && p.columns == q.columns, "L1: shapes differ")
    if p.rows == 0 { return 0 }
    let diff = p.elements.subtracting(q.elements)
    let l1 = diff.reduce(0) { $0 + abs($1) }
    return 0.5 * l1 / Double(p.rows)
  }

  /// Area under the ROC curve for `positives` (should score higher) against `negatives`:
  /// the probability that a random positive scores above a random negative, ties counting 1/2
  /// (the Mann-Whitney statistic). `O((m + n) log(m + n))`.
  public static func rocAUC(positives: [Double], negatives: [Double]) -> Double {
    precondition(!positives.isEmpty && !negatives.isEmpty, "AUC needs both classes")
    // Average ranks handle ties exactly.
    let all = positives.map { ($0, true) } + negatives.map { ($0, false) }
    let sorted = all.sorted { $0.0 < $1.0 }
    var rankSumPositives = 0.0
    var i = 0
    while i < sorted.count {
      var j = i
      while j + 1 < sorted.count && sorted[j + 1].0 == sorted[i].0 { j += 1 }
      let averageRank = Double(i + j + 2) / 2  // 1-based ranks i+1 ... j+1
      for k in i...j where sorted[k].1 { rankSumPositives += averageRank }
      i = j + 1
    }
    let m = Double(positives.count)
    let n = Double(negatives.count)
    return (rankSumPositives - m * (m + 1) / 2) / (m * n)
  }

  /// Loss-threshold membership-inference AUC (score = `-loss`): forget-set samples are the
  /// positives ("members"), an equal-size sample of test points the negatives. 0.5 means the
  /// attacker cannot tell them apart; the retrained model's value is the control.
  public static func membershipInferenceAUC(forgetLosses: [Double], testLosses: [Double]) -> Double
  {
    rocAUC(positives: forgetLosses.map { -$0 }, negatives: testLosses.map { -$0 })
  }

  /// `rho = ||theta_u - theta_r|| / ||theta_o - theta_r||`: 0 means "equal to retrain", 1 means
  /// "no better than doing nothing". Infinite if the original already equals the retrained model
  /// and the unlearned one does not; 0 if all three agree.
  public static func relativeDistance(unlearned: [Double], retrained: [Double], original: [Double])
    -> Double
  {
    let num = unlearned.subtracting(retrained).norm()
    let den = original.subtracting(retrained).norm()
    if den == 0 { return num == 0 ? 0 : .infinity }
    return num / den
  }

  /// Pearson correlation of two equally long samples.
  public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count && x.count > 1, "pearson: need two equally long samples")
    let n = Double(x.count)
    let mx = x.reduce(0, +) / n
    let my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(x, y) {
      sxy += (a - mx) * (b - my)
      sxx += (a - mx) * (a - mx)
      syy += (b - my) * (b - my)
    }
    return sxy / (sxx * syy).squareRoot()
  }

  /// Spearman rank correlation (Pearson of average ranks, so ties are handled).
  public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
    pearson(ranks(x), ranks(y))
  }

  /// Average ranks (1-based) with ties sharing their mean rank.
  public static func ranks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var r = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
      let avg = Double(i + j + 2) / 2
      for k in i...j { r[order[k]] = avg }
      i = j + 1
    }
    return r
  }
}
