import Foundation
import RealModule

/// Exact (Clopper-Pearson) confidence intervals for a binomial proportion.
package enum ClopperPearson {
  /// `log P(X <= k)` for `X ~ Binomial(n, p)`, by summing the probabilities in log space
  /// (`O(k)`; exact to round-off for any `n`).
  static func logCDF(_ k: Int, _ n: Int, _ p: Double) -> Double {
    if k >= n { return 0 }
    if k < 0 { return -.infinity }
    if p <= 0 { return 0 }
    if p >= 1 { return -.infinity }
    let lp = Double.log(p)
    let lq = Double.log(onePlus: -p)
    let lgn = Double.logGamma(Double(n + 1))
    var terms: [Double] = []
    terms.reserveCapacity(k + 1)
    for i in 0...k {
      terms.append(
        lgn - Double.logGamma(Double(i + 1)) - Double.logGamma(Double(n - i + 1)) + Double(i) * lp
          + Double(n - i) * lq)
    }
    let m = terms.max() ?? -.infinity
    if m == -.infinity { return m }
    return m + Double.log(terms.reduce(0) { $0 + Double.exp($1 - m) })
  }

  /// The exact two-sided interval for `successes` out of `trials` at `confidence` (each side
  /// `(1 - confidence) / 2`): the lower end solves `P(X >= k; p) = alpha / 2` (0 for `k = 0`),
  /// the upper end `P(X <= k; p) = alpha / 2` (1 for `k = n`). Closed forms for the extremes:
  /// `k = 0` gives upper `1 - (alpha / 2)^(1/n)`, `k = n` gives lower `(alpha / 2)^(1/n)`.
  ///
  /// - Parameters:
  ///   - k: the successes, in `0 ... n`.
  ///   - n: the trials, `n >= 1`.
  ///   - confidence: in `(0, 1)`, e.g. 0.95.
  /// - Returns: `(lower, upper)` with `lower <= k / n <= upper`. Cost: about 200 bisection steps
  ///   of an `O(k)` sum.
  public static func interval(successes k: Int, trials n: Int, confidence: Double) -> (
    lower: Double, upper: Double
  ) {
    precondition(n >= 1 && k >= 0 && k <= n, "ClopperPearson: need 0 <= k <= n, n >= 1")
    precondition(confidence > 0 && confidence < 1, "ClopperPearson: confidence in (0, 1)")
    let logHalfAlpha = Double.log((1 - confidence) / 2)
    // P(X <= k; p) decreases in p: upper end.
    func bisect(_ target: (Double) -> Bool) -> Double {
      var lo = 0.0
      var hi = 1.0
      for _ in 0..<200 {
        let mid = 0.5 * (lo + hi)
        if mid <= lo || mid >= hi { break }
        if target(mid) { lo = mid } else { hi = mid }
      }
      return 0.5 * (lo + hi)
    }
    let upper = k == n ? 1 : bisect { logCDF(k, n, $0) > logHalfAlpha }
    // P(X >= k; p) = 1 - P(X <= k - 1; p) = P(Y <= n - k; 1 - p) with Y the failures.
    let lower = k == 0 ? 0 : 1 - bisect { logCDF(n - k, n, $0) > logHalfAlpha }
    return (lower, upper)
  }
}

/// The privacy loss a threshold attack demonstrates, from its error rates (Kairouz et al.
/// 2015's hypothesis-testing view of `(epsilon, delta)`): any test between two
/// `(epsilon, delta)`-indistinguishable distributions has `FPR + e^eps FNR >= 1 - delta` and
/// `FNR + e^eps FPR >= 1 - delta`, so
///
///     eps >= max( log((1 - delta - FPR) / FNR), log((1 - delta - FNR) / FPR) ).
package enum EmpiricalEpsilon {
  /// The bound for given rates (terms with a non-positive numerator are left out; a zero
  /// denominator with a positive numerator gives `+infinity`); at least 0.
  public static func bound(
    falsePositiveRate fpr: Double, falseNegativeRate fnr: Double, delta: Double
  )
    -> Double
  {
    func term(_ numerator: Double, _ denominator: Double) -> Double {
      guard numerator > 0 else { return 0 }
      return denominator <= 0 ? .infinity : Swift.max(Double.log(numerator / denominator), 0)
    }
    return Swift.max(term(1 - delta - fpr, fnr), term(1 - delta - fnr, fpr))
  }

  /// A lower confidence bound on the epsilon: the bound above at the Clopper-Pearson **upper**
  /// ends of both rates (each at `(1 + confidence) / 2` one-sided, so both hold together with
  /// probability at least `confidence`).
  ///
  /// - Parameters:
  ///   - falsePositives: negatives predicted positive, out of `negatives`.
  ///   - negatives: the number of negatives tested.
  ///   - falseNegatives: positives predicted negative, out of `positives`.
  ///   - positives: the number of positives tested.
  ///   - delta: the `delta` of the `(epsilon, delta)` guarantee under test.
  ///   - confidence: in `(0, 1)`, e.g. 0.95.
  public static func lowerConfidenceBound(
    falsePositives: Int, negatives: Int, falseNegatives: Int, positives: Int, delta: Double,
    confidence: Double
  ) -> Double {
    let fpr = ClopperPearson.interval(
      successes: falsePositives, trials: negatives, confidence: confidence
    ).upper
    let fnr = ClopperPearson.interval(
      successes: falseNegatives, trials: positives, confidence: confidence
    ).upper
    return bound(falsePositiveRate: fpr, falseNegativeRate: fnr, delta: delta)
  }
}

/// An empirical audit of certified removal: trains `N` certified models on `D` and removes the
/// target set `F` from each (the mechanism under test), trains `N` certified models on
/// `D \ F` (what the certificate promises to be indistinguishable from), attacks the two
/// samples, and reports a lower confidence bound on the epsilon the attack demonstrates next to
/// the certified epsilon (see Docs/Math.md, section "Auditing the certificate").
///
/// **Randomness.** The two groups differ only in their secret `b ~ N(0, sigma^2 I)`, drawn
/// fresh for every model: from `perturbation` `(seed: s)` as `.reproducibleNotPrivate(seed:
/// s + k)` for model `k` (tests and notebooks), or from the system's generator when
/// ``perturbationSeed`` is `nil` (the default: the audit then samples exactly the mechanism a
/// user runs).
///
/// **The attack.** The attacker knows `D`, `F`, `lambda` and the released parameters `theta`,
/// not `b`. At an exact minimiser of the perturbed retained objective,
/// `grad L(theta; D \ F) + b = 0`, so `v(theta) = -grad L(theta; D \ F)` (unperturbed, sum
/// form) recovers `b` for a retrained model and `b - g` for a removal that left the gradient
/// residual `g`: the certificate bounds exactly this Gaussian shift. The statistic is
/// `s = <v(theta), u>` with `u` the difference of the groups' mean `v` on the first half of the
/// models (the selection half); a threshold and its orientation are chosen on that half to
/// maximise the Clopper-Pearson lower bound there, then counted on the other half (the
/// evaluation half). The
/// reported bound uses Clopper-Pearson upper ends of both error rates on the evaluation half
/// only, so choosing the attack does not bias it.
///
/// **Verdict.** If the lower bound exceeds the certified epsilon, the certificate is
/// contradicted (with probability at most `1 - confidence` of a false alarm when it holds):
/// ``RemovalCertificate/AuditReport/isContradicted``.
///
/// **Cost.** `2N` certified trainings (`N` of them with the certificate's `||X||_2` bound,
/// `O(n d^2)` each), `N` removals, and `2N` gradient passes; models run ``parallelism`` at a
/// time, with OpenBLAS single-threaded meanwhile when more than one runs.
public struct CertificateAudit<Model: CertifiableModel>: Sendable {
  /// What is run on the models trained with `F` (the last two are deliberately unsound, for
  /// testing that the audit detects a broken setting).
  public enum Mechanism: String, Sendable, Codable, Hashable {
    /// ``CertifiedRemoval`` (the mechanism whose certificate is audited).
    case certifiedRemoval
    /// One ``NewtonRemoval`` step with no budget check and no retrain: unsound whenever the
    /// step's residual exceeds the budget.
    case uncheckedNewtonStep
    /// ``Baselines/NaiveDeletion``: the trained parameters released as if removed. Its residual is the
    /// forgotten rows' loss gradient, sound only when `sigma` hides it.
    case parametersUnchanged
  }

  /// The model (logistic regression or one-vs-rest heads, no intercept).
  public var model: Model
  /// The training set `D` (rows with `||x|| <= 1`).
  public var train: Dataset
  /// The test set (accuracy of the removed models).
  public var test: Dataset
  /// `lambda` per retained sample.
  public var regularization: Double
  /// `(epsilon, delta, sigma)`: the certified epsilon and the delta of the attack.
  public var privacy: PrivacyParameters
  /// The target set `F` removed in one request.
  public var forget: [SampleID]
  /// `N`, models per group (at least 8; half select the attack, half measure it).
  public var trialCount: Int
  /// The level of the Clopper-Pearson bounds (default 0.95).
  public var confidence: Double
  /// The mechanism (default ``Mechanism/certifiedRemoval``).
  public var mechanism: Mechanism
  /// `nil` (default): every `b` from the system's generator. A seed: reproducible, not private.
  public var perturbationSeed: UInt64?
  /// Models trained at a time.
  public var parallelism: Int

  /// Creates the audit.
  public init(
    model: Model, train: Dataset, test: Dataset, regularization: Double,
    privacy: PrivacyParameters, forget: [SampleID], trialCount: Int = 200,
    confidence: Double = 0.95, mechanism: Mechanism = .certifiedRemoval,
    perturbationSeed: UInt64? = nil,
    parallelism: Int = ProcessInfo.processInfo.activeProcessorCount
  ) {
    self.model = model
    self.train = train
    self.test = test
    self.regularization = regularization
    self.privacy = privacy
    self.forget = forget
    self.trialCount = trialCount
    self.confidence = confidence
    self.mechanism = mechanism
    self.perturbationSeed = perturbationSeed
    self.parallelism = parallelism
  }

  /// The source of model `k`'s `b` in group `group` (0: removal, 1: reference).
  func source(group: Int, trial k: Int) -> CertifiedRemoval.PerturbationSource {
    guard let perturbationSeed else { return .system }
    return .reproducibleNotPrivate(
      seed: perturbationSeed &+ UInt64(group) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k))
  }

  struct Trial: Sendable {
    var statistic: [Double]
    var testAccuracy: Double
    var certifiedResidual: Double?
    var retrained: Bool
  }

  /// Runs the audit.
  ///
  /// - Parameter progress: lines at the start, after completed models (at most every two
  ///   seconds) and at the end; called from worker threads one at a time.
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` for a bad configuration, and any
  ///   error of training or removal (e.g. a training residual above the budget).
  public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws
    -> RemovalCertificate.AuditReport
  {
    guard trialCount >= 8 else {
      throw UnlearningError.invalidArgument("the audit needs at least 8 models per group")
    }
    guard confidence > 0, confidence < 1 else {
      throw UnlearningError.invalidArgument("confidence must be in (0, 1)")
    }
    guard parallelism >= 1 else {
      throw UnlearningError.invalidArgument("parallelism must be >= 1")
    }
    guard !forget.isEmpty, Set(forget).count == forget.count, forget.count < train.count - 1
    else {
      throw UnlearningError.invalidArgument(
        "the target set must be non-empty, distinct and leave at least 2 rows")
    }
    for id in forget where train.rowIndex(of: id) == nil { throw UnlearningError.unknownID(id) }
    let retainData = try train.removing(ids: forget)
    let weights = try train.weights(removing: forget)
    let retained = Objective(
      model: model, features: train.features, targets: train.targets, weights: weights,
      regularization: regularization)
    let stopwatch = Stopwatch()
    progress(
      "certificate audit: \(trialCount) removals and \(trialCount) reference trainings, sigma \(privacy.sigma), "
        + "epsilon \(privacy.epsilon), delta \(privacy.delta)")
    let trainer = Training.Newton(gradientTolerance: 1e-10)
    // Models in parallel, single-threaded BLAS meanwhile (as the forget score and U-LiRA).
    let trials = try PairCollector<Trial>.run(
      count: 2 * trialCount, parallelism: parallelism, progress: progress,
      label: "certificate audit", unit: "models"
    ) { job in
      let group = job < trialCount ? 0 : 1
      let k = group == 0 ? job : job - trialCount
      let theta: [Double]
      var trial = Trial(statistic: [], testAccuracy: 0, certifiedResidual: nil, retrained: false)
      if group == 0 {
        let state = try TrainedModel.trainCertified(
          model: model, data: train, regularization: regularization, privacy: privacy,
          trainer: trainer, perturbation: source(group: 0, trial: k))
        let result: UnlearningResult<Model>
        switch mechanism {
        case .certifiedRemoval:
          result = try CertifiedRemoval(trainer: trainer).unlearn(state, forgetting: forget)
        case .uncheckedNewtonStep:
          result = try NewtonRemoval().unlearn(state, forgetting: forget)
        case .parametersUnchanged:
          result = try Baselines.NaiveDeletion().unlearn(state, forgetting: forget)
        }
        theta = result.state.parameters
        trial.certifiedResidual = result.report.certificate?.certifiedResidual
        trial.retrained = result.report.certificate?.retrained ?? false
      } else {
        let b = source(group: 1, trial: k).drawPerturbation(
          count: model.parameterCount, sigma: privacy.sigma, draw: 0)
        theta =
          try TrainedModel.train(
            model: model, data: retainData, regularization: regularization, perturbation: b,
            trainer: trainer
          ).parameters
      }
      trial.statistic = retained.gradient(at: theta).scaled(by: -1)
      trial.testAccuracy =
        test.isEmpty
        ? 0
        : Metrics.accuracy(
          predictions: model.predictions(theta, features: test.features), labels: test.labels)
      return trial
    }
    let removals = Array(trials[0..<trialCount])
    let references = Array(trials[trialCount...])
    let attack = Self.attack(
      removals: removals.map(\.statistic), references: references.map(\.statistic),
      delta: privacy.delta, confidence: confidence)
    let residuals = removals.compactMap(\.certifiedResidual)
    let tightest = residuals.max().map {
      PrivacyParameters.GaussianProfile.largestEpsilon(
        delta: privacy.delta, sigma: privacy.sigma, sensitivity: $0)
    }
    let report = RemovalCertificate.AuditReport(
      mechanism: mechanism.rawValue, certifiedEpsilon: privacy.epsilon, delta: privacy.delta,
      sigma: privacy.sigma, trialCount: trialCount, confidence: confidence,
      perturbationIsPrivate: perturbationSeed == nil, forgetIDs: forget, attack: attack,
      largestCertifiedResidual: residuals.max(), tightestCertifiedEpsilon: tightest,
      retrainedRemovals: removals.filter(\.retrained).count,
      removalTestAccuracy: removals.reduce(0) { $0 + $1.testAccuracy } / Double(trialCount),
      referenceTestAccuracy: references.reduce(0) { $0 + $1.testAccuracy } / Double(trialCount),
      seconds: stopwatch.seconds)
    progress("certificate audit: \(report.verdict)")
    return report
  }

  /// The attack on the statistics `v` of the two groups (see the type's description). The
  /// first half of each group selects the direction, the threshold and the orientation; the
  /// second half is counted. Public so that the epsilon can be recomputed from exported `v`.
  ///
  /// - Parameters:
  ///   - removals: `N x p`, `v` of each removed model (positives).
  ///   - references: `N x p`, `v` of each reference model (negatives).
  ///   - delta: the `delta` of the certificate under test.
  ///   - confidence: of the lower bound on the epsilon, in `(0, 1)`.
  public static func attack(
    removals: [[Double]], references: [[Double]], delta: Double, confidence: Double
  ) -> RemovalCertificate.AuditReport.Attack {
    precondition(removals.count >= 4 && references.count >= 4, "audit: too few models")
    let half = Swift.min(removals.count, references.count) / 2
    let p = removals[0].count
    var direction = [Double](repeating: 0, count: p)
    for v in removals[0..<half] { for i in 0..<p { direction[i] += v[i] / Double(half) } }
    for v in references[0..<half] { for i in 0..<p { direction[i] -= v[i] / Double(half) } }
    let norm = direction.norm()
    if norm > 0 { direction = direction.scaled(by: 1 / norm) }
    func project(_ v: [Double]) -> Double { v.dot(direction) }
    let selectPositive = removals[0..<half].map(project)
    let selectNegative = references[0..<half].map(project)
    let evalPositive = removals[half...].map(project)
    let evalNegative = references[half...].map(project)
    // Choose "s >= t" or "s <= t" predicting "removal" with the largest lower bound on the
    // selection half (the point epsilon is infinite for every rule with one error count 0,
    // however many errors of the other kind, so it cannot rank rules).
    let upperFP = (0...selectNegative.count).map {
      ClopperPearson.interval(successes: $0, trials: selectNegative.count, confidence: confidence)
        .upper
    }
    let upperFN = (0...selectPositive.count).map {
      ClopperPearson.interval(successes: $0, trials: selectPositive.count, confidence: confidence)
        .upper
    }
    // Thresholds halfway between consecutive pooled values: a rule that separates the
    // selection half keeps a margin on both sides.
    let pooled = Array(Set(selectPositive + selectNegative)).sorted()
    var candidates = [pooled[0] - 1, pooled[pooled.count - 1] + 1]
    for k in 1..<pooled.count { candidates.append(0.5 * (pooled[k - 1] + pooled[k])) }
    // Ties (e.g. every rule at 0) go to the rule with the larger TPR - FPR on that half.
    var best = (epsilon: -1.0, youden: -2.0, threshold: 0.0, above: true)
    for t in candidates {
      for above in [true, false] {
        let fp = selectNegative.filter { above ? $0 >= t : $0 <= t }.count
        let fn = selectPositive.filter { above ? $0 < t : $0 > t }.count
        let e = EmpiricalEpsilon.bound(
          falsePositiveRate: upperFP[fp], falseNegativeRate: upperFN[fn], delta: delta)
        let youden =
          1 - Double(fn) / Double(selectPositive.count) - Double(fp)
          / Double(selectNegative.count)
        if e > best.epsilon || (e == best.epsilon && youden > best.youden) {
          best = (e, youden, t, above)
        }
      }
    }
    let fp = evalNegative.filter { best.above ? $0 >= best.threshold : $0 <= best.threshold }.count
    let fn = evalPositive.filter { best.above ? $0 < best.threshold : $0 > best.threshold }.count
    let fpr = Double(fp) / Double(evalNegative.count)
    let fnr = Double(fn) / Double(evalPositive.count)
    let fprInterval = ClopperPearson.interval(
      successes: fp, trials: evalNegative.count, confidence: confidence)
    let fnrInterval = ClopperPearson.interval(
      successes: fn, trials: evalPositive.count, confidence: confidence)
    return RemovalCertificate.AuditReport.Attack(
      threshold: best.threshold, predictsRemovalAbove: best.above,
      evaluationPositives: evalPositive.count, evaluationNegatives: evalNegative.count,
      falsePositives: fp, falseNegatives: fn, falsePositiveRate: fpr, falseNegativeRate: fnr,
      falsePositiveRateUpper: fprInterval.upper, falseNegativeRateUpper: fnrInterval.upper,
      pointEpsilon: EmpiricalEpsilon.bound(
        falsePositiveRate: fpr, falseNegativeRate: fnr, delta: delta),
      epsilonLowerBound: EmpiricalEpsilon.bound(
        falsePositiveRate: fprInterval.upper, falseNegativeRate: fnrInterval.upper, delta: delta),
      meanShift: norm,
      separation: Metrics.rocAUC(positives: evalPositive, negatives: evalNegative))
  }
}

extension RemovalCertificate.AuditReport {
  /// The attack of a ``CertificateAudit``, counted on the evaluation half.
  public struct Attack: Sendable, Codable, Equatable {
    /// The threshold on the projected statistic.
    public var threshold: Double
    /// Whether "statistic >= threshold" (else "<=") predicts "removal".
    public var predictsRemovalAbove: Bool
    /// Removed models counted (positives).
    public var evaluationPositives: Int
    /// Reference models counted (negatives).
    public var evaluationNegatives: Int
    /// Reference models predicted "removal".
    public var falsePositives: Int
    /// Removed models predicted "reference".
    public var falseNegatives: Int
    /// `falsePositives / evaluationNegatives`.
    public var falsePositiveRate: Double
    /// `falseNegatives / evaluationPositives`.
    public var falseNegativeRate: Double
    /// Clopper-Pearson upper end of the false-positive rate.
    public var falsePositiveRateUpper: Double
    /// Clopper-Pearson upper end of the false-negative rate.
    public var falseNegativeRateUpper: Double
    /// The epsilon of the point rates (may be `+infinity` when a rate is 0).
    public var pointEpsilon: Double
    /// The epsilon at the upper ends: a lower confidence bound on the true epsilon.
    public var epsilonLowerBound: Double
    /// `||mean v(removals) - mean v(references)||` on the selection half (units of `b`).
    public var meanShift: Double
    /// AUC of the projected statistic on the evaluation half (0.5: no separation).
    public var separation: Double
  }
}

extension RemovalCertificate {
  /// The outcome of a ``CertificateAudit``.
  public struct AuditReport: Sendable, Codable, Equatable {
    /// `certifiedRemoval`, `uncheckedNewtonStep` or `parametersUnchanged`.
    public var mechanism: String
    /// The epsilon the certificate states.
    public var certifiedEpsilon: Double
    /// Its delta (also the attack's).
    public var delta: Double
    /// The noise scale of `b`.
    public var sigma: Double
    /// `N` per group.
    public var trialCount: Int
    /// The level of the Clopper-Pearson bounds.
    public var confidence: Double
    /// Whether `b` came from the system's generator (else the seeded, non-private source).
    public var perturbationIsPrivate: Bool
    /// The removed set.
    public var forgetIDs: [SampleID]
    /// The attack and its counts.
    public var attack: RemovalCertificate.AuditReport.Attack
    /// The largest certified residual bound over the removals (`nil` without certificates).
    public var largestCertifiedResidual: Double?
    /// The smallest epsilon that residual supports at this delta and sigma (at most the
    /// certified epsilon when every removal is certified).
    public var tightestCertifiedEpsilon: Double?
    /// Removals that exceeded the budget and retrained with a fresh `b`.
    public var retrainedRemovals: Int
    /// Mean test accuracy of the removed models.
    public var removalTestAccuracy: Double
    /// Mean test accuracy of the reference models.
    public var referenceTestAccuracy: Double
    /// Wall-clock seconds.
    public var seconds: Double

    /// The empirical lower bound.
    public var empiricalEpsilonLowerBound: Double { attack.epsilonLowerBound }

    /// Whether the lower confidence bound exceeds the certified epsilon: the certificate is
    /// contradicted by the data.
    public var isContradicted: Bool { attack.epsilonLowerBound > certifiedEpsilon }

    /// One line: the bound next to the certified epsilon, and the verdict (in capitals when
    /// contradicted).
    public var verdict: String {
      let lower = String(format: "%.3g", attack.epsilonLowerBound)
      let point = attack.pointEpsilon.isFinite ? String(format: "%.3g", attack.pointEpsilon) : "inf"
      let level = String(format: "%.0f%%", 100 * confidence)
      if isContradicted {
        return
          "CERTIFICATE CONTRADICTED: empirical epsilon >= \(lower) (\(level) lower bound; point \(point)) exceeds the certified epsilon \(String(format: "%.3g", certifiedEpsilon)) at delta \(String(format: "%.3g", delta))"
      }
      return
        "consistent with the certificate: empirical epsilon >= \(lower) (\(level) lower bound; point \(point)) <= certified \(String(format: "%.3g", certifiedEpsilon)) at delta \(String(format: "%.3g", delta))"
    }
  }
}
