extension Training {
  /// Newton's method with a backtracking (Armijo) line search, for convex models with a
  /// moderate parameter count.
  ///
  /// Each iteration forms the dense Hessian `H = hess L(theta)` (linear models: one weighted
  /// Gram `syrk` call plus `lambda n_eff I`, `O(n p^2)`), factors it by Cholesky (`O(p^3 / 3)`),
  /// and steps along `-H^{-1} grad L`; convergence is quadratic near the optimum, so a few
  /// iterations reach a sum-form gradient norm of `1e-9 * n_eff`.
  ///
  /// **Factorisation reuse** (convex models, on by default): after the first iteration the step
  /// solves the exact Newton system `H(theta) p = -grad L` by preconditioned conjugate gradient
  /// on exact Hessian-vector products (`O(n p)` each), preconditioned by the cached Cholesky
  /// factor of an earlier Hessian, to relative residual ``inexactTolerance``. When that needs
  /// more than ``maximumInnerIterations`` products, the Hessian is re-formed and re-factored.
  /// On 12,000 x 784 logistic this replaces most `O(n p^2)` Gram calls by a few `gemv` passes.
  ///
  /// If the Hessian is not positive definite (non-convex models), the step uses `H + mu I` with
  /// the smallest `mu = 1e-8 * max|H_jj| * 10^k` that factors; such iterations are counted in the
  /// result's notes.
  public struct Newton: Trainer, Hashable, Codable {
    /// Stop when `||grad L|| <= gradientTolerance * n_eff` (sum form). Default `1e-9`.
    public var gradientTolerance: Double
    /// Maximum Newton iterations. Default 100.
    public var maximumIterations: Int
    /// Seed for the model's initial parameters when no start is given.
    public var seed: UInt64
    /// Reuse an earlier Cholesky factor as a CG preconditioner (convex models only).
    public var reusesFactorization: Bool
    /// Relative residual of the inexact (reused-factor) Newton solves. Default `1e-3`.
    public var inexactTolerance: Double
    /// Hessian-vector products allowed per inexact solve before re-factoring. Default 8.
    public var maximumInnerIterations: Int

    /// Creates a Newton trainer.
    ///
    /// - Parameters:
    ///   - gradientTolerance: relative to `n_eff`; `1e-9` gives residuals far below what
    ///     certified removal charges.
    ///   - maximumIterations: a cap; convex problems typically need fewer than 20.
    ///   - seed: initial-parameter seed (unused by convex linear models, which start at 0).
    ///   - reusesFactorization: precondition CG with an earlier factor instead of re-forming
    ///     the Hessian every iteration (ignored for non-convex models).
    ///   - inexactTolerance: relative residual of the reused-factor solves.
    ///   - maximumInnerIterations: CG iterations before the Hessian is re-factored.
    public init(
      gradientTolerance: Double = 1e-9, maximumIterations: Int = 100, seed: UInt64 = 0,
      reusesFactorization: Bool = true, inexactTolerance: Double = 1e-3,
      maximumInnerIterations: Int = 8
    ) {
      precondition(
        gradientTolerance >= 0 && maximumIterations >= 0, "Training.Newton: bad configuration")
      self.gradientTolerance = gradientTolerance
      self.maximumIterations = maximumIterations
      self.seed = seed
      self.reusesFactorization = reusesFactorization
      self.inexactTolerance = inexactTolerance
      self.maximumInnerIterations = maximumInnerIterations
    }

    public func train<Model: TwiceDifferentiableModel>(
      _ objective: Objective<Model>, from start: [Double]?
    ) -> Training.Result {
      let stopwatch = Stopwatch()
      let tolerance = objective.absoluteTolerance(relative: gradientTolerance)
      var theta = objective.startingPoint(start, seed: seed)
      var notes: [String] = []
      var dampedSteps = 0
      var iterations = 0
      var factorizations = 0
      var cached: Cholesky?
      let reuse = reusesFactorization && objective.model.isConvex
      while iterations < maximumIterations {
        let (value, gradient) = objective.valueAndGradient(at: theta)
        if gradient.norm() <= tolerance { break }
        if reuse, let cached {
          let solve = ConjugateGradient(
            tolerance: inexactTolerance, maximumIterations: maximumInnerIterations
          ).solve(
            objective.hessianOperator(at: theta), gradient.scaled(by: -1), preconditioner: cached)
          let slope = gradient.dot(solve.solution)
          if solve.converged, slope < 0,
            let point = LineSearch.backtracking(
              objective, from: theta, value: value, slope: slope, direction: solve.solution)
          {
            theta = point.theta
            iterations += 1
            continue
          }
        }
        factorizations += 1
        var hessian = objective.hessian(at: theta)
        var factor: Cholesky? = try? Cholesky(hessian)
        if factor == nil {
          dampedSteps += 1
          let scale = Swift.max(hessian.diagonal.map(Swift.abs).max() ?? 1, 1e-300)
          var mu = 1e-8 * scale
          var added = 0.0
          while factor == nil && mu.isFinite && mu < 1e12 * scale {
            hessian.addToDiagonal(mu - added)
            added = mu
            factor = try? Cholesky(hessian)
            mu *= 10
          }
        }
        guard let factor else {
          notes.append("stopped: the Hessian could not be made positive definite by damping")
          break
        }
        cached = factor
        var direction = factor.solve(gradient).scaled(by: -1)
        var slope = gradient.dot(direction)
        if !(slope < 0) {
          direction = gradient.scaled(by: -1)
          slope = -gradient.dot(gradient)
        }
        guard
          let point = LineSearch.backtracking(
            objective, from: theta, value: value, slope: slope, direction: direction)
        else {
          notes.append("stopped: the line search found no decrease at iteration \(iterations)")
          break
        }
        theta = point.theta
        iterations += 1
      }
      if reuse {
        notes.append("\(factorizations) Hessian factorization(s) for \(iterations) step(s)")
      }
      if dampedSteps > 0 {
        notes.append("\(dampedSteps) damped Newton step(s): the Hessian was not positive definite")
      }
      return objective.result(
        theta, iterations: iterations, tolerance: tolerance, stopwatch: stopwatch, method: "newton",
        notes: notes)
    }
  }
}
