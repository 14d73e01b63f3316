import CLAPACK

/// The only place in the package that calls LAPACKE. Every call is column-major
/// (`LAPACK_COL_MAJOR`): the routines used here take symmetric or triangular matrices, for which
/// the row-major storage of ``Matrix`` is read as the column-major transpose, so no transposing
/// copies are made.
enum LAPACK {
  /// Cholesky `A = L L^T` in place (column-major lower). Returns LAPACK `info`.
  static func potrf(n: Int, a: UnsafeMutablePointer<Double>) -> Int {
    Int(LAPACKE_dpotrf(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), BLAS.int32(n), a, BLAS.int32(n)))
  }

  /// Solves `A x = b` given the column-major lower Cholesky factor, `nrhs` column-major columns.
  static func potrs(
    n: Int, nrhs: Int, factor: UnsafePointer<Double>, b: UnsafeMutablePointer<Double>
  ) -> Int {
    Int(
      LAPACKE_dpotrs(
        LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), BLAS.int32(n), BLAS.int32(nrhs), factor,
        BLAS.int32(n), b, BLAS.int32(n)))
  }

  /// All eigenvalues (ascending) and optionally eigenvectors (overwriting `a`, column-major).
  static func syevd(
    n: Int, a: UnsafeMutablePointer<Double>, vectors: Bool, w: UnsafeMutablePointer<Double>
  ) -> Int {
    Int(
      LAPACKE_dsyevd(
        LAPACK_COL_MAJOR, Int8(UInt8(ascii: vectors ? "V" : "N")), Int8(UInt8(ascii: "L")),
        BLAS.int32(n), a, BLAS.int32(n), w))
  }

  /// Eigenvalues with indices `il...iu` (1-based, ascending order), no vectors (`dsyevr`).
  static func syevrValues(n: Int, a: UnsafeMutablePointer<Double>, il: Int, iu: Int) -> (
    info: Int, values: [Double]
  ) {
    var m: Int32 = 0
    var w = [Double](repeating: 0, count: n)
    var z = [Double](repeating: 0, count: 1)
    var isuppz = [Int32](repeating: 0, count: 2 * n)
    let info = LAPACKE_dsyevr(
      LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "I")), Int8(UInt8(ascii: "L")),
      BLAS.int32(n), a, BLAS.int32(n), 0, 0, BLAS.int32(il), BLAS.int32(iu), 0, &m, &w, &z, 1,
      &isuppz)
    return (Int(info), Array(w.prefix(Int(m))))
  }

  /// Triangular solve with the column-major lower factor `L`: `L x = b` or `L^T x = b` (`dtrsv`).
  static func trsvLower(
    n: Int, factor: UnsafePointer<Double>, transpose: Bool, x: UnsafeMutablePointer<Double>
  ) {
    cblas_dtrsv(
      CblasColMajor, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit,
      BLAS.int32(n), factor, BLAS.int32(n), x, 1)
  }

  /// Cholesky of the `n x n` diagonal block of a column-major matrix with leading dimension
  /// `lda`, in place (`dpotrf`, lower). Returns LAPACK `info`.
  static func potrfBlock(n: Int, a: UnsafeMutablePointer<Double>, lda: Int) -> Int {
    Int(
      LAPACKE_dpotrf_work(
        LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), BLAS.int32(n), a, BLAS.int32(lda)))
  }

  /// `B <- B L^{-T}` for a column-major `m x n` panel `B` and lower `n x n` `L`, both with
  /// leading dimension `lda` (`dtrsm`, right side).
  static func trsmRightLowerTransposed(
    m: Int, n: Int, factor: UnsafePointer<Double>, b: UnsafeMutablePointer<Double>, lda: Int
  ) {
    cblas_dtrsm(
      CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, BLAS.int32(m),
      BLAS.int32(n), 1, factor, BLAS.int32(lda), b, BLAS.int32(lda))
  }

  /// `C <- C - A A^T` on the lower triangle of column-major `n x n` `C`, `A` `n x k`, both with
  /// leading dimension `lda` (`dsyrk`).
  static func syrkLowerSubtract(
    n: Int, k: Int, a: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>, lda: Int
  ) {
    cblas_dsyrk(
      CblasColMajor, CblasLower, CblasNoTrans, BLAS.int32(n), BLAS.int32(k), -1, a,
      BLAS.int32(lda), 1, c, BLAS.int32(lda))
  }

  /// `L x = b` for the `n x n` diagonal block of a column-major lower factor with leading
  /// dimension `lda` (`dtrsv`).
  static func trsvLowerBlock(
    n: Int, factor: UnsafePointer<Double>, lda: Int, x: UnsafeMutablePointer<Double>
  ) {
    cblas_dtrsv(
      CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, BLAS.int32(n), factor,
      BLAS.int32(lda), x, 1)
  }

  /// `C <- C - A B` for column-major `A` (`m x k`, leading dimension `lda`), `B` (`k x n`) and
  /// `C` (`m x n`), both with leading dimension `ldb` (`dgemm`; for small `n` OpenBLAS's
  /// unthreaded small-matrix kernel).
  static func gemmSubtractColumnMajor(
    m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>,
    c: UnsafeMutablePointer<Double>, ldb: Int
  ) {
    cblas_dgemm(
      CblasColMajor, CblasNoTrans, CblasNoTrans, BLAS.int32(m), BLAS.int32(n), BLAS.int32(k), -1,
      a, BLAS.int32(lda), b, BLAS.int32(ldb), 1, c, BLAS.int32(ldb))
  }

  /// Triangular solve with many right-hand sides held row-major `n x k`: `op(L) X = B` (`dtrsm`).
  ///
  /// The column-major lower `L` is the row-major upper `U = L^T`, so `L` is `U^T`.
  static func trsmLowerRowMajorRHS(
    n: Int, k: Int, factor: UnsafePointer<Double>, transposeL: Bool, b: UnsafeMutablePointer<Double>
  ) {
    // In row-major terms the factor array is U (upper). L = U^T: solving L X = B is U^T X = B.
    cblas_dtrsm(
      CblasRowMajor, CblasLeft, CblasUpper, transposeL ? CblasNoTrans : CblasTrans, CblasNonUnit,
      BLAS.int32(n), BLAS.int32(k), 1, factor, BLAS.int32(n), b, BLAS.int32(k))
  }
}
