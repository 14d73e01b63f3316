import Foundation

extension ForgetScore {
  /// The challenge's forget-score experiment on one scenario: `N` unlearned models per method
  /// against `N` retrained models, plus the retrain-vs-retrain noise floor (see ``ForgetScore``
  /// for the scoring).
  ///
  /// **Where the randomness comes from.** Both groups must be distributions over models that
  /// differ *only in the algorithm*. Convex models trained by a deterministic optimiser would
  /// otherwise give `N` identical copies, so every model pair `j` uses its own random subset
  /// `H_j` of the retained rows `R = D \ F` (``retainFraction`` of them, half by default, drawn
  /// from ``seed``), in the manner of the LiRA shadow models (Carlini et al. 2022):
  /// - the unlearned model `j` of each method is trained on `H_j ∪ F`, then the method forgets `F`;
  /// - the retrained model `j` is trained on `H_j` (the same rows with `F` weighted 0) from the
  ///   same start;
  /// - networks also draw their initial parameters from a per-pair seed, shared by the original
  ///   and the retrained model of the pair. The library's gradient ascent and NegGrad+ are
  ///   full-batch, so they add no randomness of their own.
  ///
  /// **Paired or independent subsets** (``sharesSubsets``). By default (paired, as above) the
  /// methods' models and the retrained models share `H_j` and the seeds: the two groups differ
  /// only in the algorithm, pair by pair, so an exact method gives two groups equal to the
  /// trainer's tolerance (`F = 1` once round-off is set aside: see
  /// ``Metrics/ThresholdAttackEstimator/Search/challengeGrid`` on thresholds at a data value), and a
  /// small systematic deviation is detected even when it is far below the model-to-model spread
  /// (common random numbers). With `sharesSubsets = false` the methods'
  /// models use their own subsets and seeds, independent of the retrained models', as in the
  /// challenge (where the two groups were independent training runs); an exact method then
  /// scores like the noise floor below, in distribution.
  ///
  /// **Warm starts** (``warmStarts``, on by default for convex models): a strictly convex
  /// objective has one minimiser, which the trainer reaches to its tolerance from any start, so
  /// the starting point changes the cost, not the model (beyond the tolerance). Then one model is
  /// trained on all of `D` first; each original model starts from it, each retrained model from
  /// its pair's original model (only `F` differs), each control retraining from it too. The
  /// reported seconds of retraining are then those of the warm-started run. Networks always start
  /// from their (seeded) initialisation.
  ///
  /// The **noise floor** row compares the retrained models with a second, independent set of `N`
  /// retrained models (fresh subsets and initialisations, same procedure): the score of an exact
  /// method whose randomness is independent of the reference's, with this `N`, this forget set
  /// and this search, i.e. the metric's own sampling noise. In the paired design methods can
  /// score above it (an exact method scores 1); with independent subsets it is the ceiling a
  /// method can expect.
  ///
  /// Retain accuracy is measured on all of `R`, test accuracy on the test set, each averaged
  /// over the `N` models of a group; the final score divides the method's by the retrained
  /// models'.
  ///
  /// **Cost.** With warm starts, one training on all of `D` first. Per pair: one training on
  /// `H_j ∪ F`, one retraining on `H_j`, one per method, one
  /// control retraining, and a forward pass of each model over `R`, `F` and the test set.
  /// Pairs are independent and run ``parallelism`` at a time on `DispatchQueue.concurrentPerform`;
  /// with more than one at a time, OpenBLAS is limited to one thread per call meanwhile
  /// (`BLASInfo.withThreadCount`; restored afterwards). Memory: one copy of the rows
  /// of `H_j ∪ F` per pair in flight. The per-example epsilons then cost `O(N^2)` each
  /// (exhaustive search) or `O(G log N)` for the challenge's `G`-threshold grid.
  public struct Experiment<Model: TwiceDifferentiableModel>: Sendable {
    /// The model (architecture and loss).
    public var model: Model
    /// The optimiser of every training and retraining (e.g. ``Training/Newton`` for convex models,
    /// ``Training/LBFGS`` for networks).
    public var trainer: any Trainer
    /// `lambda`, per retained sample (sum form, as ``TrainedModel``).
    public var regularization: Double
    /// The full training set `D`.
    public var train: Dataset
    /// The test set.
    public var test: Dataset
    /// The forget set `F` (ids of `train`, distinct, not all of it).
    public var forget: [SampleID]
    /// The methods scored (retraining itself is the reference and needs no entry).
    public var methods: [any Unlearner]
    /// `N`, the number of models per group (at least 2; the challenge used 512).
    public var modelCount: Int
    /// The fraction of `R` each model pair trains on (default 0.5; 1 uses all of `R`, leaving
    /// only the networks' initialisation as randomness).
    public var retainFraction: Double
    /// Draw networks' initial parameters from a per-pair seed (default: `!model.isConvex`).
    public var seedsInitialization: Bool
    /// Whether the methods' model `j` shares the retrained model `j`'s subset and seed (default
    /// `true`, the paired design; see above).
    public var sharesSubsets: Bool
    /// Start convex trainings from nearby solutions (see above; default `model.isConvex`).
    public var warmStarts: Bool
    /// The root of every random choice (subsets, initialisations).
    public var seed: UInt64
    /// The per-example attack search.
    public var estimator: Metrics.ThresholdAttackEstimator
    /// Model pairs trained at a time (default: the active processor count).
    public var parallelism: Int

    /// Creates the experiment with the challenge's defaults (`N = 512`, the challenge's grid).
    public init(
      model: Model, trainer: any Trainer, regularization: Double, train: Dataset, test: Dataset,
      forget: [SampleID], methods: [any Unlearner], modelCount: Int = 512,
      retainFraction: Double = 0.5, sharesSubsets: Bool = true, seedsInitialization: Bool? = nil,
      warmStarts: Bool? = nil, seed: UInt64 = 42,
      estimator: Metrics.ThresholdAttackEstimator = Metrics.ThresholdAttackEstimator(),
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
      self.retainFraction = retainFraction
      self.sharesSubsets = sharesSubsets
      self.seedsInitialization = seedsInitialization ?? !model.isConvex
      self.warmStarts = (warmStarts ?? model.isConvex) && model.isConvex
      self.seed = seed
      self.estimator = estimator
      self.parallelism = parallelism
    }

    /// The name of the noise-floor row.
    public static var noiseFloorName: String { "retrain-vs-retrain" }

    /// What one model contributes: the forget-set confidences and three accuracies.
    struct Observation: Sendable {
      var confidences: [Double]
      var retainAccuracy: Double
      var testAccuracy: Double
      var forgetAccuracy: Double
      var seconds: Double = 0
      var converged = true
    }

    /// Everything pair `j` produces.
    struct PairResult: Sendable {
      var retrained: Observation
      var control: Observation
      var methods: [Observation]
    }

    /// The rows and start of one model, drawn from stream `stream` for pair `j`.
    func draw(stream: UInt64, pair j: Int, retainRows: [Int]) -> (rows: [Int], initSeed: UInt64) {
      var g = SeededGenerator(
        seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(j) &* 0xD1B5_4A32_D192_ED03)
      let k = Swift.max(1, Int((Double(retainRows.count) * retainFraction).rounded()))
      let chosen =
        k >= retainRows.count
        ? retainRows
        : RandomSampling.indices(choosing: k, from: retainRows.count, using: &g).map {
          retainRows[$0]
        }
      return (chosen.sorted(), g.next())
    }

    /// Runs the experiment.
    ///
    /// - Parameter progress: receives a line at the start, after completed pairs (at most every
    ///   two seconds, with the elapsed time and an ETA) and at the scoring step; called from
    ///   worker threads one at a time.
    /// - Throws: ``UnlearningError/invalidArgument(_:)`` for a bad configuration (unknown or
    ///   duplicate forget ids, `N < 2`, a model that does not fit the data), and any error of
    ///   training or of a method.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws
      -> ForgetScore.Report
    {
      try validate()
      let forgetRows = try train.rowIndices(of: forget)
      let forgetSet = Set(forgetRows)
      let retainRows = (0..<train.count).filter { !forgetSet.contains($0) }
      let retain = train.rows(at: retainRows)
      let forgetData = train.rows(at: forgetRows)
      let n = modelCount
      let stopwatch = Stopwatch()
      progress(
        "forget score: \(n) model pairs x (train, retrain, \(methods.count) method\(methods.count == 1 ? "" : "s"), control retrain), "
          + "\(forget.count) forget examples, \(parallelism) pair\(parallelism == 1 ? "" : "s") at a time"
      )

      var warmStart: [Double]?
      if warmStarts {
        progress("forget score: training on all \(train.count) samples (the warm start)")
        warmStart =
          try TrainedModel.train(
            model: model, data: train, regularization: regularization, trainer: trainer
          ).parameters
      }
      let fullStart = warmStart
      let pairs = try PairCollector<PairResult>.run(
        count: n, parallelism: parallelism, progress: progress
      ) { j in
        try runPair(
          j, retainRows: retainRows, forgetRows: forgetRows, retain: retain,
          forgetData: forgetData, fullStart: fullStart)
      }
      progress("forget score: scoring \(forget.count) examples x \(methods.count + 1) rows")

      let reference = ForgetScore.Report.Group(pairs.map { $0.retrained })
      var notes: [String] = []
      let unconverged = pairs.reduce(0) {
        $0 + ($1.retrained.converged ? 0 : 1) + ($1.control.converged ? 0 : 1)
      }
      if unconverged > 0 {
        notes.append("\(unconverged) of \(2 * n) retrainings did not reach the trainer's tolerance")
      }
      var rows: [ForgetScore.Report.Row] = []
      for (k, method) in methods.enumerated() {
        rows.append(row(method.name, pairs.map { $0.methods[k] }, against: reference))
      }
      let floor = row(Self.noiseFloorName, pairs.map { $0.control }, against: reference)
      return ForgetScore.Report(
        modelCount: n, forgetIDs: forget, retainFraction: retainFraction,
        sharesSubsets: sharesSubsets, seedsInitialization: seedsInitialization,
        warmStarts: warmStarts, seed: seed,
        estimator: estimator,
        maximumEpsilon: ForgetScore.maximumEpsilon(modelCount: n),
        retrained: reference, rows: rows, noiseFloor: floor, seconds: stopwatch.seconds,
        notes: notes)
    }

    func validate() throws {
      guard modelCount >= 2 else {
        throw UnlearningError.invalidArgument("the forget score needs at least 2 models per group")
      }
      guard retainFraction > 0, retainFraction <= 1 else {
        throw UnlearningError.invalidArgument("retain fraction must be in (0, 1]")
      }
      guard parallelism >= 1 else {
        throw UnlearningError.invalidArgument("parallelism must be >= 1")
      }
      guard !forget.isEmpty else {
        throw UnlearningError.invalidArgument("the forget set is empty")
      }
      guard Set(forget).count == forget.count else {
        throw UnlearningError.invalidArgument("the forget set names an id twice")
      }
      guard forget.count < train.count else {
        throw UnlearningError.invalidArgument("cannot forget every training sample")
      }
      guard model.featureCount == train.featureCount, model.featureCount == test.featureCount else {
        throw UnlearningError.invalidArgument(
          "the model expects \(model.featureCount) features, the data has \(train.featureCount)")
      }
      for id in forget where train.rowIndex(of: id) == nil {
        throw UnlearningError.unknownID(id)
      }
    }

    /// Pair `j`: the reference retrain, every method, and the control retrain. `fullStart`: the
    /// model trained on all of `D` (warm starts), else `nil`.
    func runPair(
      _ j: Int, retainRows: [Int], forgetRows: [Int], retain: Dataset, forgetData: Dataset,
      fullStart: [Double]?
    ) throws -> PairResult {
      let pair = draw(stream: 1, pair: j, retainRows: retainRows)
      let control = draw(stream: 2, pair: j, retainRows: retainRows)
      let methodsDraw = sharesSubsets ? pair : draw(stream: 3, pair: j, retainRows: retainRows)
      let data = train.rows(at: (methodsDraw.rows + forgetRows).sorted())
      let original = try TrainedModel.train(
        model: model, data: data, regularization: regularization, trainer: trainer,
        start: fullStart ?? start(methodsDraw.initSeed))
      var observations: [Observation] = []
      for method in methods {
        let result = try method.unlearn(original, forgetting: forget)
        var o = observe(result.state.parameters, retain: retain, forget: forgetData)
        o.seconds = result.report.seconds
        observations.append(o)
      }
      let retrainStart =
        fullStart.map { sharesSubsets ? original.parameters : $0 } ?? start(pair.initSeed)
      let retrained = retrain(
        rows: pair.rows + forgetRows, start: retrainStart, retain: retain, forget: forgetData)
      let controlModel = retrain(
        rows: control.rows + forgetRows, start: fullStart ?? self.start(control.initSeed),
        retain: retain, forget: forgetData)
      return PairResult(retrained: retrained, control: controlModel, methods: observations)
    }

    /// The starting parameters of a pair (the model's default unless initialisation is seeded).
    func start(_ initSeed: UInt64) -> [Double] {
      model.initialParameters(seed: seedsInitialization ? initSeed : 0)
    }

    /// Trains on `rows` with the forget rows among them weighted 0, from `start`: the same
    /// objective as training on the retained part alone.
    func retrain(rows: [Int], start: [Double], retain: Dataset, forget forgetData: Dataset)
      -> Observation
    {
      var state = TrainedModel(
        model: model, parameters: start, data: train.rows(at: rows.sorted()),
        removedIDs: Set(forget), regularization: regularization,
        training: Training.Result(
          parameters: [], iterations: 0, gradientNorm: .infinity, gradientTolerance: 0,
          objectiveValue: .infinity, seconds: 0, converged: false, method: "none"))
      state.retrain(trainer: trainer, start: start)
      var o = observe(state.parameters, retain: retain, forget: forgetData)
      o.seconds = state.training.seconds
      o.converged = state.training.converged
      return o
    }

    func observe(_ theta: [Double], retain: Dataset, forget forgetData: Dataset) -> Observation {
      func accuracy(_ d: Dataset) -> Double {
        d.isEmpty
          ? 0
          : Metrics.accuracy(
            predictions: model.predictions(theta, features: d.features), labels: d.labels)
      }
      return Observation(
        confidences: ForgetScore.LogitScaledConfidence.of(
          model, parameters: theta, features: forgetData.features, labels: forgetData.labels),
        retainAccuracy: accuracy(retain), testAccuracy: accuracy(test),
        forgetAccuracy: accuracy(forgetData))
    }

    func row(_ name: String, _ group: [Observation], against reference: ForgetScore.Report.Group)
      -> ForgetScore.Report.Row
    {
      let summary = ForgetScore.Report.Group(group)
      let estimates = ForgetScore.epsilons(
        unlearned: summary.confidences, retrained: reference.confidences, estimator: estimator)
      let epsilons = estimates.map(\.epsilon)
      let f = ForgetScore.forgetScore(epsilons: epsilons, modelCount: modelCount)
      return ForgetScore.Report.Row(
        method: name, unlearnedConfidences: summary.confidences,
        retrainedConfidences: reference.confidences, epsilons: epsilons, estimates: estimates,
        forgetScore: f,
        finalScore: ForgetScore.finalScore(
          forgetScore: f, unlearnedRetainAccuracy: summary.retainAccuracy,
          retrainedRetainAccuracy: reference.retainAccuracy,
          unlearnedTestAccuracy: summary.testAccuracy, retrainedTestAccuracy: reference.testAccuracy
        ),
        retainAccuracy: summary.retainAccuracy, testAccuracy: summary.testAccuracy,
        forgetAccuracy: summary.forgetAccuracy, meanSeconds: summary.meanSeconds)
    }
  }
}

extension ForgetScore.Report {
  /// A group of `N` models: their forget-set confidences and mean accuracies.
  public struct Group: Sendable, Codable {
    /// `N x m` (models x forget examples) logit-scaled confidences.
    public var confidences: [[Double]]
    /// Mean accuracy over the models on the retained rows `R`.
    public var retainAccuracy: Double
    /// Mean test accuracy.
    public var testAccuracy: Double
    /// Mean accuracy on the forget set.
    public var forgetAccuracy: Double
    /// Mean seconds per model of the step that produced it (the method, or the retraining).
    public var meanSeconds: Double

    init<Model>(_ group: [ForgetScore.Experiment<Model>.Observation]) {
      self.init(
        observations: group.map {
          ($0.confidences, $0.retainAccuracy, $0.testAccuracy, $0.forgetAccuracy, $0.seconds)
        })
    }

    init(observations: [([Double], Double, Double, Double, Double)]) {
      let n = Double(Swift.max(observations.count, 1))
      confidences = observations.map(\.0)
      retainAccuracy = observations.reduce(0) { $0 + $1.1 } / n
      testAccuracy = observations.reduce(0) { $0 + $1.2 } / n
      forgetAccuracy = observations.reduce(0) { $0 + $1.3 } / n
      meanSeconds = observations.reduce(0) { $0 + $1.4 } / n
    }
  }
}

extension ForgetScore.Report {
  /// One row of the score table: a method (or the noise floor) against the retrained models.
  public struct Row: Sendable, Codable {
    /// The method's name, or ``ForgetScore/Experiment/noiseFloorName``.
    public var method: String
    /// `N x m` confidences of the method's models (models x forget examples).
    public var unlearnedConfidences: [[Double]]
    /// `N x m` confidences of the retrained models it was compared with.
    public var retrainedConfidences: [[Double]]
    /// The per-example epsilons (`m`).
    public var epsilons: [Double]
    /// The per-example estimates with the attack that attained each.
    public var estimates: [Metrics.ThresholdAttackEstimator.Estimate]
    /// `F` in `[0, 1]`.
    public var forgetScore: Double
    /// `F * (RA_u / RA_r) * (TA_u / TA_r)`.
    public var finalScore: Double
    /// Mean retain accuracy of the method's models.
    public var retainAccuracy: Double
    /// Mean test accuracy of the method's models.
    public var testAccuracy: Double
    /// Mean forget-set accuracy of the method's models.
    public var forgetAccuracy: Double
    /// Mean seconds of the method per model (the noise floor: of a retraining).
    public var meanSeconds: Double
  }
}

extension ForgetScore {
  /// The outcome of a ``ForgetScore/Experiment``.
  public struct Report: Sendable, Codable {
    /// `N`.
    public var modelCount: Int
    /// The forget set, in the order of the confidence columns.
    public var forgetIDs: [SampleID]
    /// The fraction of the retained rows each pair trained on.
    public var retainFraction: Double
    /// Whether the methods' models shared the retrained models' subsets and seeds (paired).
    public var sharesSubsets: Bool
    /// Whether initial parameters were seeded per pair.
    public var seedsInitialization: Bool
    /// Whether convex trainings were warm-started.
    public var warmStarts: Bool
    /// The root seed.
    public var seed: UInt64
    /// The attack search and constants.
    public var estimator: Metrics.ThresholdAttackEstimator
    /// `E = ceil(ln(N - 1))`, the bucket limit.
    public var maximumEpsilon: Double
    /// The retrained reference group.
    public var retrained: ForgetScore.Report.Group
    /// One row per method, in the order given.
    public var rows: [ForgetScore.Report.Row]
    /// Retrained models against an independent set of retrained models.
    public var noiseFloor: ForgetScore.Report.Row
    /// Wall-clock seconds of the whole experiment.
    public var seconds: Double
    /// Anything a reader should know (e.g. unconverged retrainings).
    public var notes: [String]
  }
}

/// Hands out pair indices, stores results and reports progress, under one lock.
final class PairCollector<Result: Sendable>: @unchecked Sendable {
  /// Runs `body(0) ..< body(count - 1)`, independent model trainings, `parallelism` at a time on
  /// `DispatchQueue.concurrentPerform`, and returns the results by index (so they do not depend
  /// on the number of workers). Each job calls BLAS: with BLAS threaded as well, the cores are
  /// oversubscribed and OpenBLAS's threads spin (half the CPU time, measured), so with more than
  /// one worker OpenBLAS runs one thread per call meanwhile (`BLASInfo.withThreadCount`,
  /// restored afterwards); with one worker it keeps its threads. The first error stops the
  /// hand-out and is rethrown. `progress` gets `"label: k/N unit, elapsed, ETA"` lines at most
  /// every two seconds, from worker threads one at a time.
  static func run(
    count: Int, parallelism: Int, progress: @escaping @Sendable (String) -> Void,
    label: String = "forget score", unit: String = "model pairs",
    _ body: @Sendable (Int) throws -> Result
  ) throws -> [Result] {
    let stopwatch = Stopwatch()
    let collector = PairCollector(count: count, progress: progress, label: label, unit: unit)
    let workers = Swift.max(1, Swift.min(parallelism, count))
    BLASInfo.withThreadCount(workers > 1 ? 1 : BLASInfo.threadCount) {
      DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while let j = collector.nextPair() {
          do {
            collector.store(try body(j), at: j, elapsed: stopwatch.seconds)
          } catch {
            collector.fail(error)
          }
        }
      }
    }
    return try collector.results()
  }

  private let lock = NSLock()
  private var next = 0
  private var done = 0
  private var stored: [Result?]
  private var error: (any Error)?
  private var lastReport = 0.0
  private let progress: @Sendable (String) -> Void
  private let label: String
  private let unit: String

  init(
    count: Int, progress: @escaping @Sendable (String) -> Void, label: String = "forget score",
    unit: String = "model pairs"
  ) {
    stored = Array(repeating: nil, count: count)
    self.progress = progress
    self.label = label
    self.unit = unit
  }

  /// The next pair to run, or `nil` when all are handed out or one failed.
  func nextPair() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard error == nil, next < stored.count else { return nil }
    next += 1
    return next - 1
  }

  func store(_ result: Result, at j: Int, elapsed: Double) {
    lock.lock()
    defer { lock.unlock() }
    stored[j] = result
    done += 1
    let total = stored.count
    if done == 1 || done == total || elapsed - lastReport >= 2 {
      lastReport = elapsed
      let eta = elapsed / Double(done) * Double(total - done)
      progress(
        "\(label): \(done)/\(total) \(unit), \(Self.format(elapsed)) elapsed"
          + (done < total ? ", ETA \(Self.format(eta))" : ""))
    }
  }

  func fail(_ e: any Error) {
    lock.lock()
    defer { lock.unlock() }
    if error == nil { error = e }
  }

  func results() throws -> [Result] {
    lock.lock()
    defer { lock.unlock() }
    if let error { throw error }
    return stored.compactMap { $0 }
  }

  static func format(_ seconds: Double) -> String {
    seconds < 120
      ? String(format: "%.1f s", seconds)
      : String(
        format: "%.0f min %02.0f s", (seconds / 60).rounded(.down),
        seconds.truncatingRemainder(dividingBy: 60))
  }
}
