import Foundation
import TestSupport
import Testing

@testable import Unlearning

/// The true gradient residual of a state, recomputed from scratch: a fresh objective over the
/// retained rows with `b`, never the engine's carried gradient.
func residualFromScratch<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) -> Double {
  let targets = state.data.labels.map(Double.init)
  let objective = Objective(
    model: state.model, features: state.data.features, targets: targets, weights: state.weights,
    regularization: state.regularization, perturbation: state.perturbation)
  return objective.gradient(at: state.parameters).norm()
}

/// Adversarial certified-removal problems (rows of norm <= 1).
enum AdversarialProblems {
  /// Gaussian features, rows normalised.
  static func benign(n: Int = 120, d: Int = 5, seed: UInt64 = 1) throws -> Dataset {
    try CertificationProblems.binary(count: n, features: d, seed: seed)
  }

  /// Every row appears twice (same id order: row i and row i + n/2 are equal).
  static func duplicated(n: Int = 60, d: Int = 4) throws -> Dataset {
    let base = try benign(n: n, d: d, seed: 2)
    var elements = base.features.elements
    elements += base.features.elements
    return try Dataset(
      features: Matrix(rows: 2 * n, columns: d, elements: elements),
      labels: base.labels + base.labels)
  }

  /// More features than rows.
  static func wide() throws -> Dataset { try benign(n: 12, d: 30, seed: 3) }

  /// One row of norm 1 among rows of norm 1e-3.
  static func outlier() throws -> Dataset {
    let base = try benign(n: 80, d: 4, seed: 4)
    var m = base.features
    for i in 1..<m.rows { for j in 0..<m.columns { m[i, j] *= 1e-3 } }
    return try Dataset(features: m, labels: base.labels)
  }
}

@Suite("Certified removal: one engine")
struct CertifiedRemovalTests {
  static let acceptEverything = NewtonSolver.downdatedFactor(
    CertifiedRemoval.FastRemovalPolicy(
      inexactnessFraction: 1e6, relativeTolerance: 1, budgetFraction: 1, maximumRefinements: 0,
      refreshInterval: Int.max))

  static let solvers: [NewtonSolver] = [
    .cholesky, .conjugateGradient, .default, acceptEverything,
  ]

  /// Sequential removals; after every request the certificate must cover the residual measured
  /// from scratch, and stay within the budget.
  static func checkSequence(
    data: Dataset, lambda: Double, sigma: Double, budget: Double, requests: [[SampleID]],
    solver: NewtonSolver, accounting: CertifiedRemoval.Accounting
  ) throws -> (worstRatio: Double, retrains: Int) {
    var state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: data.featureCount), data: data,
      regularization: lambda, privacy: CertificationProblems.privacy(sigma: sigma, budget: budget),
      accounting: accounting, solver: solver, perturbation: .reproducibleNotPrivate(seed: 9))
    let initial = try #require(state.certification)
    #expect(residualFromScratch(state) <= initial.spent)
    var worst = 0.0
    for ids in requests {
      let result = try CertifiedRemoval().unlearn(state, forgetting: ids)
      state = result.state
      let certificate = try #require(result.report.certificate)
      let truth = residualFromScratch(state)
      #expect(truth <= certificate.certifiedResidual, "\(solver.name) \(accounting)")
      #expect(certificate.certifiedResidual <= certificate.budget)
      #expect(abs(certificate.trueResidual - truth) <= 1e-8 * Swift.max(truth, 1))
      worst = Swift.max(worst, truth / certificate.certifiedResidual)
    }
    return (worst, state.certification?.retrainCount ?? 0)
  }

  @Test(
    "Certificates cover the residual measured from scratch (benign, duplicated rows, tiny lambda, d > n, outlier)",
    arguments: [CertifiedRemoval.Accounting.exactStep, .paper])
  func soundOnAdversarialProblems(accounting: CertifiedRemoval.Accounting) throws {
    let cases: [(String, Dataset, Double)] = [
      ("benign", try AdversarialProblems.benign(), 1e-2),
      ("duplicated rows", try AdversarialProblems.duplicated(), 1e-2),
      ("tiny lambda", try AdversarialProblems.benign(seed: 5), 1e-6),
      ("d > n", try AdversarialProblems.wide(), 1e-2),
      ("outlier", try AdversarialProblems.outlier(), 1e-2),
    ]
    for (name, data, lambda) in cases {
      let ids = CertificationProblems.randomIDs(data, count: Swift.min(8, data.count - 3), seed: 11)
      let requests = [[ids[0]], [ids[1], ids[2]], Array(ids[3...])]
      for solver in Self.solvers {
        let (worst, _) = try Self.checkSequence(
          data: data, lambda: lambda, sigma: 5, budget: 50, requests: requests, solver: solver,
          accounting: accounting)
        #expect(worst <= 1, "\(name), \(solver.name)")
      }
    }
  }

  @Test("Duplicated rows at the curvature's steepest point: the tight bound is about 0.99 tight")
  func tightBoundIsNearlyAttained() throws {
    // 200 copies of one row x = [1]: X_R^T e is then exactly ||X|| ||e||, and with
    // sigma(z) = 0.7887 the predictor sits where |l'''| peaks (z = ln(2 + sqrt 3)), so the
    // Lagrange remainder is nearly (g3 / 2) t^2. A bound half as large would fail here.
    let n = 200
    let ones = Int((0.7887 * Double(n)).rounded())
    let data = try Dataset(
      features: Matrix(rows: n, columns: 1, elements: [Double](repeating: 1, count: n)),
      labels: (0..<n).map { $0 < ones ? 1 : 0 })
    for solver in [NewtonSolver.cholesky, .default] {
      let state = try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: 1), data: data, regularization: 1e-9,
        privacy: CertificationProblems.privacy(sigma: 1e-6, budget: 10), solver: solver,
        perturbation: .reproducibleNotPrivate(seed: 1))
      let result = try CertifiedRemoval().unlearn(state, forgetting: [data.ids[0]])
      let certificate = try #require(result.report.certificate)
      let truth = residualFromScratch(result.state)
      #expect(truth <= certificate.certifiedResidual)
      #expect(
        truth >= 0.9 * certificate.certifiedResidual, "\(solver.name): \(truth) vs \(certificate)")
    }
  }

  @Test("A retain set of two rows: every certificate covers the truth")
  func nearlyEmptyRetainSet() throws {
    let data = try AdversarialProblems.benign(n: 10, d: 3, seed: 6)
    let ids = data.ids
    for solver in Self.solvers {
      _ = try Self.checkSequence(
        data: data, lambda: 1e-2, sigma: 5, budget: 50,
        requests: [Array(ids[0..<4]), Array(ids[4..<8])], solver: solver, accounting: .exactStep)
    }
  }

  @Test("A tiny budget retrains with a fresh b; the result equals training from scratch with it")
  func budgetExhaustionRetrains() throws {
    let data = try AdversarialProblems.benign(n: 100, d: 4, seed: 7)
    // Budget a little above the training residual: the first removal cannot be covered.
    let privacy = try CertificationProblems.privacy(sigma: 1e-6, budget: 1e-7)
    let state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 4), data: data, regularization: 1e-2,
      privacy: privacy, accounting: .paper, solver: .cholesky,
      perturbation: .reproducibleNotPrivate(seed: 3))
    let ids = Array(data.ids.prefix(10))
    let result = try CertifiedRemoval().unlearn(state, forgetting: ids)
    let certificate = try #require(result.report.certificate)
    #expect(certificate.retrained)
    #expect(result.state.certification?.retrainCount == 1)
    #expect(result.state.perturbation != state.perturbation)
    let fresh = CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 3)
      .drawPerturbation(
        count: 4, sigma: 1e-6, draw: 1)
    #expect(result.state.perturbation == fresh)
    let reference = try TrainedModel.train(
      model: LogisticRegression(featureCount: 4), data: data.removing(ids: ids),
      regularization: 1e-2, perturbation: fresh,
      trainer: Training.Newton(gradientTolerance: 1e-12))
    let gap = result.state.parameters.subtracting(reference.parameters).norm()
    #expect(gap <= 1e-8 * reference.parameters.norm())
    #expect(residualFromScratch(result.state) <= certificate.certifiedResidual)
  }

  @Test("The default solver agrees with a fresh Cholesky solve within its charged inexactness")
  func downdatedFactorAgreesWithCholesky() throws {
    let data = try AdversarialProblems.benign(n: 300, d: 8, seed: 8)
    let privacy = try CertificationProblems.privacy(sigma: 5, budget: 50)
    func run(_ solver: NewtonSolver) throws -> TrainedModel<LogisticRegression> {
      var state = try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: 8), data: data, regularization: 1e-2,
        privacy: privacy, solver: solver, perturbation: .reproducibleNotPrivate(seed: 1))
      for id in data.ids.prefix(20) {
        state = try CertifiedRemoval().unlearn(state, forgetting: id).state
      }
      return state
    }
    let exact = try run(.cholesky)
    let fast = try run(.default)
    // Both are within (certified residual) / mu of the same minimiser of L_b(.; R), with
    // mu = lambda n_R the strong-convexity constant of the sum-form objective.
    let gap = fast.parameters.subtracting(exact.parameters).norm()
    let mu = 1e-2 * Double(exact.retainedCount)
    let fastBound = try #require(fast.certification?.certificates.last?.certifiedResidual)
    let exactBound = try #require(exact.certification?.certificates.last?.certifiedResidual)
    #expect(gap <= (fastBound + exactBound) / mu)
    #expect(gap > 0 || fastBound == exactBound)
    // The downdated factor equals a fresh factorisation of the downdated matrix.
    let counters = try #require(fast.removalWorkCounters)
    #expect(counters.dataPasses >= 20)
  }

  @Test("One-vs-rest: three heads, the joint residual from scratch is covered")
  func oneVsRestIsSound() throws {
    let problem = SyntheticProblems.multiclass(count: 150, features: 4, classes: 3, seed: 4)
    let data = try Dataset(
      features: problem.features, labels: problem.targets.map { Int($0) }
    ).normalizingRows()
    let model = try OneVsRest(head: LogisticRegression(featureCount: 4), classCount: 3)
    var state = try TrainedModel.trainCertified(
      model: model, data: data, regularization: 1e-2,
      privacy: CertificationProblems.privacy(sigma: 5, budget: 50),
      perturbation: .reproducibleNotPrivate(seed: 2))
    #expect(state.parameters.count == 12)
    let ids = CertificationProblems.randomIDs(data, count: 9, seed: 5)
    for request in [Array(ids[0..<1]), Array(ids[1..<4]), Array(ids[4...])] {
      let result = try CertifiedRemoval().unlearn(state, forgetting: request)
      state = result.state
      let certificate = try #require(result.report.certificate)
      #expect(certificate.headCount == 3)
      #expect(residualFromScratch(state) <= certificate.certifiedResidual)
    }
    // Head 1 trained alone on the retained rows with binary targets and its block of b equals
    // block 1 of the stacked model retrained (the objective is a sum over heads).
    let retrained = state.retrained(trainer: Training.Newton(gradientTolerance: 1e-12))
    let retained = try data.removing(ids: Array(state.removedIDs))
    let head = try TrainedModel.train(
      model: LogisticRegression(featureCount: 4),
      data: Dataset(features: retained.features, labels: retained.labels.map { $0 == 1 ? 1 : 0 }),
      regularization: 1e-2, perturbation: Array(state.perturbation![4..<8]),
      trainer: Training.Newton(gradientTolerance: 1e-12))
    let block = Array(retrained.parameters[4..<8])
    #expect(block.subtracting(head.parameters).norm() <= 1e-8 * block.norm())
  }

  @Test("Uncertified states and non-certifiable models are refused with a typed error")
  func refusals() throws {
    let data = try AdversarialProblems.benign()
    let plain = try TrainedModel.train(
      model: LogisticRegression(featureCount: 5), data: data, regularization: 1e-2,
      trainer: Training.Newton())
    #expect(throws: UnlearningError.self) {
      try CertifiedRemoval().unlearn(plain, forgetting: [data.ids[0]])
    }
    let softmax = try TrainedModel.train(
      model: SoftmaxRegression(featureCount: 5, classCount: 2), data: data, regularization: 1e-2,
      trainer: Training.Newton())
    #expect(throws: UnlearningError.self) {
      try CertifiedRemoval().unlearn(softmax, forgetting: [data.ids[0]])
    }
    var big = data.features
    big[0, 0] = 3
    #expect(throws: UnlearningError.self) {
      try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: 5),
        data: Dataset(features: big, labels: data.labels), regularization: 1e-2,
        privacy: PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1))
    }
    #expect(throws: UnlearningError.self) {
      try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: 5, fitsIntercept: true), data: data,
        regularization: 1e-2, privacy: PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1))
    }
  }

  @Test("b from the system generator differs between trainings; the seeded source is marked")
  func perturbationSources() throws {
    let a = CertifiedRemoval.PerturbationSource.system.drawPerturbation(
      count: 1000, sigma: 2, draw: 0)
    let b = CertifiedRemoval.PerturbationSource.system.drawPerturbation(
      count: 1000, sigma: 2, draw: 0)
    #expect(a != b)
    let mean = a.reduce(0, +) / 1000
    let sd = (a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 999).squareRoot()
    #expect(abs(mean) < 6 * 2 / 1000.0.squareRoot())
    #expect(abs(sd - 2) < 6 * 2 / 2000.0.squareRoot())
    #expect(CertifiedRemoval.PerturbationSource.system.isPrivate)
    #expect(!CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 1).isPrivate)
  }
}

/// The contract every ``Unlearner`` keeps, checked on one state: bad requests throw the typed
/// error naming the id and leave the input unchanged; an empty request changes nothing; the
/// report's residual equals the residual measured from scratch on the returned state.
func checkUnlearnerContract<Model: TwiceDifferentiableModel>(
  _ method: any Unlearner, on state: TrainedModel<Model>, forgetting ids: [SampleID]
) throws {
  let unknown = SampleID(Int.max)
  #expect(throws: UnlearningError.unknownID(unknown), "\(method.name)") {
    try method.unlearn(state, forgetting: [ids[0], unknown])
  }
  #expect(throws: UnlearningError.duplicateID(ids[0]), "\(method.name)") {
    try method.unlearn(state, forgetting: [ids[0], ids[0]])
  }
  #expect(throws: UnlearningError.nothingLeft, "\(method.name)") {
    try method.unlearn(state, forgetting: state.data.ids.filter { !state.removedIDs.contains($0) })
  }
  let empty = try method.unlearn(state, forgetting: [])
  #expect(empty.state.parameters == state.parameters, "\(method.name)")
  #expect(empty.state.removedIDs == state.removedIDs)
  let result = try method.unlearn(state, forgetting: ids)
  #expect(result.state.removedIDs == state.removedIDs.union(ids))
  let truth = residualFromScratch(result.state)
  #expect(
    abs(result.report.gradientResidualNorm - truth) <= 1e-8 * Swift.max(truth, 1),
    "\(method.name): report \(result.report.gradientResidualNorm), measured \(truth)")
  #expect(throws: UnlearningError.alreadyForgotten(ids[0]), "\(method.name)") {
    try method.unlearn(result.state, forgetting: [ids[0]])
  }
  // The input is untouched.
  #expect(state.removedIDs.isDisjoint(with: ids))
}

@Suite("Unlearner contract")
struct UnlearnerContractTests {
  @Test("Every unlearner, certified removal included, keeps the contract")
  func everyUnlearner() throws {
    let data = try AdversarialProblems.benign(n: 150, d: 4, seed: 12)
    let ids = CertificationProblems.randomIDs(data, count: 6, seed: 13)
    let plain = try TrainedModel.train(
      model: LogisticRegression(featureCount: 4), data: data, regularization: 1e-2,
      trainer: Training.Newton())
    let methods: [any Unlearner] = [
      Retrain(), Baselines.NaiveDeletion(), Baselines.GradientAscent(epochs: 5),
      Baselines.NegGradPlus(), NewtonRemoval(),
      NewtonRemoval(solver: .conjugateGradient, mode: .delta),
    ]
    for method in methods { try checkUnlearnerContract(method, on: plain, forgetting: ids) }
    for solver in CertifiedRemovalTests.solvers {
      let certified = try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: 4), data: data, regularization: 1e-2,
        privacy: CertificationProblems.privacy(sigma: 5, budget: 50), solver: solver)
      try checkUnlearnerContract(CertifiedRemoval(), on: certified, forgetting: ids)
    }
  }
}
