import Foundation
import Testing
import TestSupport
import Unlearning

/// Algebraic identities and brute-force oracles of the influence API.
@Suite("InfluenceAlgebra")
struct InfluenceAlgebraTests {
  /// Brute force: dense per-sample gradients, dense Hessian, one dense solve per sample.
  static func bruteForce<M: TwiceDifferentiableModel>(
    _ objective: Objective<M>, _ theta: [Double], _ test: Influence.TestPoint, damping: Double,
    convention: Influence.Regularization
  ) throws -> (scores: [Double], selfInfluences: [Double]) {
    var h = objective.hessian(at: theta)
    h.scale(by: 1 / objective.effectiveCount)
    h.addToDiagonal(damping)
    let chol = try Cholesky(h)
    let testGradient = objective.model.perSampleGradients(
      theta, features: Matrix(rows: 1, columns: test.features.count, elements: test.features),
      targets: [test.target]
    ).row(0)
    let g = objective.model.perSampleGradients(
      theta, features: objective.features, targets: objective.targets)
    var scores: [Double] = [], selfs: [Double] = []
    for i in 0..<g.rows {
      var r = g.row(i)
      if convention == .rescaled { r.add(theta, scaledBy: objective.regularization) }
      let w = objective.weights?[i] ?? 1
      let x = chol.solve(r)
      scores.append(w / objective.effectiveCount * testGradient.dot(x))
      selfs.append(r.dot(x))
    }
    return (scores, selfs)
  }

  @Test(
    "logistic: s_test scores and self-influences equal brute force (weights, both conventions, all solvers)",
    arguments: Influence.Regularization.allCases, ["direct", "cg", "cg-jacobi"])
  func logisticMatchesBruteForce(convention: Influence.Regularization, solverName: String) throws {
    let (base, theta0) = InfluenceSolverTests.logistic(count: 300, features: 12, lambda: 1e-2)
    var weights = [Double](repeating: 1, count: 300)
    for i in stride(from: 3, to: 300, by: 11) { weights[i] = 0 }
    let objective = base.with(weights: weights)
    let theta = Training.Newton(gradientTolerance: 1e-10).train(objective, from: theta0).parameters
    let solver: Influence.IHVPSolver =
      switch solverName {
      case "direct": .direct
      case "cg": .conjugateGradient(.init(tolerance: 1e-13))
      default: .conjugateGradient(.init(tolerance: 1e-13, preconditioner: .jacobi))
      }
    let influence = try InfluenceFunctions(
      model: objective.model, parameters: theta, features: objective.features,
      targets: objective.targets,
      regularization: objective.regularization, weights: weights, solver: solver,
      removalRegularization: convention)
    let test = Influence.TestPoint(
      features: objective.features.row(5), target: 1 - objective.targets[5])
    let oracle = try Self.bruteForce(objective, theta, test, damping: 0, convention: convention)
    let scores = try influence.influences(on: test)
    #expect(scores.values.isApproximatelyEqual(to: oracle.scores, relativeTolerance: 1e-9))
    #expect(scores.values[3] == 0)  // removed rows have no influence
    let selfs = influence.selfInfluences()
    #expect(selfs.isApproximatelyEqual(to: oracle.selfInfluences, relativeTolerance: 1e-9))
    #expect(selfs.allSatisfy { $0 >= 0 })  // convex: H_J is positive definite
  }

  @Test(
    "MLP (damped, per-sample-gradient path): scores equal brute force and do not depend on the block size",
    arguments: [1, 7, 64, 1024])
  func perceptronBlocks(blockSize: Int) throws {
    let (objective, theta) = InfluenceSolverTests.perceptron()
    var dense = objective.hessian(at: theta)
    dense.scale(by: 1 / objective.effectiveCount)
    let damping = Swift.max(0, -(try SymmetricEigen.smallestEigenvalue(of: dense))) + 0.05
    let test = Influence.TestPoint(
      features: objective.features.row(1), target: objective.targets[1])
    let oracle = try Self.bruteForce(objective, theta, test, damping: damping, convention: .fixed)
    for solver in [Influence.IHVPSolver.direct, .conjugateGradient(.init(tolerance: 1e-13))] {
      let influence = try InfluenceFunctions(
        model: objective.model, parameters: theta, features: objective.features,
        targets: objective.targets,
        regularization: objective.regularization, damping: damping, solver: solver,
        blockSize: blockSize)
      let scores = try influence.influences(on: test)
      #expect(scores.ihvp.damping == damping)
      #expect(scores.values.isApproximatelyEqual(to: oracle.scores, relativeTolerance: 1e-9))
      #expect(
        influence.selfInfluences().isApproximatelyEqual(
          to: oracle.selfInfluences, relativeTolerance: 1e-9))
    }
  }

  @Test(
    "group influence is the sum of individual influences; several test points at once equal one at a time"
  )
  func groupIsSum() throws {
    let (objective, theta) = InfluenceSolverTests.logistic(count: 300, features: 12)
    for solver in [Influence.IHVPSolver.direct, .conjugateGradient(.init(tolerance: 1e-13))] {
      let influence = try InfluenceFunctions(
        model: objective.model, parameters: theta, features: objective.features,
        targets: objective.targets,
        regularization: objective.regularization, solver: solver)
      let group: [SampleID] = [4, 17, 99, 250]
      let together = try influence.parameterChange(removing: group).change
      var sum = [Double](repeating: 0, count: objective.parameterCount)
      for id in group { sum.add(try influence.parameterChange(removing: [id]).change) }
      #expect(together.isApproximatelyEqual(to: sum, relativeTolerance: 1e-10))
      let tests = objective.features.rows(at: [0, 1, 2])
      let targets = [0.0, 1.0, 1.0]
      let batch = try influence.testLossChanges(testFeatures: tests, testTargets: targets)
      for j in 0..<3 {
        let single = try influence.influences(
          on: Influence.TestPoint(features: tests.row(j), target: targets[j]))
        #expect(batch[j].values.isApproximatelyEqual(to: single.values, relativeTolerance: 1e-10))
      }
    }
  }

  @Test("a duplicated sample has twice the influence, and equals the sample with weight 2")
  func duplicatedSample() throws {
    let data = SyntheticProblems.binary(count: 200, features: 8, seed: 31)
    let model = LogisticRegression(featureCount: 8)
    let z = 17
    var duplicated = data.features
    duplicated.appendRows(of: data.features.rows(at: [z]))
    let duplicatedTargets = data.targets + [data.targets[z]]
    let lambda = 1e-2
    let objectiveDuplicated = Objective(
      model: model, features: duplicated, targets: duplicatedTargets, regularization: lambda)
    var weights = [Double](repeating: 1, count: 200)
    weights[z] = 2
    let objectiveWeighted = Objective(
      model: model, features: data.features, targets: data.targets, weights: weights,
      regularization: lambda)
    let trainer = Training.Newton(gradientTolerance: 1e-12)
    let thetaDuplicated = trainer.train(objectiveDuplicated).parameters
    let thetaWeighted = trainer.train(objectiveWeighted).parameters
    #expect(thetaDuplicated.isApproximatelyEqual(to: thetaWeighted, relativeTolerance: 1e-9))

    let influenceDuplicated = try InfluenceFunctions(
      model: model, parameters: thetaDuplicated, features: duplicated, targets: duplicatedTargets,
      regularization: lambda)
    let influenceWeighted = try InfluenceFunctions(
      model: model, parameters: thetaWeighted, features: data.features, targets: data.targets,
      regularization: lambda, weights: weights)
    let one = try influenceDuplicated.parameterChange(removing: [SampleID(z)]).change
    let both = try influenceDuplicated.parameterChange(removing: [SampleID(z), SampleID(200)])
      .change
    let weighted = try influenceWeighted.parameterChange(removing: [SampleID(z)]).change
    #expect(both.isApproximatelyEqual(to: one.scaled(by: 2), relativeTolerance: 1e-12))
    #expect(weighted.isApproximatelyEqual(to: both, relativeTolerance: 1e-8))
    let test = Influence.TestPoint(features: data.features.row(3), target: data.targets[3])
    let scoresDuplicated = try influenceDuplicated.influences(on: test).values
    let scoresWeighted = try influenceWeighted.influences(on: test).values
    #expect(abs(scoresDuplicated[z] - scoresDuplicated[200]) <= 1e-15 * abs(scoresDuplicated[z]))
    #expect(abs(scoresWeighted[z] - 2 * scoresDuplicated[z]) <= 1e-8 * abs(scoresWeighted[z]))
  }

  @Test("top influences are the extreme scores with their ids and signs")
  func topInfluences() throws {
    let (objective, theta) = InfluenceSolverTests.logistic(count: 300, features: 12)
    let ids = (0..<300).map { SampleID(1000 + $0) }
    let influence = try InfluenceFunctions(
      model: objective.model, parameters: theta, features: objective.features,
      targets: objective.targets,
      ids: ids, regularization: objective.regularization)
    let test = Influence.TestPoint(
      features: objective.features.row(8), target: objective.targets[8])
    let ranked = try influence.topInfluences(on: test, count: 5)
    let values = ranked.scores.values
    #expect(ranked.helpful.count == 5 && ranked.harmful.count == 5)
    #expect(ranked.helpful.first?.value == values.max())
    #expect(ranked.harmful.first?.value == values.min())
    #expect(
      ranked.helpful.allSatisfy { $0.value > 0 } && ranked.harmful.allSatisfy { $0.value < 0 })
    for entry in ranked.helpful + ranked.harmful {
      #expect(values[entry.id.rawValue - 1000] == entry.value)
    }
    // Sign: removing the most helpful sample raises the test loss (checked by retraining).
    let row = ranked.helpful[0].id.rawValue - 1000
    var weights = [Double](repeating: 1, count: 300)
    weights[row] = 0
    let retrain = Objective(
      model: objective.model, features: objective.features, targets: objective.targets,
      weights: weights,
      regularization: objective.regularization * 300 / 299)
    let retrained = Training.Newton(gradientTolerance: 1e-10).train(retrain, from: theta).parameters
    #expect(
      InfluenceLeaveOneOutTests.testLoss(objective.model, retrained, test)
        > InfluenceLeaveOneOutTests.testLoss(objective.model, theta, test))
  }

  @Test("bad input is a typed error naming the problem")
  func errors() throws {
    let (objective, theta) = InfluenceSolverTests.logistic(count: 50, features: 4)
    let influence = try InfluenceFunctions(
      model: objective.model, parameters: theta, features: objective.features,
      targets: objective.targets,
      regularization: objective.regularization)
    #expect(throws: UnlearningError.unknownID(SampleID(999))) {
      _ = try influence.parameterChange(removing: [999])
    }
    #expect(throws: UnlearningError.duplicateID(SampleID(3))) {
      _ = try influence.parameterChange(removing: [3, 3])
    }
    #expect(throws: UnlearningError.self) {
      _ = try influence.influences(on: Influence.TestPoint(features: [1, 2], target: 0))
    }
    #expect(throws: UnlearningError.self) {
      _ = try InfluenceFunctions(
        model: objective.model, parameters: [1, 2], features: objective.features,
        targets: objective.targets,
        regularization: 1e-2)
    }
    #expect(throws: UnlearningError.self) {
      _ = try Influence.IHVPSolver.conjugateGradient(.init(tolerance: -1)).fit(objective, at: theta)
    }
  }

  @Test("solver configurations round-trip through JSON")
  func codable() throws {
    let solvers: [Influence.IHVPSolver] = [
      .direct,
      .conjugateGradient(.init(tolerance: 1e-9, maximumIterations: 50, preconditioner: .jacobi)),
      .lissa(.init(scale: .fixed(3), damping: 0.01, depth: 20, repeats: 2, batchSize: 8, seed: 4)),
      .lissa(.init(scale: .traceBound)),
    ]
    let data = try JSONEncoder().encode(solvers)
    #expect(try JSONDecoder().decode([Influence.IHVPSolver].self, from: data) == solvers)
  }
}
