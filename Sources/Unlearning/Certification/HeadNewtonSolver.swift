import Foundation

/// Where the rows of a certified head live: the only operations of ``HeadNewtonSolver`` that
/// differ between one process and row shards spread over MPI ranks (Docs/Math.md section 6).
/// Everything else (strategies, acceptance tests, refinement, refresh rules, the `O(d^2)`
/// steps and every certificate quantity) is the one engine's, so both take the same decisions
/// by construction.
///
/// - The objective handed to the solver holds this process's rows (local predictors
///   `z = X_k theta`, local fused passes); its `effectiveCount` is the global retained count
///   `n_R`, so `lambda n_R` is global.
/// - ``sum`` / ``sumMatrix`` complete a sum over rows: the identity in one process, a
///   replicated all-reduce over ranks (every rank receives the same bits).
/// - ``rowCount`` is the global row count `n` (removed rows included), which scales the
///   round-off allowances.
/// - Removed rows reach the solver as supplied vectors
///   (``HeadNewtonSolver/downdate(removed:curvature:)``), which their owner broadcasts.
package struct RowPlacement: Sendable {
  /// `n`, the global row count (removed rows included).
  package var rowCount: Int
  /// Completes a sum over rows in place (`O(count)` words communicated over ranks).
  package var sum: @Sendable (inout [Double]) -> Void
  /// Completes a sum over rows of a `d x d` matrix in place.
  package var sumMatrix: @Sendable (inout Matrix) -> Void
  /// Completes a maximum over rows in place (one word over ranks): the anchored drift of the
  /// `O(d^2)` steps is a maximum over every retained row, not just this process's.
  package var maximum: @Sendable (inout Double) -> Void

  /// A placement from its operations (row shards: `sum` and `maximum` all-reduce over the
  /// ranks).
  package init(
    rowCount: Int, sum: @escaping @Sendable (inout [Double]) -> Void,
    sumMatrix: @escaping @Sendable (inout Matrix) -> Void,
    maximum: @escaping @Sendable (inout Double) -> Void
  ) {
    self.rowCount = rowCount
    self.sum = sum
    self.sumMatrix = sumMatrix
    self.maximum = maximum
  }

  /// Every row in this process: the sums are already complete.
  package static func local(rowCount: Int) -> RowPlacement {
    RowPlacement(rowCount: rowCount, sum: { _ in }, sumMatrix: { _ in }, maximum: { _ in })
  }
}

/// The one Newton-solve state machine of certified removal, for one binary GLM head without
/// intercept (`p = d`, `z = X theta`); Docs/Math.md section 6. The rows may live in this process
/// or be sharded over ranks (``RowPlacement``).
///
/// Cache, at the current parameters `theta` and retain set `R`:
/// - ``predictors`` `z = X theta` (all `n` rows, removed ones included);
/// - ``gradient`` `g = grad L_b(theta; R)` (sum form, `b` included), measured by the last
///   evaluation;
/// - ``factor``: the Cholesky factor of an earlier Hessian (a preconditioner only). With
///   ``NewtonSolver/downdatedFactor(_:)`` it is
///   `H~ = sum_{i in R} loss''(z0_i) x_i x_i^T + lambda n_0 I` at the last refresh (`z0`, `n_0`
///   then), with every row removed since then downdated by its rank-1 term
///   `sqrt(loss''(z0_j)) x_j`: up to ``AmortisedState/foldSize`` recent ones as a Woodbury
///   correction (``LowRankDowndatedCholesky``), the older ones folded into the stored factor
///   (rank-1 sweeps, or with the `O(d^2)` steps a refactorisation of the dense `H~`). The stored
///   factor is never written between folds, so copies of a solver (a state removed from twice)
///   share it safely.
///
/// Only exact quantities enter a certificate, whatever the strategy: `H v` (exact HVP at
/// `theta`), `t = X_R v` and the gradient after the step come from one fused pass over `X` per
/// evaluation. The predictors are carried as `z' = z + t` and recomputed as `X theta` every
/// ``predictorRecomputeInterval`` updates, so their round-off stays far inside the
/// floating-point allowance.
package struct HeadNewtonSolver<Head: CertifiableHead>: Sendable {
  /// One step's result.
  struct Step {
    /// `v`.
    var step: [Double]
    /// `(g3 / 2) ||X|| ||X_R v||_4^2`.
    var tight: Double
    /// `gamma ||X|| ||v|| ||X_R v||`.
    var guo: Double
    /// `||H v - rhs||`, measured.
    var inexactness: Double
    /// CG iterations.
    var iterations: Int

    static var none: Step { Step(step: [], tight: 0, guo: 0, inexactness: 0, iterations: 0) }
  }

  /// The exact quantities of a candidate step `v` at `theta`.
  struct Evaluation {
    var step: [Double]
    /// `sum_{i in R} t_i^4` and `sum_{i in R} t_i^2` of `t = X v` over every row (the bounds).
    var fourthPowerSum: Double
    var squareSum: Double
    /// `z' = X (theta + v)`.
    var predictors: [Double]
    /// `H(theta) v` on the retain set (exact, sum form).
    var hessianProduct: [Double]
    /// `grad L_b(theta + v; R)`.
    var gradient: [Double]
  }

  let strategy: NewtonSolver
  /// Where the rows live.
  let placement: RowPlacement
  package var predictors: [Double]
  package var gradient: [Double]
  var factor: LowRankDowndatedCholesky?
  /// `loss''(z0)` of every row at the factor's parameters (for downdates).
  var factorCurvature: [Double] = []
  /// `lambda n_0`, the regulariser in the factored matrix.
  var factorShift: Double = 0
  /// Requests served by the current factor.
  var requestsSinceRefresh = 0
  /// Evaluations since ``predictors`` was last computed as `X theta`.
  var predictorUpdates = 0
  /// `||z' - z||` drift control: see ``predictorRecomputeInterval``.
  static var predictorRecomputeInterval: Int { 64 }
  package var statistics = CertifiedRemoval.WorkCounters()
  /// The `O(d^2)` steps' state (``CertifiedRemoval/FastRemovalPolicy/amortisedSteps`` set), else `nil`.
  var amortised: AmortisedState?

  /// What the `O(d^2)` steps of Docs/Math.md 6.10 keep besides the factor: `O(d^2)` memory.
  struct AmortisedState: Sendable {
    /// The factored matrix `H~ = sum_{i in R} loss''(z~_i) x_i x_i^T + factorShift I`, stored
    /// densely and downdated with the factor (the factor's own backward error is never
    /// trusted: the inexactness is measured with this matrix). Only the upper triangle is
    /// maintained and read (`dsyrk` folds, `dsymv` products).
    var hessian: Matrix
    /// `G_R = X_R^T X_R` of the current retain set (upper triangle maintained, as ``hessian``).
    var gram: Matrix
    /// `theta~`, the parameters at which ``hessian`` was formed.
    var point: [Double]
    /// `sum_i loss''(z~_i)` over the rows ever added to ``hessian`` (round-off bound).
    var curvatureMass: Double
    /// Rank-1 terms added to or removed from ``hessian`` and ``gram`` (round-off bound).
    var rankOneTerms: Int
    /// Whether ``HeadNewtonSolver/predictors`` and ``HeadNewtonSolver/gradient`` describe
    /// earlier parameters (cheap steps were taken since the last pass over `X`).
    var stale = false
    /// Cheap steps since the last exact step.
    var cheapSteps = 0
    /// Rows removed since ``hessian`` and ``gram`` were last downdated (as supplied, row-major
    /// `d` each), with their curvature weights `loss''(z~_j)`: their rank-1 terms are applied
    /// as a low-rank correction, and folded into both matrices (two `dsyrk` calls of inner size
    /// ``foldSize``) once there are ``foldSize`` of them, instead of two `d x d` sweeps per
    /// request. The factor keeps the same rows as a Woodbury correction and is refactored from
    /// the folded ``hessian`` at the same moment (one `dpotrf`, about `d^3 / 3` flops, instead
    /// of ``foldSize`` rank-1 sweeps of `d^2` each).
    var pendingRows: [Double] = []
    var pendingCurvature: [Double] = []
    static var foldSize: Int { 32 }
    /// `z~`: the predictors whose curvature `loss''(z~_i)` built ``hessian`` (as computed).
    var pointPredictors: [Double] = []
    /// `theta_a`, parameters at which ``anchorDistance`` was measured (empty: none since the
    /// last refresh).
    var anchor: [Double] = []
    /// `D_a >= max_{i in R} |x_i^T theta_a - z~_i|`, measured from a fresh `X theta_a` with its
    /// round-off (Docs/Math.md 6.10).
    var anchorDistance = Double.infinity

    /// `max_{i in R} |x_i^T theta - z~_i|` bounded without reading `X`: the smaller of
    /// `||theta - theta~||` and `D_a + ||theta - theta_a||` (rows of norm at most 1).
    func driftBound(at theta: [Double]) -> Double {
      let plain = theta.subtracting(point).norm()
      guard !anchor.isEmpty, anchorDistance.isFinite else { return plain }
      return Swift.min(plain, anchorDistance + theta.subtracting(anchor).norm())
    }

    /// Records the anchor `theta_a = theta` with
    /// `D_a = (1 + 4u) max_{i in R} |z_i - z~_i| + roundOff`, where `z` are predictors at `theta`
    /// computed from `X` with `|z_i - x_i^T theta| <= roundOff` (Docs/Math.md 6.10). `O(n)`
    /// local work, then one completed maximum over the ranks (``RowPlacement/maximum``): every
    /// rank records the same `D_a`.
    mutating func measureAnchor(
      at theta: [Double], predictors z: [Double], roundOff: Double, weights: [Double]?,
      placement: RowPlacement
    ) {
      // Mismatched lengths give no usable anchor, but this rank still joins the maximum.
      var largest = z.count == pointPredictors.count ? 0.0 : Double.infinity
      if largest == 0 {
        for i in z.indices where weights.map({ $0[i] != 0 }) ?? true {
          largest = Swift.max(largest, abs(z[i] - pointPredictors[i]))
        }
      }
      placement.maximum(&largest)
      anchor = theta
      anchorDistance = largest * (1 + 4 * 0x1p-53) + roundOff
    }

    /// ``measureAnchor(at:predictors:roundOff:weights:)`` for `z = fl(X theta)` computed afresh:
    /// every entry is within `gamma_d ||theta||` of `x_i^T theta` (Docs/Math.md 6.4), charged
    /// twice.
    mutating func measureAnchor(
      at theta: [Double], freshPredictors z: [Double], weights: [Double]?, placement: RowPlacement
    ) {
      let u = 0x1p-53
      let terms = Double(theta.count + 2)
      let gammaD = terms * u / (1 - terms * u)
      measureAnchor(
        at: theta, predictors: z, roundOff: 2 * gammaD * theta.norm(), weights: weights,
        placement: placement)
    }

    /// The pending rows as a `r x d` matrix.
    var pending: Matrix {
      Matrix(rows: pendingCurvature.count, columns: gram.columns, elements: pendingRows)
    }

    /// Subtracts the pending rows' terms from both dense matrices (only from ``gram`` when
    /// `hessianToo` is false: a refresh rebuilt the Hessian without them).
    mutating func fold(hessianToo: Bool) {
      guard !pendingCurvature.isEmpty else { return }
      // Upper triangles only (dsyrk): the O(d^2) steps read them with dsymv.
      var removed = pending
      gram.addUpperGram(of: removed, scaledBy: -1)
      if hessianToo {
        removed.scaleRows(by: pendingCurvature.map { $0.squareRoot() })
        hessian.addUpperGram(of: removed, scaledBy: -1)
      }
      pendingRows = []
      pendingCurvature = []
    }
  }

  /// One `O(d^2)` step's result (Docs/Math.md 6.10).
  struct CheapStep {
    /// `v`.
    var step: [Double]
    /// `||X|| g3 (D + ||v|| / 2) sqrt(v^T G_R v + round-off)`, with the drift factor
    /// `D = min(||theta - theta~||, D_a + ||theta - theta_a||)` (Docs/Math.md 6.10, E6.7d).
    var remainder: Double
    /// `gamma ||X|| ||v|| sqrt(v^T G_R v)` (Guo's form, for the certificate).
    var guo: Double
    /// `||M v - Delta||` with the dense matrix.
    var inexactness: Double
    /// Round-off of the dense products plus the gradient allowance.
    var allowance: Double
    /// Everything charged.
    var charge: Double { remainder + inexactness + allowance }
  }

  /// Builds the cache at `theta` on the objective's retain set: `z` and `g` (two passes), and
  /// for the downdated strategy a fresh factor (one weighted Gram, `O(n d^2)`, and `dpotrf`).
  ///
  /// - Parameter placement: where the rows live (default: all `n` rows of the objective in this
  ///   process).
  package init(
    strategy: NewtonSolver, objective: Objective<Head>, at theta: [Double],
    placement: RowPlacement? = nil
  ) throws(UnlearningError) {
    self.strategy = strategy
    self.placement = placement ?? .local(rowCount: objective.features.rows)
    let z = objective.features.multiply(theta)
    let derivatives = objective.model.lossDerivatives(
      linearPredictors: z, targets: objective.targets)
    var g = objective.features.multiply(
      Self.weighted(derivatives.first, objective.weights), transposed: true)
    self.placement.sum(&g)
    g.add(theta, scaledBy: objective.curvatureShift)
    if let b = objective.perturbation { g.add(b) }
    predictors = z
    gradient = g
    statistics.dataPasses = 2
    if case .downdatedFactor(let policy) = strategy {
      if policy.amortisedSteps != nil {
        var gram = objective.features.weightedGram(weights: objective.weights)
        self.placement.sumMatrix(&gram)
        amortised = AmortisedState(
          hessian: Matrix(rows: 0, columns: 0), gram: gram, point: theta, curvatureMass: 0,
          rankOneTerms: self.placement.rowCount)
      }
      try refresh(
        objective, curvature: Self.weighted(derivatives.second, objective.weights), at: theta)
      amortised?.pointPredictors = z
      amortised?.measureAnchor(
        at: theta, freshPredictors: z, weights: objective.weights, placement: self.placement)
    }
  }

  /// `w_i * values_i` (removed rows exactly 0).
  static func weighted(_ values: [Double], _ weights: [Double]?) -> [Double] {
    guard let weights else { return values }
    var out = values
    for i in out.indices { out[i] = weights[i] == 0 ? 0 : weights[i] * values[i] }
    return out
  }

  /// Forms `X^T diag(w * curvature) X + lambda n_R I` and factors it; `theta` is where the
  /// curvature was evaluated (kept as `theta~` by the amortised steps).
  mutating func refresh(_ objective: Objective<Head>, curvature: [Double], at theta: [Double])
    throws(UnlearningError)
  {
    let weightedCurvature = Self.weighted(curvature, objective.weights)
    var hessian = objective.features.weightedGram(weights: weightedCurvature)
    placement.sumMatrix(&hessian)
    hessian.addToDiagonal(objective.curvatureShift)
    factor = LowRankDowndatedCholesky(try NewtonSolver.factor(hessian))
    if amortised != nil {
      var mass = [weightedCurvature.reduce(0, +)]
      placement.sum(&mass)
      amortised?.fold(hessianToo: false)
      amortised?.hessian = hessian
      amortised?.point = theta
      amortised?.curvatureMass = mass[0]
      amortised?.rankOneTerms += placement.rowCount
      amortised?.cheapSteps = 0
      amortised?.pointPredictors = []
      amortised?.anchor = []
      amortised?.anchorDistance = .infinity
    }
    factorCurvature = curvature
    factorShift = objective.curvatureShift
    requestsSinceRefresh = 0
    statistics.refreshes += 1
  }

  /// ``refresh(_:curvature:at:)`` at the predictors `z = X theta`.
  mutating func refresh(
    _ objective: Objective<Head>, predictors z: [Double], at theta: [Double]
  ) throws(UnlearningError) {
    try refresh(
      objective,
      curvature: objective.model.lossDerivatives(linearPredictors: z, targets: objective.targets)
        .second, at: theta)
    amortised?.pointPredictors = z
  }

  /// Applies `(A - s I)^{-1}` to `b`, with `A = L L^T` the factored matrix and
  /// `s = factorShift - shift >= 0` the regulariser the removed rows took with them, by the
  /// Neumann series `sum_k s^k A^{-(k+1)} b` (ratio at most `(n_0 - n_R) / n_0`), truncated once
  /// the ratio's power drops below `1e-4` (at most 4 `O(d^2)` solves). Symmetric positive
  /// definite, so a valid PCG preconditioner; with `s = 0` one solve.
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

  /// `loss''(z0_j)` of local rows at the factor's parameters (0 without a factor): what the
  /// owner of a removed row supplies with it.
  package func factorCurvature(ofRows rows: [Int]) -> [Double] {
    factorCurvature.isEmpty ? rows.map { _ in 0 } : rows.map { factorCurvature[$0] }
  }

  /// Downdated strategy: removes the rank-1 terms `sqrt(loss''(z0_j)) x_j` of the removed rows
  /// from the factored matrix, in order, as a Woodbury correction
  /// (``LowRankDowndatedCholesky``: one forward substitution per row, the stored factor is not
  /// written), folded into the factor once ``AmortisedState/foldSize`` rows are pending. The
  /// rows are supplied vectors (`m x d`, with their owners' ``factorCurvature(ofRows:)``), so
  /// the factor stays the same on every rank. Returns `false` when a downdate would lose
  /// positive definiteness (the factor then needs a refresh). Other strategies: nothing to do.
  /// Cost `O(m d^2)` (`O(d^3)` at a fold of the `O(d^2)` steps' dense `H~`).
  ///
  /// - Parameter rhs: the right-hand side the request will solve first: forward-solved together
  ///   with the first removed row (one read of the factor for both).
  mutating func downdate(removed: Matrix, curvature: [Double], alsoSolving rhs: [Double]? = nil)
    -> Bool
  {
    guard case .downdatedFactor = strategy, var updated = factor else { return true }
    factor = nil  // the small pending arrays stay uniquely referenced
    defer { factor = updated }
    var rhs = rhs
    for j in 0..<removed.rows {
      let scale = curvature[j].squareRoot()
      guard scale > 0 else { continue }
      do {
        try updated.downdate(removing: removed.row(j).scaled(by: scale), alsoSolving: rhs)
        rhs = nil
      } catch {
        return false
      }
    }
    if var state = amortised, removed.rows > 0 {
      // The dense H~ and G_R lose the same rank-1 terms, applied lazily (AmortisedState.fold).
      amortised = nil  // keep the matrices uniquely referenced: folds happen in place
      defer { amortised = state }
      state.pendingRows += removed.elements
      state.pendingCurvature += curvature
      state.rankOneTerms += removed.rows
      if state.pendingCurvature.count >= AmortisedState.foldSize {
        state.fold(hessianToo: true)
        // The dense H~ now holds every removal: refactor it (its upper triangle) instead of
        // sweeping the pending rows into the factor one by one.
        guard let refactored = try? Cholesky(blocked: state.hessian) else { return false }
        updated.replaceBase(refactored)
        statistics.folds += 1
      }
    } else if amortised == nil, updated.pendingCount >= AmortisedState.foldSize {
      do {
        // The factored matrix is sum_{i in R} c_i x_i x_i^T + factorShift I >= factorShift I.
        try updated.fold(smallestEigenvalueAtLeast: factorShift)
        statistics.folds += 1
      } catch {
        return false
      }
    }
    return true
  }

  /// Recomputes ``predictors`` as `X theta` (one pass) when enough incremental updates have
  /// accumulated.
  mutating func refreshPredictorsIfDue(features: Matrix, at theta: [Double]) {
    guard predictorUpdates >= Self.predictorRecomputeInterval, amortised?.stale != true else {
      return
    }
    predictors = features.multiply(theta)
    predictorUpdates = 0
    statistics.dataPasses += 1
  }

  /// Evaluates a step `v` at `theta` (predictors `z`, weighted curvature `c = w * loss''(z)`) in
  /// ONE fused pass over the rows of `X`: per block of rows `t_B = X_B v`, then
  /// `[H v - lambda n_R v, g' - lambda n_R theta' - b] += [c * t, w * loss'(z + t)]_B^T X_B`
  /// while the block is in cache; then ONE completed sum of `2d + 2` doubles (with
  /// `sum t^4` and `sum t^2` over the retained rows, for the bounds).
  mutating func evaluate(
    _ v: [Double], objective: Objective<Head>, at theta: [Double], predictors z0: [Double],
    curvature c: [Double]
  ) -> Evaluation {
    let x = objective.features
    let d = x.columns
    let next = theta.adding(v)
    let targets = objective.targets
    let weights = objective.weights
    let model = objective.model
    // Blocks of 64 rows (400 kB): the block and BLAS's packed copy of it stay in L2 between
    // the two products (measured faster than 256 rows on the Fashion-MNIST benchmark). The
    // rows are split over the cores: one core does not saturate the memory bandwidth. The
    // partial sums are added in a different order than one thread would, which the
    // floating-point allowance (a worst case over every summation order, 6.4) covers.
    let (t, products) = x.fusedProductPass(
      v, outputs: 2, blockRows: 64, threads: Self.passThreads(features: x)
    ) { rows, tBlock, u in
      let count = rows.count
      var zBlock = [Double]()
      zBlock.reserveCapacity(count)
      for i in rows { zBlock.append(z0[i] + tBlock[i]) }
      let first = model.lossDerivatives(linearPredictors: zBlock, targets: Array(targets[rows]))
        .first
      for (offset, i) in rows.enumerated() {
        u[offset] = c[i] * tBlock[i]
        let w = weights?[i] ?? 1
        u[count + offset] = w == 0 ? 0 : w * first[offset]
      }
    }
    let z = z0.adding(t)
    predictorUpdates += 1
    var fourth = 0.0
    var square = 0.0
    for i in t.indices where (weights?[i] ?? 1) != 0 {
      let ti = t[i]
      fourth += ti * ti * ti * ti
      square += ti * ti
    }
    var sums = products.elements
    sums.append(fourth)
    sums.append(square)
    placement.sum(&sums)
    var hv = Array(sums[0..<d])
    hv.add(v, scaledBy: objective.curvatureShift)
    var g = Array(sums[d..<(2 * d)])
    g.add(next, scaledBy: objective.curvatureShift)
    if let b = objective.perturbation { g.add(b) }
    statistics.dataPasses += 1
    return Evaluation(
      step: v, fourthPowerSum: sums[2 * d], squareSum: sums[2 * d + 1], predictors: z,
      hessianProduct: hv, gradient: g)
  }

  /// Threads for a fused pass over `x`: every core for a matrix of at least `2^18` entries
  /// (2 MB), else one (thread start-up would dominate).
  static func passThreads(features x: Matrix) -> Int {
    x.rows * x.columns >= 1 << 18 ? Swift.max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
  }

  /// The two remainder bounds and the inexactness of an evaluated step.
  static func certify(
    _ e: Evaluation, rhs: [Double], objective: Objective<Head>, spectralNorm: Double,
    iterations: Int
  ) -> Step {
    let model = objective.model
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

  /// The exact Hessian at `theta` on the retain set as an operator: `X^T (c * X v) + shift v`
  /// (two local `gemv`s and one completed sum of `d` per application).
  func hessianOperator(features x: Matrix, curvature c: [Double], shift: Double)
    -> ClosureOperator
  {
    let sum = placement.sum
    return ClosureOperator(dimension: x.columns) { p in
      var u = x.multiply(p)
      for i in u.indices { u[i] *= c[i] }
      var hp = x.multiply(u, transposed: true)
      sum(&hp)
      hp.add(p, scaledBy: shift)
      return hp
    }
  }

  /// Solves `H(theta) v = rhs` on the objective's retain set with the configured strategy and
  /// returns the certified step with its evaluation.
  ///
  /// - Parameters:
  ///   - predictors: `X theta`.
  ///   - forceRefresh: downdated strategy: refresh before solving (count limit or a failed
  ///     downdate).
  ///   - charge: the charged remainder bound of a step (tight or Guo).
  ///   - acceptableCharge: downdated strategy: also accept a step whose bound plus
  ///     inexactness is at most this (exact-step accounting: a fraction of the budget; paper:
  ///     0).
  mutating func step(
    _ objective: Objective<Head>, at theta: [Double], predictors z: [Double], rhs: [Double],
    spectralNorm: Double, forceRefresh: Bool, acceptableCharge: Double,
    charge: (Step) -> Double
  ) throws(UnlearningError) -> (step: Step, evaluation: Evaluation, refreshed: Bool) {
    let freshPredictors = predictorUpdates == 0
    let curvature = Self.weighted(
      objective.model.lossDerivatives(linearPredictors: z, targets: objective.targets).second,
      objective.weights)
    let shift = objective.curvatureShift
    func finish(_ v: [Double], iterations: Int) -> (Step, Evaluation) {
      let e = evaluate(v, objective: objective, at: theta, predictors: z, curvature: curvature)
      return (
        Self.certify(
          e, rhs: rhs, objective: objective, spectralNorm: spectralNorm, iterations: iterations), e
      )
    }
    switch strategy {
    case .cholesky:
      try refresh(objective, curvature: curvature, at: theta)
      let (s, e) = finish(preconditionedSolve(rhs, shift: shift), iterations: 0)
      return (s, e, false)
    case .conjugateGradient(let tolerance, let maximumIterations):
      if factor == nil { try refresh(objective, curvature: curvature, at: theta) }
      let solution = ConjugateGradient(tolerance: tolerance, maximumIterations: maximumIterations)
        .solve(
          hessianOperator(features: objective.features, curvature: curvature, shift: shift),
          rhs, preconditioner: ShiftedFactorPreconditioner(solver: self, shift: shift))
      statistics.dataPasses += 2 * (solution.iterations + 1)
      if solution.converged {
        let (s, e) = finish(solution.solution, iterations: solution.iterations)
        return (s, e, false)
      }
      try refresh(objective, curvature: curvature, at: theta)
      let (s, e) = finish(preconditionedSolve(rhs, shift: shift), iterations: solution.iterations)
      return (s, e, true)
    case .downdatedFactor(let policy):
      var refreshed = false
      if forceRefresh || factor == nil {
        try refresh(objective, curvature: curvature, at: theta)
        amortised?.pointPredictors = z
        if freshPredictors {
          amortised?.measureAnchor(
            at: theta, freshPredictors: z, weights: objective.weights, placement: placement)
        }
        refreshed = true
      }
      let rhsNorm = rhs.norm()
      func accepted(_ s: Step) -> Bool {
        let remainder = charge(s)
        let target = Swift.max(
          policy.inexactnessFraction * remainder, policy.relativeTolerance * rhsNorm)
        return s.inexactness <= target || remainder + s.inexactness <= acceptableCharge
      }
      var (s, e) = finish(preconditionedSolve(rhs, shift: shift), iterations: 0)
      if !accepted(s) && policy.maximumRefinements > 0 {
        // PCG on the correction H delta = rhs - H v, preconditioned by the factor.
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
            hessianOperator(features: objective.features, curvature: curvature, shift: shift),
            residual, preconditioner: ShiftedFactorPreconditioner(solver: self, shift: shift),
            measuresTrueResidual: false)
          // The corrected step is evaluated exactly by the fused pass below.
          statistics.dataPasses += 2 * correction.iterations
          statistics.refinementIterations += correction.iterations
          (s, e) = finish(e.step.adding(correction.solution), iterations: correction.iterations)
        }
      }
      if !accepted(s) && !refreshed {
        try refresh(objective, curvature: curvature, at: theta)
        amortised?.pointPredictors = z
        refreshed = true
        (s, e) = finish(preconditionedSolve(rhs, shift: shift), iterations: s.iterations)
      }
      return (s, e, refreshed)
    }
  }

  /// The `O(d^2)` step of Docs/Math.md 6.10 at `theta` on the objective's retain set (after the
  /// request's rows were downdated): `v = M^{-1} Delta` through the factor, with
  /// `M = H~ - (factorShift - lambda n_R) I` the stored dense matrix carrying the current
  /// regulariser, and its charge. Reads no row of `X`.
  ///
  /// - Parameters:
  ///   - delta: `Delta = sum_{j in F} loss'(x_j^T theta) x_j + m lambda theta` (`O(m d)`).
  ///   - spectralNorm: `||X||_2` of the full data.
  func cheapStep(
    _ objective: Objective<Head>, at theta: [Double], delta: [Double], spectralNorm: Double
  ) -> CheapStep? {
    guard let state = amortised else { return nil }
    let shift = objective.curvatureShift
    // One solve with the factor, without the Neumann correction for the regulariser the removed
    // rows took with them (relative error about (n~ - n_R) / n~): the inexactness is measured
    // against M below and charged, and each extra O(d^2) solve costs more than it saves.
    guard let factor else { return nil }
    let v = factor.solve(delta)
    // Upper triangles only (dsymv): half the memory traffic of dgemv.
    var mv = state.hessian.symmetricMultiply(v)
    mv.add(v, scaledBy: shift - factorShift)
    // The pending rows' rank-1 terms: O(r d) with r < foldSize.
    var pendingSquares = 0.0
    if !state.pendingCurvature.isEmpty {
      let removed = state.pending
      var t = removed.multiply(v)
      pendingSquares = t.reduce(0) { $0 + $1 * $1 }
      for i in t.indices { t[i] *= state.pendingCurvature[i] }
      mv.add(removed.multiply(t, transposed: true), scaledBy: -1)
    }
    let inexactness = mv.subtracting(delta).norm()
    let vNorm = v.norm()
    // Worst-case round-off (Docs/Math.md 6.10): entrywise, the stored matrices differ from the
    // exact ones by at most gamma_N times the sum of the absolute rank-1 terms, added and
    // subtracted (at most twice the added ones), the dense products included in N.
    let u = 0x1p-53
    let terms = Double(state.rankOneTerms + objective.features.columns + 2)
    let gammaN = terms * u / (1 - terms * u)
    let rows = Double(placement.rowCount)
    let quadratic = v.dot(state.gram.symmetricMultiply(v)) - pendingSquares
    let projectedNorm = Swift.max(quadratic + 2 * gammaN * rows * vNorm * vNorm, 0).squareRoot()
    let drift = state.driftBound(at: theta)
    let model = objective.model
    let remainder =
      spectralNorm * model.thirdDerivativeBound * (drift + vNorm / 2) * projectedNorm
    let guo = model.curvatureLipschitzConstant * spectralNorm * vNorm * projectedNorm
    let next = theta.adding(v)
    let allowance =
      2 * gammaN * (state.curvatureMass + factorShift) * vNorm
      + Swift.max(allowance(objective, at: theta), allowance(objective, at: next))
    return CheapStep(
      step: v, remainder: remainder, guo: guo, inexactness: inexactness, allowance: allowance)
  }

  /// Recomputes ``predictors`` `X theta` and ``gradient`` `grad L_b(theta; R)` from the data in
  /// one fused pass (after cheap steps left them stale).
  mutating func resynchronize(_ objective: Objective<Head>, at theta: [Double]) {
    let n = objective.features.rows
    let zero = [Double](repeating: 0, count: n)
    let e = evaluate(
      theta, objective: objective, at: [Double](repeating: 0, count: theta.count),
      predictors: zero, curvature: zero)
    predictors = e.predictors
    gradient = e.gradient
    predictorUpdates = 0
    amortised?.stale = false
    amortised?.measureAnchor(
      at: theta, freshPredictors: e.predictors, weights: objective.weights, placement: placement)
  }

  /// `gamma (n_R + lambda n_R ||theta|| + ||b||)` with `gamma = max(1e-13, gamma_{n+2})`,
  /// `gamma_N = N u / (1 - N u)`: the worst-case round-off of evaluating the sum-form gradient
  /// (and `H v`) in double precision (Docs/Math.md section 6.4), added to every charged term so
  /// that a certificate also covers the residual as computed.
  static func floatingPointAllowance(_ objective: Objective<Head>, at theta: [Double]) -> Double {
    certifiedFloatingPointAllowance(
      rowCount: objective.features.rows, effectiveCount: objective.effectiveCount,
      curvatureShift: objective.curvatureShift, parameterNorm: theta.norm(),
      perturbationNorm: objective.perturbation?.norm() ?? 0)
  }

  /// ``floatingPointAllowance(_:at:)`` with the placement's global row count `n`.
  package func allowance(_ objective: Objective<Head>, at theta: [Double]) -> Double {
    certifiedFloatingPointAllowance(
      rowCount: placement.rowCount, effectiveCount: objective.effectiveCount,
      curvatureShift: objective.curvatureShift, parameterNorm: theta.norm(),
      perturbationNorm: objective.perturbation?.norm() ?? 0)
  }
}

/// ``HeadNewtonSolver/floatingPointAllowance(_:at:)`` from its scalars: `n` rows (removed
/// included), `n_R`, `lambda n_R`, `||theta||`, `||b||`.
package func certifiedFloatingPointAllowance(
  rowCount: Int, effectiveCount: Double, curvatureShift: Double, parameterNorm: Double,
  perturbationNorm: Double
) -> Double {
  let n = Double(rowCount + 2)
  let u = 0x1p-53
  let gamma = Swift.max(1e-13, n * u / (1 - n * u))
  return gamma * (effectiveCount + curvatureShift * parameterNorm + perturbationNorm)
}

/// The cached factor, corrected for the regulariser the removed rows took with them, as a PCG
/// preconditioner.
struct ShiftedFactorPreconditioner<Head: CertifiableHead>: Preconditioner {
  let solver: HeadNewtonSolver<Head>
  let shift: Double
  func applyInverse(_ r: [Double]) -> [Double] { solver.preconditionedSolve(r, shift: shift) }
}

extension CertifiedRemoval {
  /// Work counters of certified removal since training (a retrain keeps counting).
  public struct WorkCounters: Sendable, Codable, Equatable {
    /// Passes over the `n x d` feature matrix (`gemv`, or `dgemm` with at most 2 columns), not
    /// counting the Gram matrices of refreshes.
    public var dataPasses = 0
    /// Hessian rebuilds and refactorizations (`O(n d^2 + d^3 / 3)` each).
    public var refreshes = 0
    /// Preconditioned-CG iterations of the downdated strategy's refinements.
    public var refinementIterations = 0
    /// Folds of the pending removed rows into the stored factor (every 32 rows: rank-1 sweeps,
    /// or with the `O(d^2)` steps two `dsyrk` on the dense `H~` and `G_R` and one `dpotrf`).
    public var folds = 0

    /// All counters zero.
    public init() {}

    static func + (a: Self, b: Self) -> Self {
      var c = a
      c.dataPasses += b.dataPasses
      c.refreshes += b.refreshes
      c.refinementIterations += b.refinementIterations
      c.folds += b.folds
      return c
    }
  }
}
