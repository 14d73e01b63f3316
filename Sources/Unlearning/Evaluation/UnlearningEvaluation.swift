import Foundation

/// How an unlearned model compares with the retrained reference (Docs/Math.md section 8, "Metrics every
/// comparison row shows"). One value per (model, method).
///
/// Accuracies are fractions in `[0, 1]`; gaps are `self - retrain` (so a negative forget gap
/// means the method is *more* wrong on the forgotten samples than retraining is). Divergences
/// are means over samples in nats; `distanceToRetrain` is the Euclidean parameter distance;
/// `gradientResidualNorm` is `||grad L_b(theta; R)||` in sum form.
public struct UnlearningEvaluation: Sendable, Codable, Equatable {
  public var method: String
  public var testAccuracy: Double
  public var retainAccuracy: Double
  public var forgetAccuracy: Double
  public var testAccuracyGap: Double
  public var retainAccuracyGap: Double
  public var forgetAccuracyGap: Double
  /// `||theta_u - theta_r||`.
  public var distanceToRetrain: Double
  /// `rho = ||theta_u - theta_r|| / ||theta_o - theta_r||` (0 = retrain, 1 = doing nothing).
  public var relativeDistance: Double
  /// `||grad L_b(theta_u; R)||`, sum form, including the perturbation `b` when there is one.
  public var gradientResidualNorm: Double
  /// Mean `KL(p_r || p_u)` on the forget set.
  public var forgetKL: Double
  /// Mean `KL(p_r || p_u)` on the test set.
  public var testKL: Double
  /// Mean total-variation distance `0.5 * sum_c |p_u - p_r|` on the forget set (for binary
  /// models: `mean |p_u(1) - p_r(1)|`).
  public var forgetMeanAbsoluteDifference: Double
  /// The same on the test set.
  public var testMeanAbsoluteDifference: Double
  /// Loss-threshold membership-inference AUC, forget set vs an equal-size test sample.
  public var membershipAUC: Double
  /// Wall-clock seconds of the unlearning step (one run), if measured.
  public var seconds: Double?
  /// Retrain seconds / this method's seconds, if both were measured.
  public var speedup: Double?
  /// The honest one-word summary (see ``UnlearningEvaluation/Verdict``).
  public var verdict: UnlearningEvaluation.Verdict
  /// Test accuracy restricted to each class (recall per class; `classCount` entries, `nil`
  /// for a class with no test sample).
  public var testAccuracyByClass: [Double?] = []
  /// Class forgetting only: the forgotten class label `K` (else `nil`).
  public var forgottenClass: Int? = nil
  /// Class forgetting: the share of class-`K` test images predicted as `K` (the recall of the
  /// forgotten class; the retrained model's is near 0, which is the target).
  public var forgottenClassRecall: Double? = nil
  /// Class forgetting: the share of all test images predicted as `K`.
  public var predictedAsForgottenClassShare: Double? = nil
  /// Class forgetting: test accuracy on the images of the other classes.
  public var otherClassesTestAccuracy: Double? = nil
  /// The thresholds the verdict was judged with (retrain's spread, the original's and the
  /// noise floor's KL), kept so that verdicts over several seeds can apply the same rules.
  public var thresholds: UnlearningEvaluation.Verdict.Thresholds? = nil
}

extension UnlearningEvaluation {
  /// The verdict column of `unlearn compare`.
  ///
  /// Rules, applied in this order (all relative to the retrained reference, never to "50%"):
  /// 1. `reference`: the retrained model itself.
  /// 2. `over-forgets`: forget-set accuracy below retrain's by more than the tolerance (the
  ///    retrain seed-to-seed spread, at least one forgotten sample), or test accuracy down by more
  ///    than 1 point.
  /// 3. `worse than original`: convex models: `rho > 1.05` (further from retrain than doing
  ///    nothing); non-convex models: test and forget KL to retrain both above 1.05 times the
  ///    original model's.
  /// 4. `no change`: convex models: `rho >= 0.95` (the parameters barely moved towards retrain);
  ///    non-convex models: test and forget KL to retrain both at least 95% of the original's.
  /// 5. `close to retrain`: convex models: `rho < 0.1`; non-convex models: test and forget KL to
  ///    retrain within twice the retrain-vs-retrain noise floor plus `1e-6` nats (round-off);
  ///    and the test and retain accuracy gaps within max(tolerance, 1 point) and the forget gap
  ///    within the tolerance.
  /// 6. `partial`: anything else (moved towards retrain, not close).
  ///
  /// With uncertainty (``judge(_:thresholds:)`` on intervals, e.g. 95% t-intervals over seeds) a
  /// rule applies only when its condition holds on the **whole** interval of every quantity it
  /// reads; one run is the special case of one-point intervals.
  public enum Verdict: String, Sendable, Codable, Equatable {
    case reference = "reference"
    case closeToRetrain = "close to retrain"
    case partial = "partial"
    case noChange = "no change"
    case overForgets = "over-forgets"
    case worseThanOriginal = "worse than original"

    /// The fixed quantities of one comparison the rules are judged against.
    public struct Thresholds: Sendable, Codable, Equatable {
      /// Tolerance on the forget-accuracy gap (fraction): retrain's seed-to-seed spread, at least
      /// one forgotten sample.
      public var accuracyTolerance: Double
      /// Mean KL(p_retrain || p_original) on the test set (nats).
      public var originalTestKL: Double
      /// The same on the forget set.
      public var originalForgetKL: Double
      /// Networks: retrain-vs-retrain KL on the test set (the noise floor); `nil` for convex
      /// models, which are judged by `rho`.
      public var noiseFloorTestKL: Double?
      /// The same on the forget set.
      public var noiseFloorForgetKL: Double?

      public init(
        accuracyTolerance: Double, originalTestKL: Double, originalForgetKL: Double,
        noiseFloorTestKL: Double? = nil, noiseFloorForgetKL: Double? = nil
      ) {
        self.accuracyTolerance = accuracyTolerance
        self.originalTestKL = originalTestKL
        self.originalForgetKL = originalForgetKL
        self.noiseFloorTestKL = noiseFloorTestKL
        self.noiseFloorForgetKL = noiseFloorForgetKL
      }

      /// The field-wise mean of several comparisons' thresholds (a field that is `nil` in any
      /// of them is `nil`). - Precondition: `all` is not empty.
      public static func mean(_ all: [Thresholds]) -> Thresholds {
        precondition(
          !all.isEmpty, "UnlearningEvaluation.Verdict.Thresholds.mean: nothing to average")
        func avg(_ f: (Thresholds) -> Double?) -> Double? {
          let v = all.compactMap(f)
          return v.count == all.count ? v.reduce(0, +) / Double(v.count) : nil
        }
        return Thresholds(
          accuracyTolerance: avg(\.accuracyTolerance) ?? 0,
          originalTestKL: avg(\.originalTestKL) ?? 0,
          originalForgetKL: avg(\.originalForgetKL) ?? 0,
          noiseFloorTestKL: avg(\.noiseFloorTestKL), noiseFloorForgetKL: avg(\.noiseFloorForgetKL))
      }
    }

    /// What the rules read, each as a closed interval (one run: a single point).
    ///
    /// Gaps are fractions (`method - retrain`), KLs in nats, `rho` dimensionless.
    public struct Evidence: Sendable, Equatable {
      public var relativeDistance: ClosedRange<Double>
      public var testAccuracyGap: ClosedRange<Double>
      public var retainAccuracyGap: ClosedRange<Double>
      public var forgetAccuracyGap: ClosedRange<Double>
      public var testKL: ClosedRange<Double>
      public var forgetKL: ClosedRange<Double>

      public init(
        relativeDistance: ClosedRange<Double>, testAccuracyGap: ClosedRange<Double>,
        retainAccuracyGap: ClosedRange<Double>, forgetAccuracyGap: ClosedRange<Double>,
        testKL: ClosedRange<Double>, forgetKL: ClosedRange<Double>
      ) {
        self.relativeDistance = relativeDistance
        self.testAccuracyGap = testAccuracyGap
        self.retainAccuracyGap = retainAccuracyGap
        self.forgetAccuracyGap = forgetAccuracyGap
        self.testKL = testKL
        self.forgetKL = forgetKL
      }

      /// The one-point evidence of a single evaluation.
      public init(_ e: UnlearningEvaluation) {
        self.init(
          relativeDistance: Self.range(e.relativeDistance, e.relativeDistance),
          testAccuracyGap: Self.range(e.testAccuracyGap, e.testAccuracyGap),
          retainAccuracyGap: Self.range(e.retainAccuracyGap, e.retainAccuracyGap),
          forgetAccuracyGap: Self.range(e.forgetAccuracyGap, e.forgetAccuracyGap),
          testKL: Self.range(e.testKL, e.testKL), forgetKL: Self.range(e.forgetKL, e.forgetKL))
      }

      /// `lower...upper`, or the whole line when either end is NaN or they are out of order (an
      /// unknown value satisfies no rule).
      public static func range(_ lower: Double, _ upper: Double) -> ClosedRange<Double> {
        lower.isNaN || upper.isNaN || lower > upper
          ? -Double.infinity...Double.infinity : lower...upper
      }
    }

    /// The rules above on intervals: each verdict is given only when its condition holds for
    /// every value of the intervals it reads (so "close to retrain" needs the upper end of
    /// `rho`'s interval below 0.1 and each gap's whole interval within its tolerance);
    /// otherwise the next rule is tried, ending at `partial`. Never returns `reference`.
    /// Cost: O(1).
    public static func judge(_ e: Evidence, thresholds t: Thresholds)
      -> UnlearningEvaluation.Verdict
    {
      let tol = t.accuracyTolerance + 1e-12
      if e.forgetAccuracyGap.upperBound < -tol || e.testAccuracyGap.upperBound < -0.01 - 1e-12 {
        return .overForgets
      }
      if t.noiseFloorTestKL == nil {
        if e.relativeDistance.lowerBound > 1.05 { return .worseThanOriginal }
        if e.relativeDistance.lowerBound >= 0.95 { return .noChange }
      } else {
        // Non-convex: parameters of independent runs are not comparable; judge by predictions.
        let forgetRatio = e.forgetKL.lowerBound / Swift.max(t.originalForgetKL, 1e-300)
        let testRatio = e.testKL.lowerBound / Swift.max(t.originalTestKL, 1e-300)
        if forgetRatio > 1.05 && testRatio > 1.05 { return .worseThanOriginal }
        if forgetRatio >= 0.95 && testRatio >= 0.95 { return .noChange }
      }
      func within(_ r: ClosedRange<Double>, _ bound: Double) -> Bool {
        Swift.max(abs(r.lowerBound), abs(r.upperBound)) <= bound
      }
      let accuraciesClose =
        within(e.testAccuracyGap, Swift.max(tol, 0.01))
        && within(e.retainAccuracyGap, Swift.max(tol, 0.01)) && within(e.forgetAccuracyGap, tol)
      if let floorTest = t.noiseFloorTestKL, let floorForget = t.noiseFloorForgetKL {
        if e.testKL.upperBound <= 2 * floorTest + 1e-6
          && e.forgetKL.upperBound <= 2 * floorForget + 1e-6 && accuraciesClose
        {
          return .closeToRetrain
        }
      } else if e.relativeDistance.upperBound < 0.1 && accuraciesClose {
        return .closeToRetrain
      }
      return .partial
    }
  }
}

extension UnlearningEvaluation {
  /// Everything needed to evaluate unlearned parameters against the original and the retrained
  /// model, computed once per comparison (predictions of the reference models are cached).
  public struct Context<Model: TwiceDifferentiableModel>: Sendable {
    public let model: Model
    /// The retained objective (weights 0 on forgotten rows; includes `b` when perturbed): used
    /// for the gradient residual.
    public let retainedObjective: Objective<Model>
    public let retain: Dataset
    public let forget: Dataset
    public let test: Dataset
    /// The test samples used as non-members by the membership attack (same size as `forget`).
    public let membershipNegatives: Dataset
    public let originalParameters: [Double]
    public let retrainedParameters: [Double]
    /// Tolerance on accuracy gaps (fraction): the retrain seed-to-seed spread, at least
    /// `1 / |F|`.
    public let accuracyTolerance: Double
    /// Non-convex models: retrain-vs-retrain KL on the test set (the noise floor); `nil` for
    /// convex models, where retraining is deterministic.
    public let noiseFloorTestKL: Double?
    /// The same on the forget set.
    public let noiseFloorForgetKL: Double?
    /// Class forgetting: the forgotten class label (adds the class metrics to every
    /// evaluation), or `nil`.
    public let forgottenClass: Int?

    let reference: Snapshot

    struct Snapshot: Sendable {
      var testProbabilities: Matrix
      var forgetProbabilities: Matrix
      var testAccuracy: Double
      var retainAccuracy: Double
      var forgetAccuracy: Double
      var originalTestKL: Double
      var originalForgetKL: Double
      /// 1 where the retrained model is right, 0 where wrong (paired bootstrap of the gaps).
      var testCorrect: [Double]
      var retainCorrect: [Double]
      var forgetCorrect: [Double]
    }

    /// - Parameters:
    ///   - model: the model the parameters belong to.
    ///   - retainedObjective: objective over the retained rows (for the residual).
    ///   - retain: the retained training rows.
    ///   - forget: the forgotten training rows.
    ///   - test: the test rows.
    ///   - originalParameters: the model trained on all rows (before removal).
    ///   - retrainedParameters: the model retrained on the retained rows (the reference).
    ///   - membershipSeed: seed of the equal-size test sample for the membership attack.
    ///   - secondRetrainParameters: a retrain from another seed (non-convex models), giving the
    ///     noise floor; `nil` for convex models.
    ///   - forgottenClass: the label of a forgotten class (class forgetting), or `nil`; when
    ///     set, every evaluation also reports the class metrics (recall of the class, share of
    ///     test images predicted as it, accuracy on the other classes).
    public init(
      model: Model, retainedObjective: Objective<Model>, retain: Dataset, forget: Dataset,
      test: Dataset, originalParameters: [Double], retrainedParameters: [Double],
      secondRetrainParameters: [Double]? = nil, membershipSeed: UInt64 = 7,
      forgottenClass: Int? = nil
    ) {
      self.model = model
      self.forgottenClass = forgottenClass
      self.retainedObjective = retainedObjective
      self.retain = retain
      self.forget = forget
      self.test = test
      self.originalParameters = originalParameters
      self.retrainedParameters = retrainedParameters
      var generator = SeededGenerator(seed: membershipSeed)
      let k = Swift.min(forget.count, test.count)
      var order = Array(0..<test.count)
      for i in 0..<k {
        let j = i + Int(generator.next() % UInt64(test.count - i))
        order.swapAt(i, j)
      }
      let negativeIDs = order.prefix(k).sorted().map { test.ids[$0] }
      self.membershipNegatives = (try? test.subset(ids: negativeIDs)) ?? test

      let testP = model.probabilities(retrainedParameters, features: test.features)
      let forgetP = model.probabilities(retrainedParameters, features: forget.features)
      func correct(_ data: Dataset) -> [Double] {
        Self.correctness(model.predictions(retrainedParameters, features: data.features), data)
      }
      let testCorrect = correct(test)
      let retainCorrect = correct(retain)
      let forgetCorrect = correct(forget)
      func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
      reference = Snapshot(
        testProbabilities: testP, forgetProbabilities: forgetP,
        testAccuracy: mean(testCorrect), retainAccuracy: mean(retainCorrect),
        forgetAccuracy: mean(forgetCorrect),
        originalTestKL: Metrics.meanKLDivergence(
          testP, model.probabilities(originalParameters, features: test.features)),
        originalForgetKL: Metrics.meanKLDivergence(
          forgetP, model.probabilities(originalParameters, features: forget.features)),
        testCorrect: testCorrect, retainCorrect: retainCorrect, forgetCorrect: forgetCorrect)

      var tolerance = forget.count > 0 ? 1.0 / Double(forget.count) : 0
      if let second = secondRetrainParameters {
        let spread = abs(Self.accuracy(model, second, forget) - reference.forgetAccuracy)
        tolerance = Swift.max(tolerance, spread)
        noiseFloorTestKL = Metrics.meanKLDivergence(
          testP, model.probabilities(second, features: test.features))
        noiseFloorForgetKL = Metrics.meanKLDivergence(
          forgetP, model.probabilities(second, features: forget.features))
      } else {
        noiseFloorTestKL = nil
        noiseFloorForgetKL = nil
      }
      accuracyTolerance = tolerance
    }

    static func accuracy(_ model: Model, _ theta: [Double], _ data: Dataset) -> Double {
      data.isEmpty
        ? 0
        : Metrics.accuracy(
          predictions: model.predictions(theta, features: data.features), labels: data.labels)
    }

    /// Evaluates `parameters` produced by `method`.
    ///
    /// - Parameters:
    ///   - method: the method's name, as shown in the table.
    ///   - parameters: the unlearned model's parameters.
    ///   - isReference: `true` for the retrained model itself (verdict `reference`).
    ///   - seconds: the method's wall-clock time, in seconds.
    ///   - retrainSeconds: the retrain's wall-clock time, in seconds (gives the speedup).
    public func evaluate(
      method: String, parameters: [Double], seconds: Double? = nil, retrainSeconds: Double? = nil,
      isReference: Bool = false
    ) -> UnlearningEvaluation {
      evaluation(
        method: method, parameters: parameters, outputs: outputs(parameters: parameters),
        seconds: seconds, retrainSeconds: retrainSeconds, isReference: isReference)
    }

    /// What one predictor outputs on the evaluated sets: everything an evaluation row (and a
    /// bootstrap over its examples) is computed from.
    struct Outputs: Sendable {
      /// `n_test x K` and `m x K` class probabilities.
      var testProbabilities: Matrix
      var forgetProbabilities: Matrix
      /// Predicted labels on the test set.
      var testPredictions: [Int]
      /// 1 where right, 0 where wrong, per example of the test, retain and forget sets.
      var testCorrect: [Double]
      var retainCorrect: [Double]
      var forgetCorrect: [Double]
      /// Losses on the forget set and on the membership negatives (the attack's scores negated).
      var forgetLosses: [Double]
      var negativeLosses: [Double]
    }

    /// 1 where `predictions` matches `data.labels`, else 0.
    static func correctness(_ predictions: [Int], _ data: Dataset) -> [Double] {
      zip(predictions, data.labels).map { $0 == $1 ? 1 : 0 }
    }

    /// The outputs of the model with these parameters (its own predictions and losses).
    func outputs(parameters: [Double]) -> Outputs {
      let testPredictions = model.predictions(parameters, features: test.features)
      return Outputs(
        testProbabilities: model.probabilities(parameters, features: test.features),
        forgetProbabilities: model.probabilities(parameters, features: forget.features),
        testPredictions: testPredictions,
        testCorrect: Self.correctness(testPredictions, test),
        retainCorrect: Self.correctness(
          model.predictions(parameters, features: retain.features), retain),
        forgetCorrect: Self.correctness(
          model.predictions(parameters, features: forget.features), forget),
        forgetLosses: model.losses(parameters, features: forget.features, targets: forget.targets),
        negativeLosses: model.losses(
          parameters, features: membershipNegatives.features,
          targets: membershipNegatives.targets))
    }

    /// The outputs of a predictor known by its class probabilities (an ensemble): predictions
    /// are the arg max, losses `-log p_y` clipped at `1e-300`.
    func outputs(probabilities: (Matrix) -> Matrix) -> Outputs {
      func argmax(_ p: Matrix) -> [Int] {
        (0..<p.rows).map { i in
          var best = 0
          for c in 1..<Swift.max(p.columns, 1) where p[i, c] > p[i, best] { best = c }
          return best
        }
      }
      func losses(_ data: Dataset, _ p: Matrix) -> [Double] {
        (0..<p.rows).map { i in
          let y = data.labels[i]
          return -Foundation.log(Swift.max(y >= 0 && y < p.columns ? p[i, y] : 0, 1e-300))
        }
      }
      let testP = probabilities(test.features)
      let forgetP = probabilities(forget.features)
      let testPredictions = argmax(testP)
      return Outputs(
        testProbabilities: testP, forgetProbabilities: forgetP, testPredictions: testPredictions,
        testCorrect: Self.correctness(testPredictions, test),
        retainCorrect: Self.correctness(argmax(probabilities(retain.features)), retain),
        forgetCorrect: Self.correctness(argmax(forgetP), forget),
        forgetLosses: losses(forget, forgetP),
        negativeLosses: losses(membershipNegatives, probabilities(membershipNegatives.features)))
    }

    /// The evaluation row of `outputs`, whichever way they were computed; the parameter-space
    /// columns (distance, `rho`, gradient residual) come from `parameters`. Cost: `O(n K)` on
    /// the outputs plus one gradient pass for the residual.
    func evaluation(
      method: String, parameters: [Double], outputs o: Outputs, seconds: Double?,
      retrainSeconds: Double?, isReference: Bool
    ) -> UnlearningEvaluation {
      func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
      let testAcc = mean(o.testCorrect)
      let retainAcc = mean(o.retainCorrect)
      let forgetAcc = mean(o.forgetCorrect)
      let auc =
        o.forgetLosses.isEmpty || o.negativeLosses.isEmpty
        ? 0.5
        : Metrics.membershipInferenceAUC(forgetLosses: o.forgetLosses, testLosses: o.negativeLosses)
      var evaluation = UnlearningEvaluation(
        method: method, testAccuracy: testAcc, retainAccuracy: retainAcc, forgetAccuracy: forgetAcc,
        testAccuracyGap: testAcc - reference.testAccuracy,
        retainAccuracyGap: retainAcc - reference.retainAccuracy,
        forgetAccuracyGap: forgetAcc - reference.forgetAccuracy,
        distanceToRetrain: parameters.subtracting(retrainedParameters).norm(),
        relativeDistance: Metrics.relativeDistance(
          unlearned: parameters, retrained: retrainedParameters, original: originalParameters),
        gradientResidualNorm: retainedObjective.gradientNorm(at: parameters),
        forgetKL: Metrics.meanKLDivergence(reference.forgetProbabilities, o.forgetProbabilities),
        testKL: Metrics.meanKLDivergence(reference.testProbabilities, o.testProbabilities),
        forgetMeanAbsoluteDifference: Metrics.meanAbsoluteProbabilityDifference(
          o.forgetProbabilities, reference.forgetProbabilities),
        testMeanAbsoluteDifference: Metrics.meanAbsoluteProbabilityDifference(
          o.testProbabilities, reference.testProbabilities),
        membershipAUC: auc, seconds: seconds,
        speedup: seconds.flatMap { s in retrainSeconds.map { $0 / Swift.max(s, 1e-9) } },
        verdict: .partial)
      evaluation.testAccuracyByClass = Self.accuracyByClass(
        predictions: o.testPredictions, labels: test.labels,
        classCount: Swift.max(test.classCount, model.outputClassCount))
      if let k = forgottenClass {
        evaluation.forgottenClass = k
        evaluation.forgottenClassRecall =
          k < evaluation.testAccuracyByClass.count ? evaluation.testAccuracyByClass[k] : nil
        evaluation.predictedAsForgottenClassShare =
          test.isEmpty
          ? nil : Double(o.testPredictions.lazy.filter { $0 == k }.count) / Double(test.count)
        let others = zip(o.testPredictions, test.labels).filter { $0.1 != k }
        evaluation.otherClassesTestAccuracy =
          others.isEmpty
          ? nil : Double(others.lazy.filter { $0.0 == $0.1 }.count) / Double(others.count)
      }
      evaluation.thresholds = thresholds
      evaluation.verdict = isReference ? .reference : verdict(for: evaluation)
      return evaluation
    }

    /// Accuracy within each class: `correct_c / count_c` (`nil` for an absent class).
    static func accuracyByClass(predictions: [Int], labels: [Int], classCount: Int) -> [Double?] {
      var correct = [Int](repeating: 0, count: classCount)
      var total = [Int](repeating: 0, count: classCount)
      for (predicted, label) in zip(predictions, labels) where label >= 0 && label < classCount {
        total[label] += 1
        if predicted == label { correct[label] += 1 }
      }
      return (0..<classCount).map { total[$0] == 0 ? nil : Double(correct[$0]) / Double(total[$0]) }
    }

    /// The thresholds of this comparison (see ``UnlearningEvaluation/Verdict/Thresholds``).
    public var thresholds: UnlearningEvaluation.Verdict.Thresholds {
      UnlearningEvaluation.Verdict.Thresholds(
        accuracyTolerance: accuracyTolerance, originalTestKL: reference.originalTestKL,
        originalForgetKL: reference.originalForgetKL, noiseFloorTestKL: noiseFloorTestKL,
        noiseFloorForgetKL: noiseFloorForgetKL)
    }

    /// The verdict rules of ``UnlearningEvaluation/Verdict`` on one evaluation (one-point intervals).
    public func verdict(for e: UnlearningEvaluation) -> UnlearningEvaluation.Verdict {
      UnlearningEvaluation.Verdict.judge(
        UnlearningEvaluation.Verdict.Evidence(e), thresholds: thresholds)
    }
  }
}
