import Foundation
import LinearAlgebra

extension SoftmaxRegression {
  /// The prepared Hessian-vector product: the probabilities `P` (`n x K`, one `gemm`) are
  /// computed once, so each product costs two `gemm`s (`U = X V^T`, `Q^T X`) plus `O(n K)`.
  public func preparedLossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> @Sendable ([Double]) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let p = probabilities(parameters, features: features)
    let (k, d) = (classCount, featureCount)
    return { vector in
      precondition(vector.count == k * d, "HVP: vector has \(vector.count) entries")
      var q = Matrix.product(
        features, Matrix(rows: k, columns: d, elements: vector), transposeB: true)
      // Q_i = w_i (p_i * u_i - p_i (p_i . u_i)).
      for i in 0..<q.rows {
        let w = weights?[i] ?? 1
        var dot = 0.0
        for j in 0..<k { dot += p[i, j] * q[i, j] }
        for j in 0..<k { q[i, j] = w == 0 ? 0 : w * p[i, j] * (q[i, j] - dot) }
      }
      return Matrix.product(q, features, transposeA: true).elements
    }
  }

  /// A block-Jacobi approximation of the curvature `H = sum_i w_i hess loss_i + shift I`, as a
  /// preconditioner for conjugate gradient (Docs/Math.md section 3.6): one `d x d` block per
  /// class, `B_k = c X_S^T diag(w_i p_ik (1 - p_ik)) X_S + shift I`, factored by Cholesky. `S` is
  /// a seeded sample of at most `sampleRows` rows of positive weight and `c` rescales its weight
  /// to the whole set's; the coupling blocks `-X^T diag(w_i p_ik p_il) X` are left out.
  ///
  /// Cost: `K` weighted Grams of `|S|` rows (`K |S| d^2` flops) and `K` factorisations
  /// (`K d^3 / 3`); memory `K d^2` doubles. Each application costs `2 K d^2`.
  ///
  /// - Parameters:
  ///   - shift: the diagonal added to every block (`lambda n_eff` plus any damping), `> 0`.
  ///   - sampleRows: rows of the sample, `>= 1`; all rows when there are no more.
  ///   - seed: the sample's seed.
  /// - Throws: ``UnlearningError/notPositiveDefinite(_:)`` when a block does not factor.
  package func classBlockPreconditioner(
    _ parameters: [Double], features: Matrix, weights: [Double]?, shift: Double, sampleRows: Int,
    seed: UInt64 = 0
  ) throws(UnlearningError) -> ClassBlockPreconditioner {
    var candidates = Array(0..<features.rows)
    if let weights { candidates = candidates.filter { weights[$0] > 0 } }
    var rows = candidates
    if candidates.count > sampleRows {
      var generator = SeededGenerator(seed: seed)
      rows = Array(candidates.shuffled(using: &generator).prefix(sampleRows)).sorted()
    }
    let sample = features.rows(at: rows)
    let p = probabilities(parameters, features: sample)
    let total = weights.map { w in candidates.reduce(0) { $0 + w[$1] } } ?? Double(candidates.count)
    let sampled = weights.map { w in rows.reduce(0) { $0 + w[$1] } } ?? Double(rows.count)
    let scale = sampled > 0 ? total / sampled : 0
    var factors: [Cholesky] = []
    factors.reserveCapacity(classCount)
    for k in 0..<classCount {
      let c = rows.indices.map { r in
        scale * (weights?[rows[r]] ?? 1) * p[r, k] * (1 - p[r, k])
      }
      var block = sample.weightedGram(weights: c)
      block.addToDiagonal(shift)
      factors.append(try NewtonSolver.factor(block))
    }
    return ClassBlockPreconditioner(factors: factors, featureCount: featureCount)
  }
}

/// `M^{-1} r` for the block-diagonal `M = diag(B_1, ..., B_K)` of
/// ``SoftmaxRegression/classBlockPreconditioner(_:features:weights:shift:sampleRows:seed:)``.
package struct ClassBlockPreconditioner: Preconditioner, Sendable {
  let factors: [Cholesky]
  let featureCount: Int

  package func applyInverse(_ r: [Double]) -> [Double] {
    let d = featureCount
    var out = [Double](repeating: 0, count: r.count)
    for (k, factor) in factors.enumerated() {
      let solved = factor.solve(Array(r[(k * d)..<((k + 1) * d)]))
      out.replaceSubrange((k * d)..<((k + 1) * d), with: solved)
    }
    return out
  }
}
