import LinearAlgebra

/// Why a (damped, mean-form) Hessian `H_J + damping I` is not positive definite: its inertia,
/// smallest eigenvalue and a damping that would make it positive definite. The message of
/// ``UnlearningError/notPositiveDefinite(_:)`` when the direct IHVP solver fails. Cost: one
/// symmetric eigenvalue decomposition, `O(p^3)`.
package struct Indefiniteness: Sendable, Hashable, CustomStringConvertible {
  package var smallestEigenvalue: Double
  package var negativeCount: Int
  package var zeroCount: Int
  package var dimension: Int
  package var damping: Double
  /// The damping plus `max(0, -lambda_min)` plus `1e-3` of the spectrum's extent.
  package var suggestedDamping: Double

  package init(_ matrix: Matrix, damping: Double) {
    dimension = matrix.rows
    self.damping = damping
    guard let eigen = try? SymmetricEigen(matrix, computeVectors: false) else {
      (smallestEigenvalue, negativeCount, zeroCount, suggestedDamping) = (.nan, 0, 0, .nan)
      return
    }
    let largest = eigen.values.map(Swift.abs).max() ?? 0
    let inertia = eigen.inertia(tolerance: 1e-13 * largest)
    smallestEigenvalue = eigen.smallest
    negativeCount = inertia.negative
    zeroCount = inertia.zero
    suggestedDamping = damping + Swift.max(0, -eigen.smallest) + 1e-3 * Swift.max(largest, 1e-12)
  }

  package var description: String {
    "the damped Hessian H_J + \(damping) I (mean form, p = \(dimension)) is not positive definite:"
      + " smallest eigenvalue \(smallestEigenvalue), inertia \(negativeCount) negative /"
      + " \(zeroCount) zero / \(dimension - negativeCount - zeroCount) positive;"
      + " use damping >= \(suggestedDamping)"
  }
}
