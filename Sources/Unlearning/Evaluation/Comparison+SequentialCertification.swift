import Foundation

extension Comparison {
  /// How far one privacy budget goes when the forget set arrives as one request per sample:
  /// the figure the two accounting modes of Docs/Math.md section 6 differ on.
  public struct SequentialCertification: Sendable, Codable, Equatable {
    /// `paper` or `exact-step`.
    public var accounting: String
    /// `guo` or `tight`: the bound charged per step.
    public var bound: String
    public var removals: Int
    /// Budget-triggered retrains (each with a fresh `b`).
    public var retrains: Int
    /// 1-based index of the removal that first triggered a retrain; `nil` if none did.
    public var firstRetrainAt: Int?
    /// The largest certified residual any removal reported.
    public var largestCertificate: Double
    /// The largest measured true residual `||grad L_b(theta; R)||` (b included).
    public var largestTrueResidual: Double
    /// Whether every certificate was at least the measured residual (it must be).
    public var everyCertificateCoversTheTruth: Bool
    /// Budget spent after the last removal.
    public var finalSpent: Double
    public var budget: Double
    /// Median wall-clock seconds per removal.
    public var medianSeconds: Double
  }

  /// Removes `ids` one request at a time with a certified remover under each accounting mode
  /// (paper with Guo's bound, as published; exact-step with the tight bound, the default) and
  /// reports retrains and certificates.
  ///
  /// Requests are served by ``CertifiedRemoval`` with the default solver (a cached, downdated
  /// Cholesky factor and one fused pass over the data per request), whose certificates charge
  /// the exact inexactness of every step.
  ///
  /// Cost: one certified training per mode plus `ids.count` certified removals per mode.
  public static func sequentialCertification(
    train: Dataset, ids: [SampleID], regularization: Double, privacy: PrivacyParameters,
    perturbation: CertifiedRemoval.PerturbationSource = .system,
    progress: (String) -> Void = { _ in }
  ) throws -> [SequentialCertification] {
    let modes: [(CertifiedRemoval.Accounting, RemovalCertificate.Bound)] = [
      (.paper, .guo), (.exactStep, .tight),
    ]
    var out = [SequentialCertification]()
    for (accounting, bound) in modes {
      let name = accounting == .paper ? "paper" : "exact-step"
      progress("certified removal, \(name) accounting: \(ids.count) sequential single removals")
      let trainer = Training.Newton(gradientTolerance: 1e-10)
      var state = try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: train.featureCount), data: train,
        regularization: regularization, privacy: privacy, accounting: accounting, bound: bound,
        trainer: trainer, perturbation: perturbation)
      let method = CertifiedRemoval(trainer: trainer)
      var seconds = [Double]()
      var firstRetrain: Int?
      var largestCertificate = 0.0
      var largestTrue = 0.0
      var covered = true
      for (k, id) in ids.enumerated() {
        let result = try method.unlearn(state, forgetting: id)
        state = result.state
        seconds.append(result.report.seconds)
        guard let certificate = result.report.certificate else { continue }
        if certificate.retrained && firstRetrain == nil { firstRetrain = k + 1 }
        largestCertificate = Swift.max(largestCertificate, certificate.certifiedResidual)
        largestTrue = Swift.max(largestTrue, certificate.trueResidual)
        if certificate.trueResidual > certificate.certifiedResidual { covered = false }
      }
      seconds.sort()
      out.append(
        SequentialCertification(
          accounting: name, bound: bound == .guo ? "guo" : "tight", removals: ids.count,
          retrains: state.certification?.retrainCount ?? 0, firstRetrainAt: firstRetrain,
          largestCertificate: largestCertificate,
          largestTrueResidual: largestTrue, everyCertificateCoversTheTruth: covered,
          finalSpent: state.certification?.spent ?? 0,
          budget: privacy.budget, medianSeconds: seconds.isEmpty ? 0 : seconds[seconds.count / 2]))
    }
    return out
  }
}
