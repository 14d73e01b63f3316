import Foundation
import LinearAlgebra
import Unlearning

/// One binary head's retained objective over every rank's rows: this rank's rows, the global
/// retained count and row count, and the replicated `b`.
struct ShardHead<Head: CertifiableHead>: Sendable {
  let model: Head
  /// This rank's `n_k x d` rows.
  let features: Matrix
  /// This rank's 0/1 targets.
  let targets: [Double]
  /// This rank's weights (0 = removed).
  var weights: [Double]
  let regularization: Double
  /// `b` (replicated).
  var perturbation: [Double]
  /// `n_R`, the global retained count.
  var effectiveCount: Double
  /// `n`, the global row count (removed rows included).
  let globalRows: Int
  let communicator: Communicator

  /// `lambda n_R`.
  var curvatureShift: Double { regularization * effectiveCount }

  /// The replicated sum over ranks.
  func sum(_ values: inout [Double]) throws(DistributedError) {
    try mpi { () throws(MPIError) in try communicator.allReduceSum(&values) }
  }

  /// The round-off allowance of Docs/Math.md section 6.4 with the global counts.
  func floatingPointAllowance(at theta: [Double]) -> Double {
    certifiedFloatingPointAllowance(
      rowCount: globalRows, effectiveCount: effectiveCount, curvatureShift: curvatureShift,
      parameterNorm: theta.norm(), perturbationNorm: perturbation.norm())
  }
}

/// A removed row as its owner supplies it to every rank.
struct SuppliedRow: Sendable {
  /// `x_j` (`d`).
  var features: [Double]
  /// `y_j`.
  var target: Double
  /// `loss''(z0_j)` at the factor's parameters (0 without a factor).
  var factorCurvature: Double
}

/// The row-sharded counterpart of the single-process certified Newton solver (one binary head,
/// no intercept; Docs/Math.md section 6), step for step: the same strategies
/// (``NewtonSolver``), acceptance tests, refinement and refresh rules, so it takes the same
/// decisions. What changes is where the sums over rows happen:
///
/// - ``predictors`` `z = X_k theta` and ``factorCurvature`` are local (this rank's rows);
/// - ``gradient``, the factor and every certificate quantity are replicated: each sum over rows
///   is a local BLAS call followed by one replicated all-reduce
///   (``Communicator/allReduceSum(_:)-([Double])``);
/// - a step is evaluated by one local fused pass and ONE all-reduce of `2d + 2` doubles
///   (`H v`, the new gradient, `sum t^4` and `sum t^2` of `t = X_R v` for the bounds);
/// - factor downdates use the removed rows their owners supplied, in request order, so the
///   `d x d` factor stays bitwise identical on every rank.
struct ShardedHeadSolver<Head: CertifiableHead>: Sendable {
  struct Step {
    var step: [Double]
    var tight: Double
    var guo: Double
    var inexactness: Double
    var iterations: Int

    static var none: Step { Step(step: [], tight: 0, guo: 0, inexactness: 0, iterations: 0) }
  }

  struct Evaluation {
    var step: [Double]
    /// `sum_{i in R} t_i^4` and `sum_{i in R} t_i^2` over every rank, `t = X v`.
    var fourthPowerSum: Double
    var squareSum: Double
    /// Local `z' = X_k (theta + v)`.
    var predictors: [Double]
    var hessianProduct: [Double]
    var gradient: [Double]
  }

  let strategy: NewtonSolver
  var predictors: [Double]
  var gradient: [Double]
  var factor: Cholesky?
  var factorCurvature: [Double] = []
  var factorShift: Double = 0
  var requestsSinceRefresh = 0
  var predictorUpdates = 0
  static var predictorRecomputeInterval: Int { 64 }
  var statistics = CertifiedRemoval.WorkCounters()

  /// `z` and `g` (two local passes, one all-reduce of `d`), and for the downdated strategy a
  /// fresh factor.
  init(strategy: NewtonSolver, head: ShardHead<Head>, at theta: [Double])
    throws(DistributedError)
  {
    self.strategy = strategy
    let z = head.features.multiply(theta)
    let derivatives = head.model.lossDerivatives(linearPredictors: z, targets: head.targets)
    var g = head.features.multiply(
      Self.weighted(derivatives.first, head.weights), transposed: true)
    try head.sum(&g)
    g.add(theta, scaledBy: head.curvatureShift)
    g.add(head.perturbation)
    predictors = z
    gradient = g
    statistics.dataPasses = 2
    if case .downdatedFactor = strategy {
      try refresh(head, curvature: derivatives.second)
    }
  }

  static func weighted(_ values: [Double], _ weights: [Double]) -> [Double] {
    var out = values
    for i in out.indices { out[i] = weights[i] == 0 ? 0 : weights[i] * values[i] }
    return out
  }

  /// `sum_k X_k^T diag(w c) X_k + lambda n_R I` (local `syrk`, one all-reduce of `d^2`), then
  /// `dpotrf`, replicated.
  mutating func refresh(_ head: ShardHead<Head>, curvature: [Double]) throws(DistributedError) {
    var hessian = head.features.weightedGram(weights: Self.weighted(curvature, head.weights))
    try mpi { () throws(MPIError) in try head.communicator.allReduceSum(&hessian) }
    hessian.addToDiagonal(head.curvatureShift)
    do {
      factor = try Cholesky(hessian)
    } catch {
      throw .notPositiveDefinite("the retained Hessian could not be factored: \(error)")
    }
    factorCurvature = curvature
    factorShift = head.curvatureShift
    requestsSinceRefresh = 0
    statistics.refreshes += 1
  }

  /// `(A - s I)^{-1} b` by the truncated Neumann series (replicated, `O(d^2)` per term).
  func preconditionedSolve(_ b: [Double], shift: Double) -> [Double] {
    guard let factor else { return b }
    let s = Swift.max(factorShift - shift, 0)
    var y = factor.solve(b)
    guard s > 0 else { return y }
    let ratio = s / factorShift
    var term = y
    var power = ratio
    for _ in 0..<3 {
      term = factor.solve(term)
      term.scale(by: s)
      y.add(term)
      power *= ratio
      if power < 1e-4 { break }
    }
    return y
  }

  /// Removes `sqrt(loss''(z0_j)) x_j` of every supplied row, in request order.
  mutating func downdate(_ rows: [SuppliedRow]) -> Bool {
    guard case .downdatedFactor = strategy, var updated = factor else { return true }
    factor = nil
    defer { factor = updated }
    for row in rows {
      let scale = row.factorCurvature.squareRoot()
      guard scale > 0 else { continue }
      do {
        try updated.downdate(removing: row.features.scaled(by: scale))
      } catch {
        return false
      }
    }
    return true
  }

  mutating func refreshPredictorsIfDue(features: Matrix, at theta: [Double]) {
    guard predictorUpdates >= Self.predictorRecomputeInterval else { return }
    predictors = features.multiply(theta)
    predictorUpdates = 0
    statistics.dataPasses += 1
  }

  /// One local fused pass, then one all-reduce of `2d + 2` doubles.
  mutating func evaluate(
    _ v: [Double], head: ShardHead<Head>, at theta: [Double], predictors z0: [Double],
    curvature c: [Double]
  ) throws(DistributedError) -> Evaluation {
    let x = head.features
    let d = x.columns
    let next = theta.adding(v)
    let targets = head.targets
    let weights = head.weights
    let model = head.model
    let (t, products) = x.fusedProductPass(v, outputs: 2) { rows, tBlock, u in
      let count = rows.count
      var zBlock = [Double]()
      zBlock.reserveCapacity(count)
      for i in rows { zBlock.append(z0[i] + tBlock[i]) }
      let first = model.lossDerivatives(linearPredictors: zBlock, targets: Array(targets[rows]))
        .first
      for (offset, i) in rows.enumerated() {
        u[offset] = c[i] * tBlock[i]
        let w = weights[i]
        u[count + offset] = w == 0 ? 0 : w * first[offset]
      }
    }
    var fourth = 0.0
    var square = 0.0
    for i in t.indices where weights[i] != 0 {
      let ti = t[i]
      fourth += ti * ti * ti * ti
      square += ti * ti
    }
    var sums = products.elements
    sums.append(fourth)
    sums.append(square)
    try head.sum(&sums)
    predictorUpdates += 1
    var hv = Array(sums[0..<d])
    hv.add(v, scaledBy: head.curvatureShift)
    var g = Array(sums[d..<(2 * d)])
    g.add(next, scaledBy: head.curvatureShift)
    g.add(head.perturbation)
    statistics.dataPasses += 1
    return Evaluation(
      step: v, fourthPowerSum: sums[2 * d], squareSum: sums[2 * d + 1],
      predictors: z0.adding(t), hessianProduct: hv, gradient: g)
  }

  static func certify(
    _ e: Evaluation, rhs: [Double], model: Head, spectralNorm: Double, iterations: Int
  ) -> Step {
    let tight = ResidualBounds.tight(
      thirdDerivativeBound: model.thirdDerivativeBound, spectralNorm: spectralNorm,
      fourthPowerSum: e.fourthPowerSum)
    let guo = ResidualBounds.guo(
      gamma: model.curvatureLipschitzConstant, spectralNorm: spectralNorm,
      stepNorm: e.step.norm(), projectedNorm: e.squareSum.squareRoot())
    return Step(
      step: e.step, tight: tight, guo: guo,
      inexactness: e.hessianProduct.subtracting(rhs).norm(), iterations: iterations)
  }

  /// The exact retained Hessian as an operator: two local `gemv`s and one all-reduce of `d`
  /// per application (failures are recorded in `failure` and poison the result with NaN).
  static func hessianOperator(
    head: ShardHead<Head>, curvature c: [Double], failure: CollectiveFailure
  ) -> ClosureOperator {
    let x = head.features
    let shift = head.curvatureShift
    let communicator = head.communicator
    return ClosureOperator(dimension: x.columns) { p in
      var u = x.multiply(p)
      for i in u.indices { u[i] *= c[i] }
      var hp = x.multiply(u, transposed: true)
      if failure.error == nil {
        do throws(MPIError) {
          try communicator.allReduceSum(&hp)
        } catch {
          failure.record(error)
        }
      }
      if failure.error != nil { return [Double](repeating: .nan, count: hp.count) }
      hp.add(p, scaledBy: shift)
      return hp
    }
  }

  /// Solves `H(theta) v = rhs` with the configured strategy: the single-process solver's
  /// control flow, with distributed evaluations.
  mutating func step(
    _ head: ShardHead<Head>, at theta: [Double], predictors z: [Double], rhs: [Double],
    spectralNorm: Double, forceRefresh: Bool, acceptableCharge: Double,
    charge: (Step) -> Double
  ) throws(DistributedError) -> (step: Step, evaluation: Evaluation, refreshed: Bool) {
    let curvature = Self.weighted(
      head.model.lossDerivatives(linearPredictors: z, targets: head.targets).second,
      head.weights)
    let shift = head.curvatureShift
    let failure = CollectiveFailure()
    func finish(_ v: [Double], iterations: Int) throws(DistributedError) -> (Step, Evaluation) {
      try failure.rethrow()
      let e = try evaluate(v, head: head, at: theta, predictors: z, curvature: curvature)
      return (
        Self.certify(
          e, rhs: rhs, model: head.model, spectralNorm: spectralNorm, iterations: iterations), e
      )
    }
    let hessian = Self.hessianOperator(head: head, curvature: curvature, failure: failure)
    switch strategy {
    case .cholesky:
      try refresh(head, curvature: curvature)
      let (s, e) = try finish(preconditionedSolve(rhs, shift: shift), iterations: 0)
      return (s, e, false)
    case .conjugateGradient(let tolerance, let maximumIterations):
      if factor == nil { try refresh(head, curvature: curvature) }
      let solution = ConjugateGradient(tolerance: tolerance, maximumIterations: maximumIterations)
        .solve(
          hessian, rhs,
          preconditioner: ShardedShiftedPreconditioner(solver: self, shift: shift))
      try failure.rethrow()
      statistics.dataPasses += 2 * (solution.iterations + 1)
      if solution.converged {
        let (s, e) = try finish(solution.solution, iterations: solution.iterations)
        return (s, e, false)
      }
      try refresh(head, curvature: curvature)
      let (s, e) = try finish(
        preconditionedSolve(rhs, shift: shift), iterations: solution.iterations)
      return (s, e, true)
    case .downdatedFactor(let policy):
      var refreshed = false
      if forceRefresh || factor == nil {
        try refresh(head, curvature: curvature)
        refreshed = true
      }
      let rhsNorm = rhs.norm()
      func accepted(_ s: Step) -> Bool {
        let remainder = charge(s)
        let target = Swift.max(
          policy.inexactnessFraction * remainder, policy.relativeTolerance * rhsNorm)
        return s.inexactness <= target || remainder + s.inexactness <= acceptableCharge
      }
      var (s, e) = try finish(preconditionedSolve(rhs, shift: shift), iterations: 0)
      if !accepted(s) && policy.maximumRefinements > 0 {
        let target = Swift.max(
          policy.inexactnessFraction * charge(s), policy.relativeTolerance * rhsNorm,
          acceptableCharge - charge(s))
        let residual = rhs.subtracting(e.hessianProduct)
        let residualNorm = residual.norm()
        if residualNorm > 0 {
          let correction = ConjugateGradient(
            tolerance: Swift.max(0.5 * target / residualNorm, 1e-16),
            maximumIterations: policy.maximumRefinements
          ).solve(
            hessian, residual,
            preconditioner: ShardedShiftedPreconditioner(solver: self, shift: shift),
            measuresTrueResidual: false)
          statistics.dataPasses += 2 * correction.iterations
          statistics.refinementIterations += correction.iterations
          (s, e) = try finish(
            e.step.adding(correction.solution), iterations: correction.iterations)
        }
      }
      if !accepted(s) && !refreshed {
        try refresh(head, curvature: curvature)
        refreshed = true
        (s, e) = try finish(preconditionedSolve(rhs, shift: shift), iterations: s.iterations)
      }
      return (s, e, refreshed)
    }
  }
}

/// The cached factor, corrected for the regulariser the removed rows took with them, as a PCG
/// preconditioner (replicated, no communication).
struct ShardedShiftedPreconditioner<Head: CertifiableHead>: Preconditioner {
  let solver: ShardedHeadSolver<Head>
  let shift: Double

  func applyInverse(_ r: [Double]) -> [Double] { solver.preconditionedSolve(r, shift: shift) }
}
