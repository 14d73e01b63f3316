import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Removal")
struct RemovalTests {
  static func logisticData(count n: Int, features d: Int, seed: UInt64) throws -> Dataset {
    let problem = SyntheticProblems.binary(count: n, features: d, seed: seed)
    return try Dataset(features: problem.features, labels: problem.targets.map { Int($0) })
  }

  static func randomIDs(_ data: Dataset, count: Int, seed: UInt64) -> [SampleID] {
    var g = SeededGenerator(seed: seed)
    return Array(data.ids.shuffled(using: &g).prefix(count))
  }

  static let methods: [any Unlearner] = [
    Retrain(), Baselines.NaiveDeletion(), Baselines.GradientAscent(), Baselines.NegGradPlus(),
    NewtonRemoval(),
    NewtonRemoval(
      solver: .conjugateGradient(tolerance: 1e-10, maximumIterations: 100), mode: .delta),
  ]
}

extension RemovalTests {
  @Suite("Newton removal")
  struct Newton {
    /// Integer targets 0..<20 from a noisy linear function: a regression problem a `Dataset`
    /// can hold.
    static func ridgeData(seed: UInt64) throws -> Dataset {
      let problem = SyntheticProblems.regression(count: 300, features: 8, seed: seed, noise: 0.5)
      let labels = problem.targets.map { Int(Swift.min(Swift.max(($0 + 10).rounded(), 0), 19)) }
      return try Dataset(features: problem.features, labels: labels, classCount: 20)
    }

    /// `(X_R^T X_R + lambda n_R I)^{-1} X_R^T y_R` with naive products and a dense Cholesky.
    static func closedForm(_ data: Dataset, removing ids: Set<SampleID>, lambda: Double) throws
      -> [Double]
    {
      let kept = data.ids.indices.filter { !ids.contains(data.ids[$0]) }
      let x = data.features.rows(at: kept)
      let y = kept.map { Double(data.labels[$0]) }
      var gram = Naive.product(x, true, x, false)
      gram.addToDiagonal(lambda * Double(kept.count))
      return try Cholesky(gram).solve(Naive.matVec(x, y, transposed: true))
    }

    @Test(
      "Ridge: Newton removal equals the closed-form retrain to 1e-10 (single and batch)",
      arguments: [NewtonRemoval.Mode.fullGradient, .delta])
    func ridgeIsExact(mode: NewtonRemoval.Mode) throws {
      let data = try Self.ridgeData(seed: 81)
      let lambda = 1e-2
      let state = try TrainedModel.train(
        model: RidgeRegression(featureCount: 8), data: data, regularization: lambda,
        trainer: Training.Newton())
      let original = try Self.closedForm(data, removing: [], lambda: lambda)
      #expect(state.parameters.isApproximatelyEqual(to: original, relativeTolerance: 1e-10))
      for ids in [[data.ids[7]], RemovalTests.randomIDs(data, count: 40, seed: 82)] {
        let result = try NewtonRemoval(mode: mode).unlearn(state, forgetting: ids)
        let exact = try Self.closedForm(data, removing: Set(ids), lambda: lambda)
        let error = result.state.parameters.subtracting(exact).norm() / exact.norm()
        #expect(error <= 1e-10, "relative error \(error)")
        #expect(exact.subtracting(original).norm() / exact.norm() > 1e-5, "removal must move theta")
        #expect(result.report.gradientResidualNorm <= 1e-8)
      }
      // Sequential: two requests in a row still equal the closed form.
      let first = try NewtonRemoval(mode: mode).unlearn(
        state, forgetting: [data.ids[1], data.ids[2]])
      let second = try NewtonRemoval(mode: mode).unlearn(first.state, forgetting: [data.ids[3]])
      let exact = try Self.closedForm(
        data, removing: [data.ids[1], data.ids[2], data.ids[3]], lambda: lambda)
      #expect(second.state.parameters.subtracting(exact).norm() / exact.norm() <= 1e-10)
    }

    @Test(
      "Logistic, n >> d: ||theta_newton - theta_retrain|| < 0.05 ||theta_original - theta_retrain||",
      arguments: [(1, UInt64(91)), (20, 92), (100, 93)])
    func newtonBeatsDoingNothing(forget: Int, seed: UInt64) throws {
      let data = try RemovalTests.logisticData(count: 2000, features: 20, seed: seed)
      let state = try TrainedModel.train(
        model: LogisticRegression(featureCount: 20), data: data, regularization: 1e-3,
        trainer: Training.Newton())
      let ids = RemovalTests.randomIDs(data, count: forget, seed: seed + 1)
      let retrained = try Retrain().unlearn(state, forgetting: ids).state.parameters
      let direct = try NewtonRemoval().unlearn(state, forgetting: ids)
      let rho = Metrics.relativeDistance(
        unlearned: direct.state.parameters, retrained: retrained, original: state.parameters)
      #expect(rho < 0.05, "rho = \(rho)")
      // CG on HVPs and the Delta form land on the same step.
      let cg = try NewtonRemoval(
        solver: .conjugateGradient(tolerance: 1e-12, maximumIterations: 200)
      )
      .unlearn(state, forgetting: ids)
      #expect(
        cg.state.parameters.isApproximatelyEqual(
          to: direct.state.parameters, relativeTolerance: 1e-8))
      #expect((cg.report.details["cg iterations"] ?? 0) > 0)
      let delta = try NewtonRemoval(mode: .delta).unlearn(state, forgetting: ids)
      #expect(
        delta.state.parameters.isApproximatelyEqual(
          to: direct.state.parameters, relativeTolerance: 1e-6))
      // More steps converge to the retrained model.
      let iterated = try NewtonRemoval(steps: 5, residualTolerance: 1e-9).unlearn(
        state, forgetting: ids)
      #expect(
        iterated.state.parameters.isApproximatelyEqual(to: retrained, relativeTolerance: 1e-7))
      #expect(iterated.report.gradientResidualNorm <= direct.report.gradientResidualNorm)
    }

    @Test(
      "MLP at a non-minimum: exact curvature throws with the smallest eigenvalue; damping and Gauss-Newton work"
    )
    func indefiniteMLP() throws {
      let (train, _) = Scenario.Hospital.make(seed: 42)
      let model = MultilayerPerceptron(layerSizes: [2, 6, 1])
      let theta = model.initialParameters(seed: 3).map { $0 * 3 }
      let placeholder = Training.Result(
        parameters: theta, iterations: 0, gradientNorm: .nan, gradientTolerance: 0,
        objectiveValue: .nan,
        seconds: 0, converged: false, method: "none")
      let state = TrainedModel(
        model: model, parameters: theta, data: train, regularization: 1e-4, training: placeholder)
      let ids = [train.ids[0], train.ids[1]]
      var objective = state.objective()
      objective = objective.with(weights: try train.weights(removing: ids))
      let smallest = try SymmetricEigen.smallestEigenvalue(of: objective.hessian(at: theta))
      try #require(
        smallest < 0, "this start should have an indefinite Hessian (smallest \(smallest))")
      #expect {
        _ = try NewtonRemoval().unlearn(state, forgetting: ids)
      } throws: { error in
        guard case UnlearningError.notPositiveDefinite(let message) = error else { return false }
        return message.contains("smallest eigenvalue") && message.contains("damped")
      }
      let damped = try NewtonRemoval(curvature: .damped(2 * Swift.abs(smallest))).unlearn(
        state, forgetting: ids)
      #expect(damped.report.details["damping"] == 2 * Swift.abs(smallest))
      let gaussNewton = try NewtonRemoval(curvature: .gaussNewton).unlearn(state, forgetting: ids)
      #expect(gaussNewton.state.parameters.allSatisfy { $0.isFinite })
      #expect(gaussNewton.report.notes.contains { $0.contains("Gauss-Newton") })
    }
  }
}

extension RemovalTests {
  @Suite("Requests")
  struct Requests {
    @Test("Empty forget set: state unchanged bit for bit, 0 seconds, for every method")
    func emptyRequest() throws {
      let data = try RemovalTests.logisticData(count: 300, features: 5, seed: 101)
      var g = SeededGenerator(seed: 102)
      let state = try TrainedModel.train(
        model: LogisticRegression(featureCount: 5), data: data, regularization: 1e-2,
        perturbation: g.normalVector(count: 5), trainer: Training.Newton())
      for method in RemovalTests.methods {
        let result = try method.unlearn(state, forgetting: [])
        #expect(result.state.parameters == state.parameters, "\(method.name)")
        #expect(result.state.weights == state.weights)
        #expect(result.state.removedIDs == state.removedIDs)
        #expect(result.state.perturbation == state.perturbation)
        #expect(result.state.training == state.training)
        #expect(result.state.data == state.data)
        #expect(result.report.seconds == 0)
        #expect(result.report.forgottenCount == 0)
      }
    }

    @Test("Unknown, duplicate, already-forgotten ids throw naming the id; nothing left throws")
    func badRequests() throws {
      let data = try RemovalTests.logisticData(count: 100, features: 3, seed: 111)
      let state = try TrainedModel.train(
        model: LogisticRegression(featureCount: 3), data: data, regularization: 1e-2,
        trainer: Training.Newton())
      let after = try Baselines.NaiveDeletion().unlearn(state, forgetting: [SampleID(5)]).state
      for method in RemovalTests.methods {
        #expect(throws: UnlearningError.unknownID(SampleID(999))) {
          try method.unlearn(after, forgetting: [SampleID(1), SampleID(999)])
        }
        #expect(throws: UnlearningError.duplicateID(SampleID(2))) {
          try method.unlearn(after, forgetting: [SampleID(2), SampleID(3), SampleID(2)])
        }
        #expect(throws: UnlearningError.alreadyForgotten(SampleID(5))) {
          try method.unlearn(after, forgetting: [SampleID(5)])
        }
        #expect(throws: UnlearningError.nothingLeft) {
          try method.unlearn(after, forgetting: after.data.ids.filter { $0 != SampleID(5) })
        }
      }
      #expect("\(UnlearningError.unknownID(SampleID(999)))".contains("999"))
      #expect("\(UnlearningError.duplicateID(SampleID(2)))".contains("2"))
      // The input state is untouched (value semantics) and the removal bookkeeping is in sync.
      #expect(after.removedIDs == [SampleID(5)])
      #expect(after.weights.filter { $0 == 0 }.count == 1)
      #expect(after.retainedCount == 99)
      #expect(after.parameters == state.parameters)
    }

    @Test("Retrain equals training on the reduced data set with the same b")
    func retrainIsTheReference() throws {
      let data = try RemovalTests.logisticData(count: 500, features: 8, seed: 121)
      var g = SeededGenerator(seed: 122)
      let b = g.normalVector(count: 8, standardDeviation: 2)
      let state = try TrainedModel.train(
        model: LogisticRegression(featureCount: 8), data: data, regularization: 1e-2,
        perturbation: b,
        trainer: Training.Newton())
      let ids = RemovalTests.randomIDs(data, count: 30, seed: 123)
      let result = try Retrain().unlearn(state, forgetting: ids)
      let reduced = try data.removing(ids: ids)
      let direct = try TrainedModel.train(
        model: LogisticRegression(featureCount: 8), data: reduced, regularization: 1e-2,
        perturbation: b,
        trainer: Training.Newton())
      #expect(
        result.state.parameters.isApproximatelyEqual(to: direct.parameters, relativeTolerance: 1e-9)
      )
      #expect(result.report.gradientResidualNorm <= 1e-9 * 470)
      #expect(result.state.retainedCount == 470)
    }
  }
}

extension RemovalTests {
  @Suite("Hospital baselines")
  struct Hospital {
    /// Measured (seed 42, 80 patients, intercept, lambda 1e-2 mean form): retrain keeps 93.75%
    /// on F and 92% on test; the hospital demo's 145 epochs give 86.25% / 80%, 500 epochs 45% / 49%.
    /// (With lambda <= 5e-3 the hospital demo's 145 epochs barely move the model: the step is too small
    /// for this model's scale; the longer run still flips it.)
    @Test(
      "Gradient ascent over-forgets (forget accuracy below retrain's, test accuracy down); Newton rho < 0.1"
    )
    func gradientAscentOverForgets() throws {
      let (train, test) = Scenario.Hospital.make(seed: 42)
      let model = LogisticRegression(featureCount: 2, fitsIntercept: true)
      let state = try TrainedModel.train(
        model: model, data: train, regularization: 1e-2, trainer: Training.Newton())
      let ids = RemovalTests.randomIDs(train, count: 80, seed: 7)
      let forget = try train.subset(ids: ids)
      func accuracy(_ theta: [Double], _ data: Dataset) -> Double {
        Metrics.accuracy(
          predictions: model.predictions(theta, features: data.features), labels: data.labels)
      }
      let retrain = try Retrain().unlearn(state, forgetting: ids).state.parameters
      let retrainForget = accuracy(retrain, forget)
      let retrainTest = accuracy(retrain, test)
      #expect(retrainForget > 0.85)
      // The hospital demo's settings: below retrain on F, and more than 1 point down on test.
      let ascent = try Baselines.GradientAscent().unlearn(state, forgetting: ids)
      #expect(accuracy(ascent.state.parameters, forget) < retrainForget - 0.05)
      #expect(accuracy(ascent.state.parameters, test) < retrainTest - 0.01)
      #expect(
        (ascent.report.details["forget mean loss after"] ?? 0)
          > (ascent.report.details["forget mean loss before"] ?? 1))
      // Driven longer it over-forgets badly: far below retrain on F, and the model is wrecked.
      let driven = try Baselines.GradientAscent(epochs: 500).unlearn(state, forgetting: ids)
      let drivenForget = accuracy(driven.state.parameters, forget)
      #expect(
        drivenForget < retrainForget - 0.3,
        "driven ascent \(drivenForget) vs retrain \(retrainForget)")
      #expect(accuracy(driven.state.parameters, test) < retrainTest - 0.2)
      let ascentRho = Metrics.relativeDistance(
        unlearned: driven.state.parameters, retrained: retrain, original: state.parameters)
      #expect(
        ascentRho > 1, "gradient ascent moves away from the retrained model (rho \(ascentRho))")
      let newton = try NewtonRemoval().unlearn(state, forgetting: ids).state.parameters
      let rho = Metrics.relativeDistance(
        unlearned: newton, retrained: retrain, original: state.parameters)
      #expect(rho < 0.1, "Newton rho \(rho)")
      #expect(accuracy(newton, forget) == retrainForget)
    }

    @Test("NegGrad+ with beta = 1 is fine-tuning on R: it converges to the retrained model")
    func negGradPlusFineTunes() throws {
      let (train, _) = Scenario.Hospital.make(seed: 42)
      let model = LogisticRegression(featureCount: 2, fitsIntercept: true)
      let state = try TrainedModel.train(
        model: model, data: train, regularization: 1e-2, trainer: Training.Newton())
      let ids = RemovalTests.randomIDs(train, count: 80, seed: 8)
      let retrain = try Retrain().unlearn(state, forgetting: ids).state.parameters
      let tuned = try Baselines.NegGradPlus(beta: 1, learningRate: 2, epochs: 3000).unlearn(
        state, forgetting: ids)
      let rho = Metrics.relativeDistance(
        unlearned: tuned.state.parameters, retrained: retrain, original: state.parameters)
      #expect(rho < 1e-3, "rho \(rho)")
      let pushed = try Baselines.NegGradPlus(beta: 0.5, learningRate: 0.5, epochs: 200).unlearn(
        state, forgetting: ids)
      let pushedRho = Metrics.relativeDistance(
        unlearned: pushed.state.parameters, retrained: retrain, original: state.parameters)
      #expect(pushedRho > rho)
    }
  }
}
