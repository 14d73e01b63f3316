// Non-optional base addresses for the BLAS/LAPACK calls. Every caller has already returned
// early for empty arrays, so an empty buffer here is a programmer error.

extension UnsafeBufferPointer where Element == Double {
  @usableFromInline var start: UnsafePointer<Double> {
    guard let base = baseAddress else { preconditionFailure("BLAS call on an empty buffer") }
    return base
  }
}

extension UnsafeMutableBufferPointer where Element == Double {
  @usableFromInline var start: UnsafeMutablePointer<Double> {
    guard let base = baseAddress else { preconditionFailure("BLAS call on an empty buffer") }
    return base
  }
}
