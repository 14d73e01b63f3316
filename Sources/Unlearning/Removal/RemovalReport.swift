/// What an unlearning method did, in numbers a user can check.
///
/// Residuals are **sum form** and include the loss perturbation `b` (Docs/Math.md section 1):
/// ``gradientResidualNorm`` is `||grad L_b(theta'; R)||` of the returned model on the retained
/// rows (0 only at the retrained optimum, for convex models); ``trainingResidualNorm`` is
/// `||grad L_b(theta; D)||` of the input model on the rows it was trained on, before removal.
public struct RemovalReport: Sendable, Codable, Equatable {
  /// The method's name (``Unlearner/name``).
  public var method: String
  /// How many samples were forgotten by this request.
  public var forgottenCount: Int
  /// Wall-clock seconds of the unlearning work (validation and report residuals excluded).
  public var seconds: Double
  /// `||grad L_b(theta'; R)||` after removal (sum form, `b` included).
  public var gradientResidualNorm: Double
  /// `||grad L_b(theta; D)||` before removal (the training residual carried in).
  public var trainingResidualNorm: Double
  /// Anything a user should know (damping used, solver not converged, over-forgetting risk).
  public var notes: [String]
  /// Method-specific numbers, e.g. `"cg iterations"`, `"damping"`, `"epochs"`.
  public var details: [String: Double]
  /// The certificate, for certified removal; `nil` otherwise.
  public var certificate: RemovalCertificate?

  /// Creates a report.
  public init(
    method: String, forgottenCount: Int, seconds: Double, gradientResidualNorm: Double,
    trainingResidualNorm: Double, notes: [String] = [], details: [String: Double] = [:],
    certificate: RemovalCertificate? = nil
  ) {
    self.method = method
    self.forgottenCount = forgottenCount
    self.seconds = seconds
    self.gradientResidualNorm = gradientResidualNorm
    self.trainingResidualNorm = trainingResidualNorm
    self.notes = notes
    self.details = details
    self.certificate = certificate
  }
}
