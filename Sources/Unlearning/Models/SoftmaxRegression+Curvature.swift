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
}
