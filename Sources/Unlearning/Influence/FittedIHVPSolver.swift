extension Influence.IHVPSolver {
  /// An ``Influence/IHVPSolver`` fitted to one Hessian: solves `(H_J + damping I) x = v` for any number of
  /// right-hand sides `v`, reusing what ``Influence/IHVPSolver/fit(_:at:damping:)`` precomputed.
  ///
  /// `H_J` is the mean-form Hessian `(1/n_eff) sum_i w_i hess loss_i(theta) + lambda I`
  /// (`H_sum = n_eff H_J`). A `Sendable` value; solves do not mutate it (LiSSA restarts its
  /// seeded generator on every solve, so equal inputs give equal outputs).
  public struct Fitted: Sendable {
    /// The configuration this was fitted from.
    public let solver: Influence.IHVPSolver
    /// `p`, the number of parameters.
    public let dimension: Int
    /// The damping `mu` added to `H_J` (mean form): the solves invert `H_J + damping I`.
    public let damping: Double
    /// LiSSA only: the scale used and how it was chosen (e.g. `"1.1 x exact lambda_max"`).
    public let lissaScale: Double?
    /// LiSSA only: the effective extra Tikhonov damping `mu * scale` of LiSSA's own damping.
    public let lissaEffectiveDamping: Double?
    /// Wall-clock seconds spent in `fit` (dense Hessian, factorisation, scale, diagonal).
    public let fitSeconds: Double
    /// What a user should know about the fit (scale rule used, preconditioner, ...).
    public let notes: [String]

    enum Storage: Sendable {
      case direct(factor: Cholesky, matrix: Matrix)
      case conjugateGradient(ConjugateGradient, diagonal: [Double]?)
      case lissa(LiSSA, batch: MiniBatchHessianOperator?)
    }

    let storage: Storage
    /// `(H_J + damping I) v` by one exact Hessian-vector product.
    let exactProduct: @Sendable ([Double]) -> [Double]

    /// Solves `(H_J + damping I) x = rhs`.
    ///
    /// The returned `IterativeSolution` always carries the true relative residual
    /// `||(H_J + damping I) x - rhs|| / ||rhs||` (direct: one `O(p^2)` `gemv` with the stored
    /// matrix; iterative: one extra exact HVP). Check `converged` and
    /// `diverged`: LiSSA reports divergence (scale too small) there.
    ///
    /// Cost: direct `O(p^2)`; CG one exact HVP per iteration; LiSSA `depth x repeats` batch
    /// HVPs.
    ///
    /// - Parameter rhs: `v`, length ``dimension``.
    public func solve(_ rhs: [Double]) -> IterativeSolution {
      precondition(
        rhs.count == dimension,
        "Influence.IHVPSolver.Fitted: right-hand side has \(rhs.count) entries, expected \(dimension)"
      )
      let operatorView = ClosureOperator(dimension: dimension, apply: exactProduct)
      switch storage {
      case .direct(let factor, let matrix):
        let x = factor.solve(rhs)
        let residual = relativeResidual(matrix, x, rhs)
        return IterativeSolution(
          solution: x, iterations: 0, relativeResidual: residual, converged: residual.isFinite)
      case .conjugateGradient(let cg, let diagonal):
        return cg.solve(
          operatorView, rhs, preconditioner: diagonal.map { DiagonalPreconditioner(diagonal: $0) })
      case .lissa(let lissa, let batch):
        if let batch {
          return lissa.solve(batch, rhs, exactOperator: operatorView)
        }
        return lissa.solve(operatorView, rhs)
      }
    }

    /// Solves `(H_J + damping I) X = B` for the `p x k` right-hand sides `B` (row-major):
    /// direct by two `dtrsm` calls, iterative solvers column by column.
    ///
    /// - Returns: `X` (`p x k`) and the diagnostics of every column (direct: residuals from
    ///   one `gemm`).
    public func solve(_ rhs: Matrix) -> (solutions: Matrix, diagnostics: [IterativeSolution]) {
      precondition(
        rhs.rows == dimension,
        "Influence.IHVPSolver.Fitted: right-hand sides have \(rhs.rows) rows, expected \(dimension)"
      )
      if case .direct(let factor, let matrix) = storage {
        let x = factor.solve(rhs)
        var residual = Matrix.product(matrix, x)
        residual.add(rhs, scaledBy: -1)
        let diagnostics = (0..<rhs.columns).map { j -> IterativeSolution in
          let bn = rhs.column(j).norm()
          let r = residual.column(j).norm() / (bn == 0 ? 1 : bn)
          return IterativeSolution(
            solution: x.column(j), iterations: 0, relativeResidual: r, converged: r.isFinite)
        }
        return (x, diagnostics)
      }
      let columns = (0..<rhs.columns).map { solve(rhs.column($0)) }
      var x = Matrix(rows: dimension, columns: rhs.columns)
      for (j, c) in columns.enumerated() {
        for i in 0..<dimension { x[i, j] = c.solution[i] }
      }
      return (x, columns)
    }

    /// `r^T (H_J + damping I)^{-1} r` for each row `r` of `rows` (`k x p`).
    ///
    /// Direct: `||L^{-1} r||^2` for all rows by one `dtrsm` (`p^2 k` flops; non-negative by
    /// construction). Iterative solvers: one solve per row.
    public func quadraticForms(_ rows: Matrix) -> [Double] {
      precondition(
        rows.columns == dimension,
        "Influence.IHVPSolver.Fitted: rows have \(rows.columns) columns, expected \(dimension)")
      if case .direct(let factor, _) = storage {
        let y = factor.solveLower(rows.transposed())  // p x k
        var out = [Double](repeating: 0, count: rows.rows)
        y.elements.withUnsafeBufferPointer { py in
          for i in 0..<dimension {
            let base = i * rows.rows
            for j in 0..<rows.rows { out[j] += py[base + j] * py[base + j] }
          }
        }
        return out
      }
      return (0..<rows.rows).map { i in
        let r = rows.row(i)
        return r.dot(solve(r).solution)
      }
    }
  }
}

private func relativeResidual(_ matrix: Matrix, _ x: [Double], _ b: [Double]) -> Double {
  let r = matrix.multiply(x).subtracting(b).norm()
  let bn = b.norm()
  return bn == 0 ? r : r / bn
}
