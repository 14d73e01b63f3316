import Foundation
import RealModule

extension ULiRA.Report {
  /// The outcome of one membership attack pooled over examples and target models: every
  /// (example, target model) pair gives a score and a label ("member" or not).
  public struct AttackSummary: Sendable, Codable, Equatable {
    /// Area under the ROC curve (ties count 1/2); 0.5 is chance.
    public var auc: Double
    /// The largest true-positive rate of a threshold whose false-positive rate is at most 1%.
    public var truePositiveRateAtOnePercent: Double
    /// The same at a false-positive rate of at most 0.1%.
    public var truePositiveRateAtTenthPercent: Double
    /// The number of positive (member) scores.
    public var positives: Int
    /// The number of negative (non-member) scores.
    public var negatives: Int
    /// The number of examples that took part (those with at least two shadow values on each
    /// side and at least one target of each label).
    public var examples: Int

    /// Summarises pooled scores (higher = "member").
    ///
    /// - Parameters:
    ///   - positives: scores of the members; at least one.
    ///   - negatives: scores of the non-members; at least one.
    ///   - examples: how many examples the scores come from (recorded only).
    public init(positives: [Double], negatives: [Double], examples: Int) {
      auc = Metrics.rocAUC(positives: positives, negatives: negatives)
      truePositiveRateAtOnePercent = ULiRA.truePositiveRate(
        positives: positives, negatives: negatives, atFalsePositiveRate: 0.01)
      truePositiveRateAtTenthPercent = ULiRA.truePositiveRate(
        positives: positives, negatives: negatives, atFalsePositiveRate: 0.001)
      self.positives = positives.count
      self.negatives = negatives.count
      self.examples = examples
    }
  }
}

extension ULiRA {
  /// A normal distribution fitted to a sample: its mean and (unbiased) standard deviation.
  public struct GaussianFit: Sendable, Codable, Equatable {
    /// The sample mean.
    public var mean: Double
    /// The sample standard deviation (`n - 1` in the denominator), floored at
    /// `1e-12 * (1 + |mean|)` so that a constant sample still has a density.
    public var standardDeviation: Double

    /// Fits a sample of at least two finite values. Cost `O(n)`.
    public init(_ values: [Double]) {
      precondition(values.count >= 2, "ULiRA.GaussianFit: need at least two values")
      let n = Double(values.count)
      let m = values.reduce(0, +) / n
      let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
      mean = m
      standardDeviation = Swift.max(v.squareRoot(), 1e-12 * (1 + Swift.abs(m)))
    }

    /// Creates a fit from its parameters (`standardDeviation > 0`).
    public init(mean: Double, standardDeviation: Double) {
      precondition(standardDeviation > 0, "ULiRA.GaussianFit: standard deviation must be positive")
      self.mean = mean
      self.standardDeviation = standardDeviation
    }

    /// `log N(x; mean, sd^2)`.
    public func logDensity(_ x: Double) -> Double {
      let z = (x - mean) / standardDeviation
      return -0.5 * z * z - Double.log(standardDeviation) - 0.5 * Double.log(2 * Double.pi)
    }
  }
}

/// Per-example likelihood-ratio membership attacks: LiRA (Carlini et al. 2022) and its
/// unlearning variant U-LiRA (Hayes et al., "Inexact unlearning needs more careful
/// evaluations", SaTML 2025), as pure functions of confidence tables (see Docs/Math.md,
/// section "U-LiRA").
///
/// The tables are `M x m` (models x examples). Model `i` either contains example `j`
/// (`membership[i][j]`, a "member"; its value is read from the `member` table) or not (read from
/// the `nonMember` table). Models with `isShadow[i]` are the attacker's shadows: for every
/// example it fits a Gaussian to the member values and one to the non-member values of the
/// shadows, and scores each other (target) model by the log-likelihood ratio
///
///     Lambda = log N(c; mu_in, s_in^2) - log N(c; mu_out, s_out^2).
///
/// Scores of all examples and target models are pooled (one global threshold, as LiRA reports
/// it) into a ``ULiRA/Report/AttackSummary``.
public enum ULiRA {
  /// The largest true-positive rate of a rule "score > t" whose false-positive rate is at most
  /// `alpha`: with `k = floor(alpha * negatives)` false positives allowed, `t` is the `(k+1)`-th
  /// largest negative score and the rate counts positives strictly above it (all positives
  /// when `k` equals the number of negatives). Cost `O(n log n)`.
  public static func truePositiveRate(
    positives: [Double], negatives: [Double], atFalsePositiveRate alpha: Double
  ) -> Double {
    precondition(!positives.isEmpty && !negatives.isEmpty, "ULiRA: empty score set")
    precondition(alpha >= 0 && alpha <= 1, "ULiRA: alpha must be in [0, 1]")
    let sorted = negatives.sorted(by: >)
    let k = Int((alpha * Double(sorted.count)).rounded(.down) + 1e-9)
    if k >= sorted.count { return 1 }
    let threshold = sorted[k]
    return Double(positives.filter { $0 > threshold }.count) / Double(positives.count)
  }

  /// The log-likelihood-ratio scores of one attack (see the type's description).
  ///
  /// - Parameters:
  ///   - member: `M x m` values used where `membership[i][j]` is true.
  ///   - nonMember: `M x m` values used elsewhere.
  ///   - membership: `M x m`.
  ///   - isShadow: `M` flags; shadows fit, the others are scored.
  /// - Returns: per example, the scores of members and of non-members among the target
  ///   models; examples with fewer than two shadow values on either side get empty lists.
  public static func scores(
    member: [[Double]], nonMember: [[Double]], membership: [[Bool]], isShadow: [Bool]
  ) -> [(members: [Double], nonMembers: [Double])] {
    let models = membership.count
    precondition(
      member.count == models && nonMember.count == models && isShadow.count == models,
      "ULiRA: tables need one row per model")
    guard let m = membership.first?.count else { return [] }
    return (0..<m).map { j in
      var inside: [Double] = []
      var outside: [Double] = []
      for i in 0..<models where isShadow[i] {
        if membership[i][j] { inside.append(member[i][j]) } else { outside.append(nonMember[i][j]) }
      }
      guard inside.count >= 2, outside.count >= 2 else { return ([], []) }
      let fitIn = ULiRA.GaussianFit(inside)
      let fitOut = ULiRA.GaussianFit(outside)
      var members: [Double] = []
      var nonMembers: [Double] = []
      for i in 0..<models where !isShadow[i] {
        let c = membership[i][j] ? member[i][j] : nonMember[i][j]
        let score = fitIn.logDensity(c) - fitOut.logDensity(c)
        if membership[i][j] { members.append(score) } else { nonMembers.append(score) }
      }
      return (members, nonMembers)
    }
  }

  /// Pools ``scores(member:nonMember:membership:isShadow:)`` into a summary; `nil` when no
  /// example has targets of both labels.
  public static func attack(
    member: [[Double]], nonMember: [[Double]], membership: [[Bool]], isShadow: [Bool]
  ) -> ULiRA.Report.AttackSummary? {
    let perExample = scores(
      member: member, nonMember: nonMember, membership: membership, isShadow: isShadow)
    let used = perExample.filter { !$0.members.isEmpty && !$0.nonMembers.isEmpty }
    guard !used.isEmpty else { return nil }
    return ULiRA.Report.AttackSummary(
      positives: used.flatMap(\.members), negatives: used.flatMap(\.nonMembers),
      examples: used.count)
  }
}

extension ULiRA {
  /// U-LiRA on one scenario: `M` models on random halves of the training data, each original
  /// model unlearned by every method, each retrained without the forget set.
  ///
  /// **Design.** Model `i` trains on a seeded random half `H_i` of `D` (`originals`, `O_i`).
  /// Its forget request is `F ∩ H_i` (the forget examples it saw); every method removes them
  /// from `O_i` (`U_i`), and `R_i` is `O_i`'s objective re-minimised without them (the retrain).
  /// The models with even index are the attacker's shadows, the others the targets. For a forget
  /// example `x`:
  /// - **U-LiRA** ("was `x` trained on and then unlearned, or never trained on?"): members are
  ///   the models with `x in H_i`, read from `U_i`; non-members those with `x` not in `H_i`,
  ///   read from `R_i`. A perfect method gives two equal distributions (AUC 0.5 up to noise).
  /// - the **original** row reads the members from `O_i` (no unlearning: plain LiRA on the
  ///   forget set, the vulnerability before unlearning);
  /// - the **retrain** row reads them from `R_i`: both sides are retrained models, so its values
  ///   are the attack's noise floor at this `M`.
  ///
  /// **Retained examples.** For ``retainedTargetCount`` seeded examples `r` of `D \ F`, plain
  /// LiRA (members: `r in H_i`) is run on each family of models: the originals, each method's
  /// unlearned models, and the retrains. Unlearning can expose retained examples (the "onion
  /// effect"); each row reports the retained AUC and its change against the originals'.
  ///
  /// **Cost.** With warm starts (convex models), one training on all of `D`, then per model one
  /// training on `H_i` (from that solution), one retraining (from `O_i`), one unlearning per
  /// method, and forward passes over the forget, retained-target and test rows. Models run
  /// ``parallelism`` at a time. Deterministic from ``seed`` (halves, initialisations, retained
  /// targets) up to the round-off of the BLAS build and thread count.
  public struct Experiment<Model: TwiceDifferentiableModel>: Sendable {
    /// The model (architecture and loss).
    public var model: Model
    /// The optimiser of every training.
    public var trainer: any Trainer
    /// `lambda` per retained sample (sum form).
    public var regularization: Double
    /// The training set `D`.
    public var train: Dataset
    /// The test set (test accuracy of each family).
    public var test: Dataset
    /// The forget set `F` (distinct ids of `train`).
    public var forget: [SampleID]
    /// The methods attacked.
    public var methods: [any Unlearner]
    /// `M`, the number of models (half shadows, half targets; at least 8).
    public var modelCount: Int
    /// Retained examples whose exposure is measured (0 skips it).
    public var retainedTargetCount: Int
    /// Warm-start convex trainings (see ``ForgetScore/Experiment``; default `model.isConvex`).
    public var warmStarts: Bool
    /// The root of every random choice.
    public var seed: UInt64
    /// Models trained at a time.
    public var parallelism: Int

    /// Creates the experiment.
    public init(
      model: Model, trainer: any Trainer, regularization: Double, train: Dataset, test: Dataset,
      forget: [SampleID], methods: [any Unlearner], modelCount: Int = 64,
      retainedTargetCount: Int = 20, warmStarts: Bool? = nil, seed: UInt64 = 42,
      parallelism: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
      self.model = model
      self.trainer = trainer
      self.regularization = regularization
      self.train = train
      self.test = test
      self.forget = forget
      self.methods = methods
      self.modelCount = modelCount
      self.retainedTargetCount = retainedTargetCount
      self.warmStarts = (warmStarts ?? model.isConvex) && model.isConvex
      self.seed = seed
      self.parallelism = parallelism
    }

    /// The row of the models before unlearning.
    public static var originalName: String { "original (no unlearning)" }
    /// The row of the retrained models (the noise floor).
    public static var retrainName: String { "retrain (noise floor)" }

    struct Family: Sendable {
      var forget: [Double]
      var retained: [Double]
      var testAccuracy: Double
      var seconds: Double
    }

    struct ModelResult: Sendable {
      var original: Family
      var retrained: Family
      var methods: [Family]
      var forgetMembership: [Bool]
      var retainedMembership: [Bool]
    }

    /// The half of model `i` (row positions, sorted) and its initialisation seed.
    func half(_ i: Int) -> (rows: [Int], initSeed: UInt64) {
      var g = SeededGenerator(seed: seed &+ 0x5553_4C49_5241 &+ UInt64(i) &* 0xD1B5_4A32_D192_ED03)
      let k = Swift.max(1, train.count / 2)
      let rows = RandomSampling.indices(choosing: k, from: train.count, using: &g).sorted()
      return (rows, g.next())
    }

    /// Runs the experiment.
    ///
    /// - Parameter progress: lines at the start, after completed models (at most every two
    ///   seconds) and at scoring; called from worker threads one at a time.
    /// - Throws: ``UnlearningError/invalidArgument(_:)`` for a bad configuration, or any error
    ///   of training or of a method.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws
      -> ULiRA.Report
    {
      guard modelCount >= 8 else {
        throw UnlearningError.invalidArgument("U-LiRA needs at least 8 models (half are shadows)")
      }
      guard parallelism >= 1 else {
        throw UnlearningError.invalidArgument("parallelism must be >= 1")
      }
      guard !forget.isEmpty, Set(forget).count == forget.count, forget.count < train.count else {
        throw UnlearningError.invalidArgument(
          "the forget set must be non-empty, distinct and smaller than the training set")
      }
      guard retainedTargetCount >= 0 else {
        throw UnlearningError.invalidArgument("the retained target count must be >= 0")
      }
      guard model.featureCount == train.featureCount, model.featureCount == test.featureCount else {
        throw UnlearningError.invalidArgument(
          "the model expects \(model.featureCount) features, the data has \(train.featureCount)")
      }
      for id in forget where train.rowIndex(of: id) == nil { throw UnlearningError.unknownID(id) }
      let forgetRows = try train.rowIndices(of: forget)
      let forgetSet = Set(forgetRows)
      let retainRows = (0..<train.count).filter { !forgetSet.contains($0) }
      var g = SeededGenerator(seed: seed &+ 0x7265_7461_696E)
      let retainedTargets = RandomSampling.indices(
        choosing: Swift.min(retainedTargetCount, retainRows.count), from: retainRows.count,
        using: &g
      ).sorted().map { retainRows[$0] }
      let forgetData = train.rows(at: forgetRows)
      let retainedData = train.rows(at: retainedTargets)
      let stopwatch = Stopwatch()
      progress(
        "U-LiRA: \(modelCount) models x (train, retrain, \(methods.count) method\(methods.count == 1 ? "" : "s")), "
          + "\(forget.count) forget and \(retainedTargets.count) retained targets")
      var fullStart: [Double]?
      if warmStarts {
        fullStart =
          try TrainedModel.train(
            model: model, data: train, regularization: regularization, trainer: trainer
          ).parameters
      }
      let start = fullStart
      let results = try PairCollector<ModelResult>.run(
        count: modelCount, parallelism: parallelism, progress: progress, label: "U-LiRA",
        unit: "models"
      ) { i in
        try runModel(
          i, forgetRows: forgetRows, retainedTargets: retainedTargets, forgetData: forgetData,
          retainedData: retainedData, fullStart: start)
      }
      progress("U-LiRA: scoring")
      let isShadow = (0..<modelCount).map { $0 % 2 == 0 }
      let forgetMembership = results.map(\.forgetMembership)
      let retainedMembership = results.map(\.retainedMembership)
      func row(_ name: String, _ family: [Family], seconds: Double) -> ULiRA.Report.Row {
        let forgetAttack = ULiRA.attack(
          member: family.map(\.forget), nonMember: results.map(\.retrained.forget),
          membership: forgetMembership, isShadow: isShadow)
        let retainedAttack =
          retainedTargets.isEmpty
          ? nil
          : ULiRA.attack(
            member: family.map(\.retained), nonMember: family.map(\.retained),
            membership: retainedMembership, isShadow: isShadow)
        return ULiRA.Report.Row(
          method: name, forget: forgetAttack, retained: retainedAttack,
          retainedAUCChange: nil,
          testAccuracy: family.reduce(0) { $0 + $1.testAccuracy } / Double(family.count),
          meanSeconds: seconds)
      }
      let original = row(
        Self.originalName, results.map(\.original),
        seconds: results.reduce(0) { $0 + $1.original.seconds } / Double(modelCount))
      var rows = [original]
      for (k, method) in methods.enumerated() {
        rows.append(
          row(
            method.name, results.map { $0.methods[k] },
            seconds: results.reduce(0) { $0 + $1.methods[k].seconds } / Double(modelCount)))
      }
      rows.append(
        row(
          Self.retrainName, results.map(\.retrained),
          seconds: results.reduce(0) { $0 + $1.retrained.seconds } / Double(modelCount)))
      let before = original.retained?.auc
      for k in rows.indices {
        if let before, let after = rows[k].retained?.auc {
          rows[k].retainedAUCChange = after - before
        }
      }
      return ULiRA.Report(
        modelCount: modelCount, shadowCount: isShadow.filter { $0 }.count, forgetIDs: forget,
        retainedTargetIDs: retainedTargets.map { train.ids[$0] }, seed: seed, rows: rows,
        seconds: stopwatch.seconds)
    }

    func runModel(
      _ i: Int, forgetRows: [Int], retainedTargets: [Int], forgetData: Dataset,
      retainedData: Dataset, fullStart: [Double]?
    ) throws -> ModelResult {
      let (rows, initSeed) = half(i)
      let inHalf = Set(rows)
      let data = train.rows(at: rows)
      let startParameters =
        fullStart ?? model.initialParameters(seed: model.isConvex ? 0 : initSeed)
      let original = try TrainedModel.train(
        model: model, data: data, regularization: regularization, trainer: trainer,
        start: startParameters)
      let request = forgetRows.filter { inHalf.contains($0) }.map { train.ids[$0] }
      func family(_ theta: [Double], seconds: Double) -> Family {
        Family(
          forget: ForgetScore.LogitScaledConfidence.of(
            model, parameters: theta, features: forgetData.features, labels: forgetData.labels),
          retained: ForgetScore.LogitScaledConfidence.of(
            model, parameters: theta, features: retainedData.features,
            labels: retainedData.labels),
          testAccuracy: test.isEmpty
            ? 0
            : Metrics.accuracy(
              predictions: model.predictions(theta, features: test.features), labels: test.labels),
          seconds: seconds)
      }
      var retrainedParameters = original.parameters
      var retrainSeconds = 0.0
      var methodFamilies: [Family] = []
      if request.isEmpty || request.count >= data.count {
        // Nothing of F in this half (or nothing would remain): every family is the original.
        methodFamilies = methods.map { _ in family(original.parameters, seconds: 0) }
      } else {
        var retrained = original
        retrained.removedIDs = Set(request)
        for id in request {
          if let r = retrained.data.rowIndex(of: id) { retrained.weights[r] = 0 }
        }
        retrained.retrain(
          trainer: trainer,
          start: model.isConvex ? original.parameters : model.initialParameters(seed: initSeed))
        retrainedParameters = retrained.parameters
        retrainSeconds = retrained.training.seconds
        for method in methods {
          let result = try method.unlearn(original, forgetting: request)
          methodFamilies.append(family(result.state.parameters, seconds: result.report.seconds))
        }
      }
      return ModelResult(
        original: family(original.parameters, seconds: original.training.seconds),
        retrained: family(retrainedParameters, seconds: retrainSeconds), methods: methodFamilies,
        forgetMembership: forgetRows.map { inHalf.contains($0) },
        retainedMembership: retainedTargets.map { inHalf.contains($0) })
    }
  }
}

extension ULiRA.Report {
  /// One row of a U-LiRA report.
  public struct Row: Sendable, Codable, Equatable {
    /// The method, ``ULiRA/Experiment/originalName`` or ``ULiRA/Experiment/retrainName``.
    public var method: String
    /// U-LiRA on the forget examples (members: trained on and then unlearned by this row's
    /// method; non-members: never trained on, retrained models); `nil` if no example had enough
    /// models on each side.
    public var forget: ULiRA.Report.AttackSummary?
    /// Plain LiRA on the retained targets within this row's family of models.
    public var retained: ULiRA.Report.AttackSummary?
    /// The retained AUC minus the originals' (positive: unlearning exposed retained examples).
    public var retainedAUCChange: Double?
    /// Mean test accuracy of the family.
    public var testAccuracy: Double
    /// Mean seconds per model of the step that produced the family.
    public var meanSeconds: Double
  }
}

extension ULiRA {
  /// The outcome of a ``ULiRA/Experiment``.
  public struct Report: Sendable, Codable {
    /// `M`.
    public var modelCount: Int
    /// The shadows among them (the others are targets).
    public var shadowCount: Int
    /// The forget set.
    public var forgetIDs: [SampleID]
    /// The retained targets.
    public var retainedTargetIDs: [SampleID]
    /// The root seed.
    public var seed: UInt64
    /// The original row, one row per method, then the retrain row.
    public var rows: [ULiRA.Report.Row]
    /// Wall-clock seconds.
    public var seconds: Double
  }
}
