/// Newton removal (influence update, Docs/Math.md section 3): one (or a few) Newton steps on the
/// retained objective `L_b(.; R)` from the current parameters.
///
/// - ``Mode/fullGradient`` (default): `v = -H^{-1} g`, `g = grad L_b(theta; R)` (`b` included),
///   which also absorbs the training residual.
/// - ``Mode/delta`` (Guo et al.'s form): `v = H^{-1} Delta`,
///   `Delta = m lambda theta + sum_{j in F} grad loss_j(theta)` (equal to `-g` when the input
///   model was an exact optimum). Only the first step uses `Delta`; later steps are full-gradient.
///
/// `H = hess L(theta; R) = sum_{i in R} hess loss_i + lambda n_R I` (or its damped / Gauss-Newton
/// replacement, see ``Curvature``). ``NewtonSolver/cholesky`` forms the dense Hessian
/// (``Objective/hessian(at:)``, linear models `O(n p^2)`) and solves by Cholesky (`O(p^3 / 3)`);
/// ``NewtonSolver/conjugateGradient(tolerance:maximumIterations:)`` runs CG on exact
/// Hessian-vector products (`O(n p)` each). `steps > 1` iterates and stops early once
/// `||grad L_b(theta; R)|| <= residualTolerance` (large removals, e.g. a whole class).
/// For ridge regression one step is exact: it equals retraining to round-off.
public struct NewtonRemoval: Unlearner {
  /// Which curvature matrix replaces `H`.
  public enum Curvature: Sendable, Hashable, Codable {
    /// The exact Hessian (must be positive definite: convex models, or an MLP at a minimum).
    case exact
    /// `H + mu I` (non-convex models; `mu > |lambda_min(H)|`).
    case damped(Double)
    /// The generalised Gauss-Newton matrix plus `lambda n_R I` (positive definite; equals `H`
    /// for convex linear models).
    case gaussNewton
    /// Levenberg-Marquardt: the Gauss-Newton matrix plus `(lambda n_R + mu) I`, `mu >= 0`.
    /// Networks: a positive-definite curvature whose steps stay short where Gauss-Newton
    /// under-estimates the curvature (e.g. a large removal). With CG it needs only
    /// Gauss-Newton products (`O(n p)` each), never the `p x p` matrix.
    case dampedGaussNewton(Double)
  }

  /// The right-hand side of the step.
  public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
    /// `v = -H^{-1} grad L_b(theta; R)`.
    case fullGradient
    /// `v = H^{-1} Delta`, Guo et al.'s form.
    case delta
  }

  /// The linear solver (``NewtonSolver/downdatedFactor(_:)`` is certified removal's and
  /// means ``NewtonSolver/cholesky`` here).
  public var solver: NewtonSolver
  /// The curvature.
  public var curvature: Curvature
  /// The right-hand side.
  public var mode: Mode
  /// Maximum number of Newton steps (default 1).
  public var steps: Int
  /// Stop iterating once the sum-form residual is at most this (default 0: run all `steps`).
  public var residualTolerance: Double
  /// Backtrack each step (Armijo on `L_b(.; R)`) instead of taking it in full (default
  /// `false`: the classical influence update).
  public var lineSearch: Bool
  /// Inexact Newton (CG only): step `k` solves to relative residual
  /// `eta_k = max(tolerance, min(0.5, sqrt(||g_k|| / ||g_0||)))` (Eisenstat-Walker forcing),
  /// so early steps take few CG iterations and convergence stays superlinear; the final
  /// accuracy is set by `residualTolerance`. Default `false` (every step to `tolerance`).
  public var inexactSteps: Bool

  /// Creates a Newton removal.
  ///
  /// - Parameters:
  ///   - solver: `.cholesky` (default) or `.conjugateGradient`.
  ///   - curvature: `.exact` (default), `.damped(mu)`, `.gaussNewton`.
  ///   - mode: `.fullGradient` (default) or `.delta`.
  ///   - steps: `>= 1`; more than one iterates Newton on the retained objective.
  ///   - residualTolerance: early stop for `steps > 1`.
  ///   - lineSearch: backtrack each step on the retained objective (damped Newton).
  ///   - inexactSteps: CG solves with the Eisenstat-Walker forcing term (see ``inexactSteps``).
  public init(
    solver: NewtonSolver = .cholesky, curvature: Curvature = .exact, mode: Mode = .fullGradient,
    steps: Int = 1, residualTolerance: Double = 0, lineSearch: Bool = false,
    inexactSteps: Bool = false
  ) {
    precondition(steps >= 1, "NewtonRemoval: steps must be >= 1")
    precondition(residualTolerance >= 0, "NewtonRemoval: residualTolerance must be >= 0")
    self.solver = solver
    self.curvature = curvature
    self.mode = mode
    self.steps = steps
    self.residualTolerance = residualTolerance
    self.lineSearch = lineSearch
    self.inexactSteps = inexactSteps
  }

  /// `"newton"`.
  public var name: String { "newton" }

  /// Takes the Newton step(s).
  ///
  /// - Throws: ``UnlearningError`` on a bad request;
  ///   ``UnlearningError/notPositiveDefinite(_:)`` when the curvature is not positive definite
  ///   (with the smallest eigenvalue when `p` allows computing it, and a hint to damp).
  public func unlearn<Model: TwiceDifferentiableModel>(
    _ state: TrainedModel<Model>, forgetting ids: [SampleID]
  ) throws -> UnlearningResult<Model> {
    try UnlearningResult.run(method: name, state: state, ids: ids) { removed, rows in
      let objective = removed.objective()
      var theta = removed.parameters
      var notes: [String] = []
      var details: [String: Double] = [:]
      var cgIterations = 0
      var worstRelativeResidual = 0.0
      var taken = 0
      var residuals: [Double] = []
      var shortened = 0
      var initialNorm = 0.0
      for step in 0..<steps {
        let (value, gradient) = objective.valueAndGradient(at: theta)
        let norm = gradient.norm()
        if step == 0 { initialNorm = norm }
        if step > 0 && norm <= residualTolerance { break }
        var rhs: [Double]
        if step == 0 && mode == .delta {
          rhs = Self.delta(objective, rows: rows, at: theta)
        } else {
          rhs = gradient.scaled(by: -1)
        }
        var forcing: Double?
        if inexactSteps, initialNorm > 0 {
          forcing = Swift.min(0.5, (norm / initialNorm).squareRoot())
        }
        let solution = try solve(objective, at: theta, rhs, forcing: forcing)
        cgIterations += solution.iterations
        worstRelativeResidual = Swift.max(worstRelativeResidual, solution.relativeResidual)
        if !solution.converged {
          notes.append(
            "step \(step + 1): CG stopped at relative residual \(solution.relativeResidual) after \(solution.iterations) iterations"
          )
        }
        if lineSearch {
          let slope = gradient.dot(solution.step)
          guard slope < 0,
            let point = LineSearch.backtracking(
              objective, from: theta, value: value, slope: slope, direction: solution.step)
          else {
            notes.append("step \(step + 1): no decrease along the Newton direction; stopped")
            break
          }
          if point.step < 1 { shortened += 1 }
          theta = point.theta
        } else {
          theta.add(solution.step)
        }
        taken += 1
        let residual = objective.gradientNorm(at: theta)
        residuals.append(residual)
        if residualTolerance > 0 && residual <= residualTolerance { break }
      }
      if steps > 1 {
        notes.append(
          "residual after each step: "
            + residuals.map { String(format: "%.3g", $0) }.joined(separator: ", ")
            + (residualTolerance > 0 ? String(format: " (tolerance %.3g)", residualTolerance) : ""))
      }
      if lineSearch { details["shortened steps"] = Double(shortened) }
      var next = removed
      next.parameters = theta
      details["steps"] = Double(taken)
      details["solve relative residual"] = worstRelativeResidual
      if case .conjugateGradient = solver { details["cg iterations"] = Double(cgIterations) }
      switch curvature {
      case .exact: notes.append("curvature: exact Hessian")
      case .damped(let mu):
        details["damping"] = mu
        notes.append("curvature: damped Hessian H + \(mu) I")
      case .gaussNewton: notes.append("curvature: Gauss-Newton (+ lambda n_R I)")
      case .dampedGaussNewton(let mu):
        details["damping"] = mu
        notes.append("curvature: Gauss-Newton (+ lambda n_R I) + \(mu) I")
      }
      notes.append(
        mode == .delta
          ? "right-hand side: Delta (Guo et al.)" : "right-hand side: full gradient (b included)")
      return UnlearningOutcome(state: next, notes: notes, details: details)
    }
  }

  /// `Delta = m lambda theta + sum_{j in F} grad loss_j(theta)`, the full-data gradient minus
  /// the retained one (`g_D - g_R`; Docs/Math.md section 3): the one place it is computed, for
  /// Newton removal and certified removal. `objective` supplies the model, features and targets
  /// (its weights are ignored); the `m x d` forget rows are copied once. Cost `O(m p)`.
  static func delta<Model>(_ objective: Objective<Model>, rows: [Int], at theta: [Double])
    -> [Double]
  {
    let forget = objective.features.rows(at: rows)
    let targets = rows.map { objective.targets[$0] }
    var delta = objective.model.lossAndGradient(
      theta, features: forget, targets: targets, weights: nil
    ).gradient
    delta.add(theta, scaledBy: Double(rows.count) * objective.regularization)
    return delta
  }

  /// The solution of `C v = rhs` with `C` the configured curvature at `theta`.
  struct StepSolution {
    var step: [Double]
    var iterations: Int
    var relativeResidual: Double
    var converged: Bool
  }

  /// - Parameter forcing: CG only: solve to relative residual `max(tolerance, forcing)`.
  func solve<Model>(
    _ objective: Objective<Model>, at theta: [Double], _ rhs: [Double], forcing: Double? = nil
  ) throws
    -> StepSolution
  {
    let p = objective.parameterCount
    switch solver {
    case .cholesky, .downdatedFactor:
      var matrix: Matrix
      switch curvature {
      case .exact: matrix = objective.hessian(at: theta)
      case .damped(let mu):
        matrix = objective.hessian(at: theta)
        matrix.addToDiagonal(mu)
      case .gaussNewton:
        matrix = denseMatrix(dimension: p) { objective.gaussNewtonVectorProduct(at: theta, $0) }
      case .dampedGaussNewton(let mu):
        matrix = denseMatrix(dimension: p) { objective.gaussNewtonVectorProduct(at: theta, $0) }
        matrix.addToDiagonal(mu)
      }
      let v = try NewtonSolver.factor(matrix).solve(rhs)
      return StepSolution(step: v, iterations: 0, relativeResidual: 0, converged: true)
    case .conjugateGradient(let tolerance, let maximumIterations):
      let cg = ConjugateGradient(
        tolerance: Swift.max(tolerance, forcing ?? 0), maximumIterations: maximumIterations)
      let solution: IterativeSolution
      switch curvature {
      case .exact: solution = cg.solve(objective.hessianOperator(at: theta), rhs)
      case .damped(let mu):
        solution = cg.solve(ShiftedOperator(objective.hessianOperator(at: theta), shift: mu), rhs)
      case .gaussNewton: solution = cg.solve(objective.gaussNewtonOperator(at: theta), rhs)
      case .dampedGaussNewton(let mu):
        solution = cg.solve(
          ShiftedOperator(objective.gaussNewtonOperator(at: theta), shift: mu), rhs)
      }
      if !solution.converged && solution.iterations < maximumIterations {
        // CG stopped early: a direction of non-positive curvature (or overflow).
        var message = "CG met non-positive curvature"
        if p <= 2000 {
          var matrix = objective.hessian(at: theta)
          if case .damped(let mu) = curvature { matrix.addToDiagonal(mu) }
          message = NewtonSolver.indefiniteMessage(matrix)
        }
        throw UnlearningError.notPositiveDefinite(message)
      }
      return StepSolution(
        step: solution.solution, iterations: solution.iterations,
        relativeResidual: solution.relativeResidual ?? .nan, converged: solution.converged)
    }
  }
}
