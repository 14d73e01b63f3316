/// A linear map `R^n -> R^n` known only through its action on vectors, e.g. a Hessian-vector
/// product. Solvers (``ConjugateGradient``, ``LiSSA``) need nothing more.
public protocol LinearOperator {
  /// The dimension `n`.
  var dimension: Int { get }
  /// `A v` (length `dimension`).
  func apply(_ v: [Double]) -> [Double]
}

extension Matrix: LinearOperator {
  /// The number of rows (a square matrix acts as an operator).
  public var dimension: Int {
    precondition(isSquare, "Matrix as LinearOperator must be square, is \(rows) x \(columns)")
    return rows
  }

  /// `A v` by `dgemv`.
  public func apply(_ v: [Double]) -> [Double] { multiply(v) }
}

/// A linear operator defined by a closure, e.g. `{ v in objective.hessianVectorProduct(theta, v) }`.
public struct ClosureOperator: LinearOperator {
  public let dimension: Int
  private let body: ([Double]) -> [Double]

  /// Wraps `apply` (which must be linear and return `dimension` entries).
  public init(dimension: Int, apply: @escaping ([Double]) -> [Double]) {
    self.dimension = dimension
    self.body = apply
  }

  public func apply(_ v: [Double]) -> [Double] {
    let out = body(v)
    precondition(
      out.count == dimension, "ClosureOperator returned \(out.count) entries, expected \(dimension)"
    )
    return out
  }
}

/// `A + shift * I` for any operator `A` (damping).
public struct ShiftedOperator<Base: LinearOperator>: LinearOperator {
  public let base: Base
  public let shift: Double
  public init(_ base: Base, shift: Double) {
    self.base = base
    self.shift = shift
  }
  public var dimension: Int { base.dimension }
  public func apply(_ v: [Double]) -> [Double] {
    var out = base.apply(v)
    out.add(v, scaledBy: shift)
    return out
  }
}

/// An approximation of `A^{-1}` used to precondition conjugate gradient.
public protocol Preconditioner {
  /// `M^{-1} r`, where `M` approximates `A` and is symmetric positive definite.
  func applyInverse(_ r: [Double]) -> [Double]
}

/// The Jacobi preconditioner `diag(A)^{-1}`.
public struct DiagonalPreconditioner: Preconditioner, Sendable {
  public let diagonal: [Double]
  /// - Parameter diagonal: the (positive) diagonal of `A`.
  public init(diagonal: [Double]) {
    precondition(
      diagonal.allSatisfy { $0 > 0 }, "DiagonalPreconditioner: diagonal must be positive")
    self.diagonal = diagonal
  }
  public func applyInverse(_ r: [Double]) -> [Double] {
    zip(r, diagonal).map { $0 / $1 }
  }
}
