import CLAPACK

/// The only place in the package that calls CBLAS. `Int32` conversions live here.
///
/// All matrices are row-major (`CblasRowMajor`), matching ``Matrix``.
@usableFromInline
enum BLAS {
  @inlinable
  static func int32(_ value: Int) -> Int32 {
    precondition(value <= Int(Int32.max), "BLAS: dimension \(value) exceeds Int32")
    return Int32(value)
  }

  /// `C <- alpha * op(A) * op(B) + beta * C` (row-major). `C` must already have the result shape.
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      int32(m), int32(n), int32(k), alpha, a, int32(lda), b, int32(ldb), beta, c, int32(ldc))
  }

  /// `y <- alpha * op(A) x + beta * y` with `A` an `m x n` row-major matrix.
  static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
    x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
  ) {
    cblas_dgemv(
      CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, int32(m), int32(n), alpha, a,
      int32(lda), x, 1, beta, y, 1)
  }

  /// `y <- alpha * A x + beta * y` with `A` an `n x n` symmetric row-major matrix of which only
  /// the upper triangle is read.
  static func symvUpper(
    n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>,
    beta: Double, y: UnsafeMutablePointer<Double>
  ) {
    cblas_dsymv(CblasRowMajor, CblasUpper, int32(n), alpha, a, int32(lda), x, 1, beta, y, 1)
  }

  /// Upper triangle of `C <- alpha * A^T A + beta * C`, `A` a `k x n` row-major block, `C` `n x n`.
  static func syrkTransposed(
    n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, beta: Double,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dsyrk(
      CblasRowMajor, CblasUpper, CblasTrans, int32(n), int32(k), alpha, a, int32(lda), beta, c,
      int32(ldc))
  }

  /// Upper triangle of `C <- alpha * A A^T + beta * C`, `A` an `n x k` row-major matrix.
  static func syrk(
    n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, beta: Double,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dsyrk(
      CblasRowMajor, CblasUpper, CblasNoTrans, int32(n), int32(k), alpha, a, int32(lda), beta, c,
      int32(ldc))
  }

  static func dot(_ n: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
    cblas_ddot(int32(n), x, 1, y, 1)
  }

  static func nrm2(_ n: Int, _ x: UnsafePointer<Double>) -> Double {
    cblas_dnrm2(int32(n), x, 1)
  }

  static func axpy(
    _ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>
  ) {
    cblas_daxpy(int32(n), alpha, x, 1, y, 1)
  }

  static func scal(_ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>) {
    cblas_dscal(int32(n), alpha, x, 1)
  }

  /// Strided axpy (used on columns of column-major factors).
  static func axpy(
    _ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, incX: Int,
    _ y: UnsafeMutablePointer<Double>, incY: Int
  ) {
    cblas_daxpy(int32(n), alpha, x, int32(incX), y, int32(incY))
  }

  static func scal(_ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>, inc: Int) {
    cblas_dscal(int32(n), alpha, x, int32(inc))
  }

  /// Number of threads OpenBLAS uses.
  static var threadCount: Int { Int(openblas_get_num_threads()) }

  /// Sets the number of threads OpenBLAS uses (process-wide).
  static func setThreadCount(_ count: Int) { openblas_set_num_threads(int32(count)) }

  /// The kernel family OpenBLAS chose (e.g. `"SkylakeX"`).
  static var coreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(String(cString: name).filter { !$0.isWhitespace })
  }
}
