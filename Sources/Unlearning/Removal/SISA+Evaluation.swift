import Foundation

extension UnlearningEvaluation.Context {
  /// Evaluates a predictor known only through its class probabilities, such as a SISA
  /// ensemble (``SISA/Ensemble/probabilities(_:)``), against the same retrained reference as
  /// ``evaluate(method:parameters:seconds:retrainSeconds:isReference:)``.
  ///
  /// Accuracies, KLs, total-variation differences, the class metrics and the membership AUC
  /// (losses `-log p_y`, clipped at `1e-300`) come from `probabilities`; only the
  /// parameter-space columns (distance, `rho`, gradient residual) come from `parameters` (for
  /// an ensemble, a summary such as ``SISA/Ensemble/averagedParameters``, which for networks
  /// means nothing). Networks are judged by the KLs against the retrain-vs-retrain noise
  /// floor, so their verdict does not depend on `parameters`.
  ///
  /// - Parameters:
  ///   - parameters: the vector the parameter columns describe (length `p`).
  ///   - probabilities: maps `m x d` features to `m x K` class probabilities.
  /// - Cost: one call of `probabilities` on each of the retain, forget, test and membership
  ///   sets.
  package func evaluate(
    method: String, parameters: [Double], probabilities: (Matrix) -> Matrix, seconds: Double?,
    retrainSeconds: Double?
  ) -> UnlearningEvaluation {
    evaluation(
      method: method, parameters: parameters, outputs: outputs(probabilities: probabilities),
      seconds: seconds, retrainSeconds: retrainSeconds, isReference: false)
  }
}

extension Comparison {
  /// The SISA row of a network: the mean of independently trained networks' parameters is
  /// meaningless, so the row is measured on the ensemble's aggregated probabilities
  /// (``UnlearningEvaluation/Context/evaluate(method:parameters:probabilities:seconds:retrainSeconds:)``;
  /// the parameter columns describe the mean of the shards' parameters and mean nothing here). `S = 4` shards of one slice each: every slice of a shard
  /// trains on all earlier slices' rows, so slices only pay off for deletions late in a shard,
  /// and a random or whole-class forget set touches the first slice of every shard.
  static func sisaEnsembleRow<Model: TwiceDifferentiableModel>(
    _ model: Model, name: String, specification: ModelFile.Specification,
    original: TrainedModel<Model>, trainer: any Trainer, forgetIDs: [SampleID],
    context: UnlearningEvaluation.Context<Model>, resamples: Bootstrap.Resamples?,
    retrainSeconds: Double,
    configuration: Configuration,
    progress: (String) -> Void
  ) throws -> Row {
    let shards = 4
    progress("\(name): SISA (\(shards) shards x 1 slice; evaluated on the ensemble)")
    let sisa = SISA(
      shardCount: shards, sliceCount: 1, seed: configuration.seed,
      initializationSeed: configuration.seed,
      trainer: Training.Settings(trainer) ?? .lbfgs(Training.LBFGS(gradientTolerance: 1e-8)))
    let ensemble = try sisa.ensemble(for: original)
    let (after, report) = try ensemble.removing(ids: forgetIDs)
    let (evaluation, intervals) = evaluated(
      context: context, resamples: resamples, method: "sisa", parameters: after.averagedParameters,
      outputs: context.outputs(probabilities: after.probabilities), seconds: report.seconds,
      retrainSeconds: retrainSeconds, isReference: false)
    let removal = RemovalReport(
      method: "sisa", forgottenCount: forgetIDs.count, seconds: report.seconds,
      gradientResidualNorm: evaluation.gradientResidualNorm,
      trainingResidualNorm: original.gradientResidualNorm(),
      notes: report.notes,
      details: [
        "shards retrained": Double(report.shardsRetrained.count),
        "slices replayed": Double(report.slicesReplayed),
      ])
    var row = Row(
      model: name, specification: specification, method: "sisa",
      settings:
        "S \(shards), R 1; exact unlearning of the ensemble; accuracies, KL and AUC of its averaged probabilities (rho and ||grad|| of the mean shard parameters, meaningless for a network)",
      evaluation: evaluation, report: removal, parameters: after.averagedParameters,
      notes: [
        "\(report.shardsRetrained.count) of \(shards) shards retrained; each shard trains on 1/\(shards) of the data"
      ] + report.notes)
    row.bootstrap = intervals
    return row
  }
}

extension Comparison {
  /// One model's SISA shard sweep (`compare --sisa-shards`).
  package struct SISASweep: Sendable, Codable {
    /// The model's name in the comparison, e.g. `"logistic"` or `"mlp 20 tanh"`.
    package var model: String
    /// Its architecture.
    package var specification: ModelFile.Specification
    /// lambda.
    package var regularization: Double
    /// The trainer of the monolithic model, its retrains and every slice.
    package var trainer: String
    /// The sweep.
    package var sweep: SISA.Sweep
  }

  /// The SISA shard sweep (``SISA/sweep(model:train:test:regularization:trainer:shardCounts:sliceCount:forgetCount:repeats:seed:aggregation:progress:)``)
  /// of every model of `configuration`, each with the trainer and lambda the comparison uses
  /// for it (MLPs: L-BFGS capped at ``Configuration/networkMaximumIterations``).
  ///
  /// - Throws: `DataError` from loading, ``ComparisonError`` for a model that does not fit the
  ///   data, ``UnlearningError`` from the sweep (e.g. more shards than rows).
  /// - Cost: per model, one monolithic training, `repeats` retrains and, per `S`, one ensemble
  ///   training and `repeats` deletions.
  package static func sisaSweeps(
    _ configuration: Configuration, shardCounts: [Int], sliceCount: Int, forgetCount: Int,
    repeats: Int, progress: (String) -> Void = { _ in }
  ) throws -> (train: Dataset, test: Dataset, sweeps: [SISASweep]) {
    progress("loading \(configuration.scenario)")
    let (train, test) = try configuration.scenario.load()
    var sweeps: [SISASweep] = []
    func run<Model: TwiceDifferentiableModel>(
      _ model: Model, name: String, specification: ModelFile.Specification,
      trainer: Training.Settings,
      regularization: Double
    ) throws {
      progress("\(name): SISA shard sweep over S = \(shardCounts), R = \(sliceCount)")
      let trainerName =
        switch trainer {
        case .newton: "newton"
        case .lbfgs: "lbfgs"
        case .gradientDescent: "gradient descent"
        case .adam: "adam"
        }
      let sweep = try SISA.sweep(
        model: model, train: train, test: test, regularization: regularization,
        trainer: trainer, shardCounts: shardCounts, sliceCount: sliceCount,
        forgetCount: forgetCount, repeats: repeats, seed: configuration.seed,
        progress: { progress("\(name): \($0)") })
      sweeps.append(
        SISASweep(
          model: name, specification: specification, regularization: regularization,
          trainer: trainerName, sweep: sweep))
    }
    for choice in configuration.resolvedModels(classCount: train.classCount) {
      switch choice {
      case .logistic:
        guard train.classCount == 2 else {
          throw ComparisonError.invalidRequest(
            "logistic regression needs 2 classes; the data has \(train.classCount) (use --model softmax)"
          )
        }
        try run(
          LogisticRegression(featureCount: train.featureCount), name: "logistic",
          specification: .logistic(featureCount: train.featureCount, fitsIntercept: false),
          trainer: .newton(Training.Newton(gradientTolerance: 1e-10)),
          regularization: configuration.regularization)
      case .softmax:
        let model = SoftmaxRegression(
          featureCount: train.featureCount, classCount: train.classCount)
        try run(
          model, name: "softmax",
          specification: .softmax(featureCount: train.featureCount, classCount: train.classCount),
          trainer: model.parameterCount > directSolveLimit
            ? .lbfgs(Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000))
            : .newton(Training.Newton(gradientTolerance: 1e-10)),
          regularization: configuration.regularization)
      case .mlp(let hidden, let activation):
        let sizes = [train.featureCount] + hidden + [train.classCount == 2 ? 1 : train.classCount]
        try run(
          MultilayerPerceptron(layerSizes: sizes, hiddenActivation: activation),
          name: choice.description,
          specification: .multilayerPerceptron(layerSizes: sizes, hiddenActivation: activation),
          trainer: .lbfgs(
            Training.LBFGS(
              gradientTolerance: 1e-8, maximumIterations: configuration.networkMaximumIterations,
              seed: configuration.seed)),
          regularization: configuration.networkRegularization)
      }
    }
    return (train, test, sweeps)
  }
}

extension Comparison.Row {
  /// Whether ``parameters`` is the model the row evaluates: `false` for a network's SISA row,
  /// whose predictions come from the ensemble (displays that draw from parameters, such as
  /// decision boundaries and per-sample probabilities, skip it).
  package var parametersAreTheModel: Bool {
    guard method == "sisa", case .multilayerPerceptron = specification else { return true }
    return false
  }
}
