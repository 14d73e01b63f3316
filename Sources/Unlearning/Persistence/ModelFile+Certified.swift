extension ModelFile {
  /// A model file for a binary certified remover: parameters, the secret `b`, the privacy
  /// parameters and the budget state. Keep it private; publish ``publicCopy()``.
  public init(
    remover: CertifiedRemover<LogisticRegression>, scenario: Scenario, dataFingerprint: String
  ) {
    let state = remover.state
    self.init(
      model: .logistic(
        featureCount: state.model.featureCount, fitsIntercept: state.model.fitsIntercept),
      regularization: state.regularization, parameters: state.parameters, training: state.training,
      scenario: scenario, dataFingerprint: dataFingerprint,
      removedIDs: state.removedIDs.sorted(),
      certification: CertificationState(
        privacy: remover.privacy,
        accounting: remover.accounting == .paper ? "paper" : "exact-step",
        perturbation: state.perturbation, spent: remover.spent, retrainCount: remover.retrainCount,
        nextPerturbationSeed: remover.nextPerturbationSeed))
  }

  /// Rebuilds the certified remover this file describes, on `data` (the full training set it
  /// was trained on; check ``dataFingerprint`` first).
  ///
  /// - Throws: ``ModelFileError`` if the file is not a certified logistic model or has no `b`
  ///   (a public copy cannot continue removing), and the remover's own requirements.
  public func certifiedRemover(
    data: Dataset, trainer: some Trainer = NewtonTrainer(gradientTolerance: 1e-10)
  ) throws
    -> CertifiedRemover<LogisticRegression>
  {
    guard case .logistic(let d, let intercept) = model, let certification else {
      throw ModelFileError.invalidField(
        "certification", "the model file is not a certified logistic model")
    }
    guard let b = certification.perturbation else {
      throw ModelFileError.invalidField(
        "certification.perturbation",
        "missing: this is a public copy without the secret b; removal needs the private model file")
    }
    let state = TrainedModel(
      model: LogisticRegression(featureCount: d, fitsIntercept: intercept), parameters: parameters,
      data: data,
      removedIDs: Set(removedIDs), regularization: regularization, perturbation: b,
      training: training)
    return try CertifiedRemover(
      restoring: state, privacy: certification.privacy,
      accounting: certification.accounting == "paper" ? .paper : .exactStep,
      spent: certification.spent,
      retrainCount: certification.retrainCount,
      nextPerturbationSeed: certification.nextPerturbationSeed,
      trainer: trainer)
  }
}
