import Foundation

extension Comparison {
  /// Wall-clock seconds of repeated runs of one step: the median and the spread.
  public struct Timing: Sendable, Codable, Equatable {
    /// Every run's seconds, in the order run.
    public var runs: [Double]
    /// The median (mean of the two middle values for an even count).
    public var median: Double
    public var minimum: Double
    public var maximum: Double

    /// - Precondition: `runs` is not empty.
    public init(runs: [Double]) {
      precondition(!runs.isEmpty, "Comparison.Timing: no runs")
      self.runs = runs
      median = Self.median(runs)
      minimum = runs.min() ?? 0
      maximum = runs.max() ?? 0
    }

    /// The median of `values` (mean of the two middle values for an even count; NaN if empty).
    public static func median(_ values: [Double]) -> Double {
      if values.isEmpty { return .nan }
      let sorted = values.sorted()
      let m = sorted.count / 2
      return sorted.count % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m])
    }

    /// `first` and up to `repeats - 1` further runs of `again` (none when `first` exceeds
    /// `limit` seconds).
    static func measure(
      first: Double, repeats: Int, limit: Double, again: () throws -> Double
    ) rethrows -> Timing {
      var runs = [first]
      if first <= limit {
        while runs.count < repeats { runs.append(try again()) }
      }
      return Timing(runs: runs)
    }
  }

  /// An estimate with its 95% interval: over seeds, the mean with its t-interval; with one
  /// seed, the run's value with a percentile-bootstrap interval over the evaluated examples
  /// (``Comparison/Bootstrap``).
  ///
  /// Over seeds: `mean +- t_{0.975, K-1} s / sqrt(K)` with `s` the sample standard deviation of
  /// the `K` per-seed values (Student's t, two-sided 95%). With one value and no bootstrap there
  /// is no interval (`lower` and `upper` are `nil`).
  public struct Interval: Sendable, Codable, Equatable {
    /// Where the interval comes from.
    public enum Method: String, Sendable, Codable, Equatable {
      /// The t-interval over seeds (none with one seed).
      case seeds = "t over seeds"
      /// The percentile bootstrap over the examples of one run.
      case bootstrap = "percentile bootstrap"
    }

    /// The per-seed values (bootstrap: the one run's value).
    public var values: [Double]
    /// The mean over seeds (bootstrap: the run's point estimate).
    public var mean: Double
    public var lower: Double?
    public var upper: Double?
    /// How `lower` and `upper` were obtained.
    public var method: Method = .seeds

    /// A point estimate with a given interval (e.g. a bootstrap's).
    public init(estimate: Double, lower: Double, upper: Double, method: Method) {
      values = [estimate]
      mean = estimate
      self.lower = lower
      self.upper = upper
      self.method = method
    }

    /// The mean of `values` (per seed) with its t-interval. - Precondition: `values` is not
    /// empty.
    public init(values: [Double]) {
      precondition(!values.isEmpty, "Comparison.Interval: no values")
      self.values = values
      let k = Double(values.count)
      mean = values.reduce(0, +) / k
      if values.count >= 2 {
        let m = mean
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (k - 1)
        let half =
          Self.tQuantile975(degreesOfFreedom: values.count - 1) * (variance / k).squareRoot()
        lower = mean - half
        upper = mean + half
      }
    }

    /// The interval as a range for the verdict rules (one value: the point).
    public var range: ClosedRange<Double> {
      UnlearningEvaluation.Verdict.Evidence.range(lower ?? mean, upper ?? mean)
    }

    /// The 0.975 quantile of Student's t with `df` degrees of freedom: tabulated to three
    /// decimals for `df <= 30`, else the Cornish-Fisher expansion around the normal quantile
    /// (error below 1e-4 there). - Precondition: `df >= 1`.
    public static func tQuantile975(degreesOfFreedom df: Int) -> Double {
      precondition(df >= 1, "tQuantile975: need at least one degree of freedom")
      let table: [Double] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
      ]
      if df <= table.count { return table[df - 1] }
      let z = 1.959_963_984_540_054
      let n = Double(df)
      let z3 = z * z * z
      let z5 = z3 * z * z
      let z7 = z5 * z * z
      return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n)
        + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n)
    }
  }

  /// The forget-score column of one model family: how it was computed and the floor.
  public struct ForgetScoreColumn: Sendable, Codable, Equatable {
    /// `N`, models per group.
    public var modelCount: Int
    /// `E = ceil(ln(N - 1))`: epsilons at or above it score 0.
    public var maximumEpsilon: Double
    /// The floor: a second, independent group of `N` retrained models scored against the
    /// reference group of `N` retrains (the best a method can expect at this `N`).
    public var floor: Double
    /// The fraction of the retained data each model trains on.
    public var retainFraction: Double
    /// Whether the methods' models shared the retrains' halves and seeds (compare: `false`,
    /// independent groups as in the challenge, so the floor is the ceiling to expect).
    public var sharesSubsets: Bool
    /// Wall-clock seconds of the whole experiment.
    public var seconds: Double
    /// The experiment's notes (e.g. unconverged retrainings).
    public var notes: [String]

    init(_ report: ForgetScore.Report) {
      modelCount = report.modelCount
      maximumEpsilon = report.maximumEpsilon
      floor = report.noiseFloor.forgetScore
      retainFraction = report.retainFraction
      sharesSubsets = report.sharesSubsets
      seconds = report.seconds
      notes = report.notes
    }
  }

  /// One (model, method) over every seed of a comparison.
  public struct SummaryRow: Sendable, Codable, Equatable {
    public var model: String
    public var method: String
    /// `"retrain"` or `"retrain (same b)"`, as ``Row/reference``.
    public var reference: String
    /// The seeds this row ran with (a method can be missing from a seed's run).
    public var seeds: [UInt64]
    /// Accuracies (fractions) and their gaps to the reference.
    public var testAccuracy: Interval
    public var retainAccuracy: Interval
    public var forgetAccuracy: Interval
    public var testAccuracyGap: Interval
    public var retainAccuracyGap: Interval
    public var forgetAccuracyGap: Interval
    /// `rho`.
    public var relativeDistance: Interval
    /// Mean KL to the reference (nats).
    public var testKL: Interval
    public var forgetKL: Interval
    /// Loss-threshold membership-inference AUC.
    public var membershipAUC: Interval
    /// The forget score over the seeds where it was computed (`nil`: never).
    public var forgetScore: Interval?
    /// Every timed run of every seed pooled (median, min-max).
    public var seconds: Timing?
    /// Median retrain seconds / median method seconds over the pooled runs, and its spread
    /// `[min retrain / max method, max retrain / min method]`.
    public var speedup: Double?
    public var speedupRange: [Double]?
    /// The verdict judged on the intervals (``UnlearningEvaluation/Verdict/judge(_:thresholds:)``; thresholds are
    /// the seeds' means); one seed: the run's verdict (on its bootstrap intervals when computed).
    public var verdict: UnlearningEvaluation.Verdict
    /// Each seed's own verdict, in the order of ``seeds``: they can disagree with each other
    /// and with ``verdict`` (the takeaways then say "mixed").
    public var seedVerdicts: [UnlearningEvaluation.Verdict] = []
  }

  /// Pools the runs of several seeds into one row per (model, method), in the first run's
  /// order (rows absent from the first run follow).
  static func summarize(_ runs: [Result]) -> [SummaryRow] {
    var keys: [String] = []
    var groups: [String: [(UInt64, Row, ModelSummary?)]] = [:]
    for run in runs {
      for row in run.rows {
        let key = row.model + "\u{1F}" + row.method
        if groups[key] == nil { keys.append(key) }
        groups[key, default: []].append(
          (run.configuration.seed, row, run.models.first { $0.model == row.model }))
      }
    }
    return keys.compactMap { key in
      guard let group = groups[key], let first = group.first?.1 else { return nil }
      let e = group.map(\.1.evaluation)
      // One seed: the bootstrap interval over the examples where there is one.
      let boot = group.count == 1 ? first.bootstrap : nil
      func interval(
        _ f: (UnlearningEvaluation) -> Double, _ b: KeyPath<BootstrapIntervals, Interval>? = nil
      ) -> Interval {
        if let boot, let b { return boot[keyPath: b] }
        return Interval(values: e.map(f))
      }
      let scores = group.compactMap(\.1.forgetScore)
      // Rows timed once outside `Timing.measure` (SISA's deletion) still have their seconds.
      let runs = group.flatMap { $0.1.timing?.runs ?? ($0.1.evaluation.seconds.map { [$0] } ?? []) }
      let retrainRuns = group.flatMap { $0.2?.retrainTiming?.runs ?? [] }
      let seconds = runs.isEmpty ? nil : Timing(runs: runs)
      let retrain = retrainRuns.isEmpty ? nil : Timing(runs: retrainRuns)
      var row = SummaryRow(
        model: first.model, method: first.method, reference: first.reference,
        seeds: group.map(\.0),
        testAccuracy: interval(\.testAccuracy, \.testAccuracy),
        retainAccuracy: interval(\.retainAccuracy, \.retainAccuracy),
        forgetAccuracy: interval(\.forgetAccuracy, \.forgetAccuracy),
        testAccuracyGap: interval(\.testAccuracyGap, \.testAccuracyGap),
        retainAccuracyGap: interval(\.retainAccuracyGap, \.retainAccuracyGap),
        forgetAccuracyGap: interval(\.forgetAccuracyGap, \.forgetAccuracyGap),
        relativeDistance: interval(\.relativeDistance), testKL: interval(\.testKL, \.testKL),
        forgetKL: interval(\.forgetKL, \.forgetKL),
        membershipAUC: interval(\.membershipAUC, \.membershipAUC),
        forgetScore: boot?.forgetScore ?? (scores.isEmpty ? nil : Interval(values: scores)),
        seconds: seconds, verdict: first.evaluation.verdict,
        seedVerdicts: group.map(\.1.evaluation.verdict))
      if let seconds, let retrain {
        row.speedup = retrain.median / Swift.max(seconds.median, 1e-9)
        row.speedupRange = [
          retrain.minimum / Swift.max(seconds.maximum, 1e-9),
          retrain.maximum / Swift.max(seconds.minimum, 1e-9),
        ]
      }
      if first.evaluation.verdict != .reference && group.count > 1 {
        let thresholds = e.compactMap(\.thresholds)
        if thresholds.count == e.count {
          row.verdict = UnlearningEvaluation.Verdict.judge(
            row.evidence, thresholds: UnlearningEvaluation.Verdict.Thresholds.mean(thresholds))
        }
      }
      return row
    }
  }

  /// Rebuilds `scenario` with its seed moved by `offset` (data split or subsample).
  static func reseeded(_ scenario: Scenario, offset: UInt64) -> Scenario {
    switch scenario {
    case .hospital(let seed): return .hospital(seed: seed &+ offset)
    case .fashionMNIST(let classes, let trainLimit, let testLimit, let seed):
      return .fashionMNIST(
        classes: classes, trainLimit: trainLimit, testLimit: testLimit, seed: seed &+ offset)
    case .csv(let path, let label, let fraction, let seed, let normalize, let delimiter, let id):
      return .csv(
        path: path, labelColumn: label, testFraction: fraction, seed: seed &+ offset,
        normalizeRows: normalize, delimiter: delimiter, idColumn: id)
    case .libsvm(let path, let fraction, let seed, let normalize):
      return .libsvm(
        path: path, testFraction: fraction, seed: seed &+ offset, normalizeRows: normalize)
    case .standardized(let inner): return .standardized(reseeded(inner, offset: offset))
    }
  }
}

extension Comparison.SummaryRow {
  /// The intervals the verdict reads.
  public var evidence: UnlearningEvaluation.Verdict.Evidence {
    UnlearningEvaluation.Verdict.Evidence(
      relativeDistance: relativeDistance.range, testAccuracyGap: testAccuracyGap.range,
      retainAccuracyGap: retainAccuracyGap.range, forgetAccuracyGap: forgetAccuracyGap.range,
      testKL: testKL.range, forgetKL: forgetKL.range)
  }
}
