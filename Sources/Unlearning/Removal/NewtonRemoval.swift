import Foundation

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

  /// What an accepted step must achieve.
  public enum StepControl: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every step in full: the classical, unsafeguarded influence update.
    case full
    /// Backtracking (Armijo) on the retained objective `L_b(.; R)`: damped Newton, for
    /// convex models far from the retained optimum (e.g. a whole class).
    case objectiveDecrease
    /// Keep step length `t` in `1, 1/2, ..., 1/2^11` only if
    /// `||g(theta + t v)|| <= (1 - 1e-4 t) ||g(theta)||` (`g` the retained gradient,
    /// Eisenstat-Walker's globalised inexact Newton test); if no length passes, add
    /// Levenberg-Marquardt damping `mu I` (`mu` from `max(lambda, 1e-6) n_R`, times 10 each
    /// time, at most 5 times) and retry; then stop with "no progress". The default.
    case residualDecrease
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
  /// The safeguard on each step (default ``StepControl/residualDecrease``).
  public var stepControl: StepControl
  /// Inexact Newton (CG only): step `k` solves to relative residual
  /// `eta_k = max(tolerance, min(0.5, sqrt(||g_k|| / ||g_0||)))` (Eisenstat-Walker forcing),
  /// so early steps take few CG iterations and convergence stays superlinear; the final
  /// accuracy is set by `residualTolerance`. Default `false` (every step to `tolerance`).
  public var inexactSteps: Bool
  /// CG only: take the curvature's products on a seeded sample of this many retained rows,
  /// re-weighted to the retained set's size (sub-sampled Newton, Docs/Math.md section 3.7),
  /// while gradients, line searches and the reported residual stay exact. `nil` (the default)
  /// uses every retained row. Iterating (`steps > 1`) still converges to the retained optimum,
  /// linearly instead of quadratically, with each CG iteration costing `O(sample p)` instead of
  /// `O(n p)`; a single step is no longer the exact Newton step. For large removals (a whole
  /// class), where gradient passes over `X` dominate.
  public var curvatureSampleRows: Int?
  /// Convex models: also stop once the retained optimum `theta*` is provably within this
  /// fraction of the distance travelled: `||g_R|| / (lambda n_R) <= tolerance ||theta -
  /// theta_0||`. The retained objective is `lambda n_R`-strongly convex, so `||theta -
  /// theta*|| <= ||g_R(theta)|| / (lambda n_R)` (Docs/Math.md section 3.7); with `tolerance`
  /// `1e-4` the result's distance to the retrained model is at most about `1e-4` of the
  /// original's. `nil` (the default) stops on `residualTolerance` only.
  public var relativeDistanceTolerance: Double?

  /// Creates a Newton removal.
  ///
  /// - Parameters:
  ///   - solver: `.cholesky` (default) or `.conjugateGradient`.
  ///   - curvature: `.exact` (default), `.damped(mu)`, `.gaussNewton`.
  ///   - mode: `.fullGradient` (default) or `.delta`.
  ///   - steps: `>= 1`; more than one iterates Newton on the retained objective.
  ///   - residualTolerance: early stop for `steps > 1`.
  ///   - stepControl: the safeguard on each step (``StepControl``).
  ///   - inexactSteps: CG solves with the Eisenstat-Walker forcing term (see ``inexactSteps``).
  public init(
    solver: NewtonSolver = .cholesky, curvature: Curvature = .exact, mode: Mode = .fullGradient,
    steps: Int = 1, residualTolerance: Double = 0, stepControl: StepControl = .residualDecrease,
    inexactSteps: Bool = false
  ) {
    self.solver = solver
    self.curvature = curvature
    self.mode = mode
    self.steps = steps
    self.residualTolerance = residualTolerance
    self.stepControl = stepControl
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
    try validate()
    return try UnlearningResult.run(method: name, state: state, ids: ids) { removed, rows in
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
      // Levenberg-Marquardt damping added when no step length decreases the residual.
      let baseDamping = Swift.max(objective.regularization, 1e-6) * objective.effectiveCount
      let dampingAttempts = stepControl == .residualDecrease ? 5 : 0
      var largestExtraDamping = 0.0
      let stopwatch = Stopwatch()
      var stepSeconds: [Double] = []
      var curvatureObjective = objective
      if case .conjugateGradient = solver, let sampleRows = curvatureSampleRows {
        curvatureObjective = objective.sample(rows: sampleRows, seed: 0x5eed)
        if curvatureObjective.features.rows < objective.features.rows {
          notes.append(
            "curvature: products on a sample of \(curvatureObjective.features.rows) retained rows (sub-sampled Newton; gradients exact)"
          )
        }
      }
      // L_b and its gradient at the current iterate, carried from the accepted trial point.
      var current = objective.valueAndGradient(at: theta)
      for step in 0..<steps {
        let (value, gradient) = current
        let norm = gradient.norm()
        if step == 0 { initialNorm = norm }
        if step > 0 && norm <= residualTolerance { break }
        if let tau = relativeDistanceTolerance, objective.model.isConvex,
          objective.curvatureShift > 0,
          norm / objective.curvatureShift <= tau * theta.subtracting(removed.parameters).norm()
        {
          notes.append(
            "stopped: the retained optimum is within \(String(format: "%.3g", norm / objective.curvatureShift)) of the parameters (||g_R|| / (lambda n_R)), at most \(tau) of the distance travelled"
          )
          break
        }
        let rhs =
          step == 0 && mode == .delta
          ? Self.delta(objective, rows: rows, at: theta) : gradient.scaled(by: -1)
        var forcing: Double?
        if inexactSteps, initialNorm > 0 {
          forcing = Swift.min(0.5, (norm / initialNorm).squareRoot())
        }
        var accepted:
          (
            theta: [Double], residual: Double, length: Double,
            at: (value: Double, gradient: [Double])
          )?
        for attempt in 0...dampingAttempts where accepted == nil {
          let extraDamping = attempt == 0 ? 0 : baseDamping * pow(10, Double(attempt - 1))
          let solution = try solve(
            curvatureObjective, at: theta, rhs, forcing: forcing, extraDamping: extraDamping)
          cgIterations += solution.iterations
          worstRelativeResidual = Swift.max(worstRelativeResidual, solution.relativeResidual)
          if !solution.converged {
            notes.append(
              "step \(step + 1): CG stopped at relative residual \(solution.relativeResidual) after \(solution.iterations) iterations"
            )
          }
          switch stepControl {
          case .full:
            let next = theta.adding(solution.step)
            let at = objective.valueAndGradient(at: next)
            accepted = (next, at.gradient.norm(), 1, at)
          case .objectiveDecrease:
            let slope = gradient.dot(solution.step)
            if slope < 0 {
              // Armijo backtracking; each trial's gradient comes with its value (one pass),
              // so the accepted point's is carried to the next step.
              var length = 1.0
              for _ in 0..<50 {
                let trial = theta.adding(solution.step, scaledBy: length)
                let at = objective.valueAndGradient(at: trial)
                let armijo = value + 1e-4 * length * slope
                // Near the optimum the decrease of L falls to round-off level: a step accepted
                // only thanks to the round-off slack must also decrease ||g_R||, or the
                // iterates wander at a residual far above what the gradient can resolve.
                if at.value.isFinite
                  && (at.value <= armijo
                    || (at.value <= armijo + LineSearch.slack(value)
                      && at.gradient.norm() <= (1 - 1e-4 * length) * norm))
                {
                  accepted = (trial, at.gradient.norm(), length, at)
                  break
                }
                length *= 0.5
              }
            }
          case .residualDecrease:
            var length = 1.0
            for _ in 0..<12 {
              let trial = theta.adding(solution.step, scaledBy: length)
              let at = objective.valueAndGradient(at: trial)
              let residual = at.gradient.norm()
              if residual.isFinite && residual <= (1 - 1e-4 * length) * norm {
                accepted = (trial, residual, length, at)
                break
              }
              length *= 0.5
            }
          }
          if accepted != nil { largestExtraDamping = Swift.max(largestExtraDamping, extraDamping) }
        }
        guard let accepted else {
          notes.append(
            stepControl == .objectiveDecrease
              ? "step \(step + 1): no progress: no step along the Newton direction decreased the retained objective; stopped"
              : "step \(step + 1): no progress: no step length (down to 1/2048) or damping (up to \(String(format: "%.3g", baseDamping * 1e4)) I) decreased the retained gradient norm \(String(format: "%.3g", norm)); stopped"
          )
          details["no progress"] = 1
          break
        }
        if accepted.length < 1 { shortened += 1 }
        theta = accepted.theta
        current = accepted.at
        taken += 1
        residuals.append(accepted.residual)
        stepSeconds.append(stopwatch.seconds)
        if residualTolerance > 0 && accepted.residual <= residualTolerance { break }
      }
      if steps > 1 {
        notes.append(
          "residual after each step: "
            + residuals.map { String(format: "%.3g", $0) }.joined(separator: ", ")
            + (residualTolerance > 0 ? String(format: " (tolerance %.3g)", residualTolerance) : ""))
        notes.append(
          "seconds after each step: "
            + stepSeconds.map { String(format: "%.3g", $0) }.joined(separator: ", "))
      }
      if stepControl != .full { details["shortened steps"] = Double(shortened) }
      if largestExtraDamping > 0 { details["added damping"] = largestExtraDamping }
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

  /// Checks the settings before any work: `steps >= 1`, `residualTolerance >= 0` and finite,
  /// `curvatureSampleRows >= 1`, `relativeDistanceTolerance > 0` and finite, and the solver's.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` naming the bad field.
  public func validate() throws(UnlearningError) {
    guard steps >= 1 else {
      throw .invalidArgument("NewtonRemoval.steps must be >= 1, got \(steps)")
    }
    guard residualTolerance >= 0, residualTolerance.isFinite else {
      throw .invalidArgument(
        "NewtonRemoval.residualTolerance must be finite and >= 0, got \(residualTolerance)")
    }
    if let rows = curvatureSampleRows, rows < 1 {
      throw .invalidArgument("NewtonRemoval.curvatureSampleRows must be >= 1, got \(rows)")
    }
    if let tau = relativeDistanceTolerance, !(tau > 0 && tau.isFinite) {
      throw .invalidArgument(
        "NewtonRemoval.relativeDistanceTolerance must be finite and > 0, got \(tau)")
    }
    try solver.validate()
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

  /// - Parameters:
  ///   - forcing: CG only: solve to relative residual `max(tolerance, forcing)`.
  ///   - extraDamping: `mu >= 0` added to the configured curvature (`C + mu I`).
  func solve<Model>(
    _ objective: Objective<Model>, at theta: [Double], _ rhs: [Double], forcing: Double? = nil,
    extraDamping: Double = 0
  ) throws
    -> StepSolution
  {
    let p = objective.parameterCount
    // The shift on top of the Hessian or Gauss-Newton matrix.
    let shift: Double
    let gaussNewton: Bool
    switch curvature {
    case .exact: (shift, gaussNewton) = (0, false)
    case .damped(let mu): (shift, gaussNewton) = (mu, false)
    case .gaussNewton: (shift, gaussNewton) = (0, true)
    case .dampedGaussNewton(let mu): (shift, gaussNewton) = (mu, true)
    }
    let totalShift = shift + extraDamping
    switch solver {
    case .cholesky, .downdatedFactor:
      var matrix =
        gaussNewton
        ? denseMatrix(dimension: p) { objective.gaussNewtonVectorProduct(at: theta, $0) }
        : objective.hessian(at: theta)
      if totalShift != 0 { matrix.addToDiagonal(totalShift) }
      let v = try NewtonSolver.factor(matrix).solve(rhs)
      return StepSolution(step: v, iterations: 0, relativeResidual: 0, converged: true)
    case .conjugateGradient(let tolerance, let maximumIterations):
      let cg = ConjugateGradient(
        tolerance: Swift.max(tolerance, forcing ?? 0), maximumIterations: maximumIterations)
      let base =
        gaussNewton
        ? objective.gaussNewtonOperator(at: theta) : objective.hessianOperator(at: theta)
      let solution =
        totalShift != 0
        ? cg.solve(ShiftedOperator(base, shift: totalShift), rhs) : cg.solve(base, rhs)
      if !solution.converged && solution.iterations < maximumIterations {
        // CG stopped early: a direction of non-positive curvature (or overflow).
        var message = "CG met non-positive curvature"
        if p <= 2000 && !gaussNewton {
          var matrix = objective.hessian(at: theta)
          if totalShift != 0 { matrix.addToDiagonal(totalShift) }
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
