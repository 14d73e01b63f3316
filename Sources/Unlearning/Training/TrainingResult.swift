extension Training {
  /// The outcome of one training run: the parameters and how far from stationary they are.
  ///
  /// `gradientNorm` is always the **sum-form** norm `||grad L_b(theta)||` of the full
  /// ``Objective`` (perturbation `b` included), whatever form the trainer minimised; it is the
  /// training residual that certificates charge. A run that stopped without reaching
  /// `gradientTolerance` has `converged == false`.
  public struct Result: Sendable, Codable, Equatable {
    /// The final parameters (length `p`).
    public var parameters: [Double]
    /// Iterations (Newton / L-BFGS steps, or parameter updates for GD and Adam).
    public var iterations: Int
    /// `||grad L_b(theta)||` at ``parameters`` (sum form).
    public var gradientNorm: Double
    /// The absolute sum-form threshold the run aimed for (`relative tolerance * n_eff`).
    public var gradientTolerance: Double
    /// `L_b(theta)` at ``parameters`` (sum form).
    public var objectiveValue: Double
    /// Wall-clock seconds.
    public var seconds: Double
    /// Whether `gradientNorm <= gradientTolerance`.
    public var converged: Bool
    /// The method, e.g. `"newton"`, `"lbfgs"`, `"gradient-descent"`, `"adam"`.
    public var method: String
    /// Anything a user should know (damped Newton steps, line-search failures, ...).
    public var notes: [String]

    /// Creates a result (trainers fill every field).
    public init(
      parameters: [Double], iterations: Int, gradientNorm: Double, gradientTolerance: Double,
      objectiveValue: Double, seconds: Double, converged: Bool, method: String, notes: [String] = []
    ) {
      self.parameters = parameters
      self.iterations = iterations
      self.gradientNorm = gradientNorm
      self.gradientTolerance = gradientTolerance
      self.objectiveValue = objectiveValue
      self.seconds = seconds
      self.converged = converged
      self.method = method
      self.notes = notes
    }
  }
}
