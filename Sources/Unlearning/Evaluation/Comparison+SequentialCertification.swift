import Foundation

extension Comparison {
  /// How far one privacy budget goes when the forget set arrives as one request per sample:
  /// the figure MATH.md section 6's two accounting modes differ on.
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
  /// Requests are served by the fast sequential path (``CertifiedRemovalSolver/fastSequential(_:)``:
  /// a cached, downdated Cholesky factor and two passes over the data per request), whose
  /// certificates charge the exact inexactness of every step.
  ///
  /// Cost: one certified training per mode plus `ids.count` certified removals per mode.
  public static func sequentialCertification(
    train: Dataset, ids: [SampleID], regularization: Double, privacy: PrivacyParameters,
    seed: UInt64,
    progress: (String) -> Void = { _ in }
  ) throws -> [SequentialCertification] {
    let modes: [(BudgetAccounting, CertificateBound)] = [(.paper, .guo), (.exactStep, .tight)]
    var out = [SequentialCertification]()
    for (accounting, bound) in modes {
      let name = accounting == .paper ? "paper" : "exact-step"
      progress("certified removal, \(name) accounting: \(ids.count) sequential single removals")
      var remover = try CertifiedRemover(
        model: LogisticRegression(featureCount: train.featureCount), data: train,
        regularization: regularization,
        privacy: privacy, accounting: accounting, bound: bound, solver: .fastSequential(.default),
        trainer: NewtonTrainer(gradientTolerance: 1e-10), seed: seed)
      var seconds = [Double]()
      var firstRetrain: Int?
      var largestCertificate = 0.0
      var largestTrue = 0.0
      var covered = true
      for (k, id) in ids.enumerated() {
        let start = DispatchTime.now().uptimeNanoseconds
        let certificate = try remover.remove([id])
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        if certificate.retrained && firstRetrain == nil { firstRetrain = k + 1 }
        largestCertificate = Swift.max(largestCertificate, certificate.certifiedResidual)
        largestTrue = Swift.max(largestTrue, certificate.trueResidual)
        if certificate.trueResidual > certificate.certifiedResidual { covered = false }
      }
      seconds.sort()
      out.append(
        SequentialCertification(
          accounting: name, bound: bound == .guo ? "guo" : "tight", removals: ids.count,
          retrains: remover.retrainCount, firstRetrainAt: firstRetrain,
          largestCertificate: largestCertificate,
          largestTrueResidual: largestTrue, everyCertificateCoversTheTruth: covered,
          finalSpent: remover.spent,
          budget: remover.budget, medianSeconds: seconds.isEmpty ? 0 : seconds[seconds.count / 2]))
    }
    return out
  }
}
