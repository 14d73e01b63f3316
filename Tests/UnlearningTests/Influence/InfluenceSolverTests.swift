import Foundation
import Testing
import TestSupport
import Unlearning

/// The IHVP solvers against each other and against dense linear algebra.
@Suite("InfluenceSolvers")
struct InfluenceSolverTests {
  /// Logistic regression with an intercept, trained by Newton.
  static func logistic(
    count n: Int = 400, features d: Int = 20, lambda: Double = 1e-2, seed: UInt64 = 7
  )
    -> (Objective<LogisticRegression>, [Double])
  {
    let data = SyntheticProblems.binary(count: n, features: d, seed: seed)
    let objective = Objective(
      model: LogisticRegression(featureCount: d, fitsIntercept: true), features: data.features,
      targets: data.targets, regularization: lambda)
    return (objective, Training.Newton(gradientTolerance: 1e-10).train(objective).parameters)
  }

  static func rightHandSides(dimension: Int, count: Int, seed: UInt64) -> [[Double]] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in g.normalVector(count: dimension) }
  }

  @Test(
    "direct solve equals a dense solve of H_sum / n_eff + mu I (weights, damping)",
    arguments: [0.0, 0.3])
  func directMatchesDense(damping: Double) throws {
    let (base, theta) = Self.logistic()
    var weights = [Double](repeating: 1, count: base.features.rows)
    for i in stride(from: 0, to: weights.count, by: 9) { weights[i] = 0 }
    let objective = base.with(weights: weights)
    let fitted = try Influence.IHVPSolver.direct.fit(objective, at: theta, damping: damping)
    // Oracle: the sum-form Hessian rebuilt from HVPs with basis vectors, then scaled.
    let p = objective.parameterCount
    var dense = Matrix(rows: p, columns: p)
    var e = [Double](repeating: 0, count: p)
    for j in 0..<p {
      e[j] = 1
      let column = objective.hessianVectorProduct(at: theta, e)
      e[j] = 0
      for i in 0..<p { dense[i, j] = column[i] / objective.effectiveCount + (i == j ? damping : 0) }
    }
    for v in Self.rightHandSides(dimension: p, count: 3, seed: 1) {
      let x = fitted.solve(v)
      #expect(dense.multiply(x.solution).subtracting(v).norm() <= 1e-12 * v.norm())
      #expect((x.relativeResidual ?? 1) <= 1e-12)
    }
  }

  @Test(
    "CG (plain and Jacobi) agrees with direct to 1e-8 relative",
    arguments: Influence.IHVPSolver.Preconditioning.allCases)
  func conjugateGradientMatchesDirect(preconditioner: Influence.IHVPSolver.Preconditioning) throws {
    let (objective, theta) = Self.logistic(lambda: 1e-3)
    let direct = try Influence.IHVPSolver.direct.fit(objective, at: theta)
    let cg = try Influence.IHVPSolver.conjugateGradient(
      .init(tolerance: 1e-12, preconditioner: preconditioner)
    )
    .fit(objective, at: theta)
    for v in Self.rightHandSides(dimension: objective.parameterCount, count: 4, seed: 2) {
      let a = direct.solve(v).solution
      let b = cg.solve(v)
      #expect(b.converged)
      #expect(b.solution.isApproximatelyEqual(to: a, relativeTolerance: 1e-8))
    }
  }

  @Test(
    "LiSSA with the default scale rule agrees with direct to 1e-2; mini-batch LiSSA estimates the full-data inverse"
  )
  func lissaMatchesDirect() throws {
    let (objective, theta) = Self.logistic(count: 400, features: 10, lambda: 5e-2)
    let direct = try Influence.IHVPSolver.direct.fit(objective, at: theta)
    let full = try Influence.IHVPSolver.lissa(.init(depth: 300)).fit(objective, at: theta)
    let batch = try Influence.IHVPSolver.lissa(
      .init(depth: 300, repeats: 20, batchSize: 40, seed: 9)
    ).fit(
      objective, at: theta)
    for v in Self.rightHandSides(dimension: objective.parameterCount, count: 3, seed: 3) {
      let exact = direct.solve(v).solution
      let estimate = full.solve(v)
      #expect(!estimate.diverged)
      #expect(estimate.solution.isApproximatelyEqual(to: exact, relativeTolerance: 1e-2))
      // Mini-batch products are rescaled to the full-data Hessian: the average converges to
      // H_J^{-1} v, not to a sum or mean of batch inverses (which would be off by a large factor).
      let stochastic = batch.solve(v)
      let error = FiniteDifferences.relativeError(stochastic.solution, exact)
      #expect(error <= 0.1, "mini-batch LiSSA relative error \(error)")
    }
  }

  @Test(
    "the LiSSA trace bound is at least the exact lambda_max (random problems)",
    arguments: [1, 2, 3, 4, 5] as [UInt64])
  func traceBoundIsAnUpperBound(seed: UInt64) throws {
    let (objective, theta) = Self.logistic(count: 120, features: 8, lambda: 1e-3, seed: seed)
    let exact = try Influence.IHVPSolver.lissa(.init(scale: .exactEigenvalue)).fit(
      objective, at: theta)
    let bound = try Influence.IHVPSolver.lissa(.init(scale: .traceBound)).fit(objective, at: theta)
    let lambdaMax = try SymmetricEigen.largestEigenvalue(
      of: {
        var h = objective.hessian(at: theta)
        h.scale(by: 1 / objective.effectiveCount)
        return h
      }())
    let exactScale = try #require(exact.lissaScale)
    let boundScale = try #require(bound.lissaScale)
    #expect(abs(exactScale - 1.1 * lambdaMax) <= 1e-10 * lambdaMax)
    #expect(boundScale >= exactScale)
  }

  @Test("LiSSA with a scale below lambda_max / 2 reports divergence as an error")
  func lissaDivergenceIsReported() throws {
    let (objective, theta) = Self.logistic(count: 200, features: 10, lambda: 1e-2)
    let lambdaMax =
      try SymmetricEigen.largestEigenvalue(of: objective.hessian(at: theta))
      / objective.effectiveCount
    let influence = try InfluenceFunctions(
      model: objective.model, parameters: theta, features: objective.features,
      targets: objective.targets,
      regularization: objective.regularization,
      solver: .lissa(.init(scale: .fixed(0.2 * lambdaMax), depth: 500)))
    #expect(throws: UnlearningError.self) {
      _ = try influence.influences(
        on: Influence.TestPoint(features: objective.features.row(0), target: objective.targets[0]))
    }
  }

  /// A small tanh MLP at a point where its Hessian is clearly indefinite: the first seeded
  /// initial point whose smallest Hessian eigenvalue is below `-1e-3` times the largest
  /// magnitude (chosen by the eigenvalues, not by the luck of an optimiser's path, so the test
  /// does not depend on round-off).
  static func perceptron() -> (Objective<MultilayerPerceptron>, [Double]) {
    let data = SyntheticProblems.binary(count: 60, features: 4, seed: 21)
    let model = MultilayerPerceptron(layerSizes: [4, 6, 1], hiddenActivation: .tanh)
    let objective = Objective(
      model: model, features: data.features, targets: data.targets, regularization: 1e-4)
    for seed in UInt64(0)..<200 {
      let theta = model.initialParameters(seed: seed)
      guard let eigen = try? SymmetricEigen(objective.hessian(at: theta), computeVectors: false)
      else { continue }
      let scale = eigen.values.map(abs).max() ?? 0
      if eigen.smallest < -1e-3 * scale { return (objective, theta) }
    }
    return (objective, model.initialParameters(seed: 0))
  }

  @Test(
    "MLP: damped exact-HVP CG matches the direct solve of the dense damped Hessian; undamped direct reports the inertia"
  )
  func perceptronDamped() throws {
    let (objective, theta) = Self.perceptron()
    var dense = objective.hessian(at: theta)
    dense.scale(by: 1 / objective.effectiveCount)
    let eigen = try SymmetricEigen(dense, computeVectors: false)
    let damping = Swift.max(0, -eigen.smallest) + 0.05
    let direct = try Influence.IHVPSolver.direct.fit(objective, at: theta, damping: damping)
    let cg = try Influence.IHVPSolver.conjugateGradient(.init(tolerance: 1e-13)).fit(
      objective, at: theta, damping: damping)
    for v in Self.rightHandSides(dimension: objective.parameterCount, count: 3, seed: 4) {
      #expect(
        cg.solve(v).solution.isApproximatelyEqual(
          to: direct.solve(v).solution, relativeTolerance: 1e-8))
    }
    if eigen.smallest < 0 {
      do {
        _ = try Influence.IHVPSolver.direct.fit(objective, at: theta)
        Issue.record("an indefinite Hessian was factored")
      } catch let error {
        // The message carries the inertia and smallest eigenvalue of the mean-form Hessian,
        // checked here against the dense eigen-decomposition.
        let found = Indefiniteness(dense, damping: 0)
        guard case .notPositiveDefinite(let message) = error as? UnlearningError else {
          Issue.record("wrong error \(error)")
          return
        }
        let reported = message.components(separatedBy: "smallest eigenvalue ").last?
          .components(separatedBy: ",").first.flatMap(Double.init)
        #expect(abs((reported ?? .nan) - eigen.smallest) <= 1e-8 * abs(eigen.smallest))
        #expect(message.contains("inertia \(found.negativeCount) negative"))
        #expect(message.contains("p = \(objective.parameterCount)"))
        #expect(
          found.negativeCount
            == eigen.inertia(tolerance: 1e-13 * eigen.values.map(abs).max()!).negative)
        #expect(abs(found.smallestEigenvalue - eigen.smallest) <= 1e-10 * abs(eigen.smallest))
        #expect(found.dimension == objective.parameterCount)
        #expect(message.contains("damping >="))
        _ = try Influence.IHVPSolver.direct.fit(
          objective, at: theta, damping: found.suggestedDamping)
      }
    } else {
      Issue.record(
        "the test MLP Hessian is positive definite; pick another point (smallest \(eigen.smallest))"
      )
    }
  }
}
