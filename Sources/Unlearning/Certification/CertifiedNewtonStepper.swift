/// One certified Newton step of a binary GLM head: solves `H v = rhs` at the current parameters
/// on the retain set, measures the solve's inexactness `||H v - rhs||` with one exact
/// Hessian-vector product, and evaluates both data-dependent remainder bounds of `v`.
///
/// Holds the cached Cholesky factor used as a PCG preconditioner (see
/// ``CertifiedRemovalSolver``). Internal engine of ``CertifiedRemover`` and
/// ``OneVsRestCertifiedRemover``.
struct CertifiedNewtonStepper: Sendable {
  /// The result of one step.
  struct Step {
    /// `v`.
    var step: [Double]
    /// `(g3 / 2) ||X|| ||X_R v||_4^2`.
    var tight: Double
    /// `gamma ||X|| ||v|| ||X_R v||`.
    var guo: Double
    /// `||H v - rhs||`.
    var inexactness: Double
    /// CG iterations (0 for a direct solve).
    var iterations: Int
  }

  /// An upper bound on `||X||_2` of the full data (valid for every retain set).
  let spectralNorm: Double
  let solver: CertifiedRemovalSolver
  /// The cached factor of an earlier Hessian (PCG preconditioner), or `nil`.
  var factor: Cholesky?
  /// How many dense factorizations were made.
  var factorizations = 0

  init(spectralNorm: Double, solver: CertifiedRemovalSolver) {
    self.spectralNorm = spectralNorm
    self.solver = solver
  }

  /// Forms and factors the Hessian at `theta` (`O(n d^2 + d^3 / 3)`).
  mutating func refactor<Model: CertifiableModel>(_ objective: Objective<Model>, at theta: [Double])
    throws(UnlearningError) -> Cholesky
  {
    let hessian = objective.hessian(at: theta)
    do {
      let cholesky = try Cholesky(hessian)
      factor = cholesky
      factorizations += 1
      return cholesky
    } catch {
      throw .notPositiveDefinite(NewtonRemoval.indefiniteMessage(hessian))
    }
  }

  /// Solves `H(theta) v = rhs` on the objective's retain set (weights) and bounds the step.
  mutating func step<Model: CertifiableModel>(
    _ objective: Objective<Model>, at theta: [Double], rhs: [Double]
  ) throws(UnlearningError) -> Step {
    var v: [Double]
    var iterations = 0
    var pcg: (tolerance: Double, maximumIterations: Int)?
    switch solver {
    case .direct: pcg = nil
    case .preconditionedConjugateGradient(let tolerance, let maximumIterations):
      pcg = (tolerance, maximumIterations)
    case .fastSequential:
      // The fast engine is binary-remover only; elsewhere it means the default PCG.
      pcg = (1e-10, 25)
    }
    switch pcg {
    case nil:
      v = try refactor(objective, at: theta).solve(rhs)
    case .some((let tolerance, let maximumIterations)):
      if let factor {
        let solution = ConjugateGradient(tolerance: tolerance, maximumIterations: maximumIterations)
          .solve(objective.hessianOperator(at: theta), rhs, preconditioner: factor)
        iterations = solution.iterations
        if solution.converged {
          v = solution.solution
        } else {
          v = try refactor(objective, at: theta).solve(rhs)
        }
      } else {
        v = try refactor(objective, at: theta).solve(rhs)
      }
    }
    let inexactness = objective.hessianVectorProduct(at: theta, v).subtracting(rhs).norm()
    let bounds = Self.bounds(of: v, objective: objective, spectralNorm: spectralNorm)
    return Step(
      step: v, tight: bounds.tight, guo: bounds.guo, inexactness: inexactness,
      iterations: iterations)
  }

  /// The two remainder bounds of a step `v` on the retain set of `objective` (rows of weight 0
  /// excluded from `t = X_R v`). One `gemv`, `O(n d)`.
  static func bounds<Model: CertifiableModel>(
    of v: [Double], objective: Objective<Model>, spectralNorm: Double
  ) -> (tight: Double, guo: Double) {
    var t = objective.model.linearPredictors(v, features: objective.features)
    if let weights = objective.weights {
      for i in t.indices where weights[i] == 0 { t[i] = 0 }
    }
    let tight = ResidualBounds.tight(
      thirdDerivativeBound: objective.model.thirdDerivativeBound, spectralNorm: spectralNorm,
      projectedStep: t)
    let guo = ResidualBounds.guo(
      gamma: objective.model.curvatureLipschitzConstant, spectralNorm: spectralNorm,
      stepNorm: v.norm(), projectedStep: t)
    return (tight, guo)
  }

  /// `1e-13 (n_R + lambda n_R ||theta|| + ||b||)`: a generous bound on the round-off of
  /// evaluating the sum-form gradient (and `H v`) in double precision, added to every charged
  /// term so that a certificate also covers the residual as computed.
  static func floatingPointAllowance<Model>(_ objective: Objective<Model>, at theta: [Double])
    -> Double
  {
    1e-13
      * (objective.effectiveCount + objective.curvatureShift * theta.norm()
        + (objective.perturbation?.norm() ?? 0))
  }
}
