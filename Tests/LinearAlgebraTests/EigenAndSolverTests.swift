import LinearAlgebra
import TestSupport
import Testing

@Suite("Symmetric eigen-decomposition and spectral norm")
struct SymmetricEigenTests {
  @Test(arguments: [1, 6, 50])
  func decompositionSatisfiesDefinition(dimension: Int) throws {
    var a = TestData.gaussianMatrix(rows: dimension, columns: dimension, seed: 3)
    a.add(a.transposed())  // symmetric, indefinite
    let eig = try SymmetricEigen(a)
    let av = Matrix.product(a, eig.vectors)
    var vl = eig.vectors
    vl = Matrix(rows: dimension, columns: dimension) { i, j in eig.vectors[i, j] * eig.values[j] }
    #expect(av.isApproximatelyEqual(to: vl, relativeTolerance: 1e-12))
    let vtv = Matrix.product(eig.vectors, eig.vectors, transposeA: true)
    #expect(vtv.isApproximatelyEqual(to: .identity(dimension), relativeTolerance: 1e-12))
    #expect(eig.values == eig.values.sorted())
    #expect(
      abs(try SymmetricEigen.largestEigenvalue(of: a) - eig.largest) <= 1e-10 * abs(eig.largest))
    #expect(
      abs(try SymmetricEigen.smallestEigenvalue(of: a) - eig.smallest) <= 1e-10 * abs(eig.smallest))
  }

  @Test(arguments: [(30, 5), (5, 30), (200, 20)])
  func spectralNormIsATightUpperBound(rows: Int, columns: Int) throws {
    let x = TestData.gaussianMatrix(rows: rows, columns: columns, seed: 11)
    let bound = try x.spectralNormUpperBound()
    // Independent computation: sqrt of the top eigenvalue of the full eigen-decomposition of X^T X
    // formed with a naive product.
    let gram = Naive.product(x, true, x, false)
    let exact = try SymmetricEigen(gram, computeVectors: false).largest.squareRoot()
    #expect(bound >= exact)
    #expect(bound <= exact * (1 + 1e-9))
    // No unit vector is stretched more than the bound; the top singular vector attains it.
    var g = SeededGenerator(seed: 1)
    for _ in 0..<20 {
      let v = g.normalVector(count: columns)
      #expect(x.multiply(v).norm() <= bound * v.norm())
    }
    // Deleting rows never increases the norm.
    #expect(try x.rows(at: Array(0..<(rows / 2))).spectralNormUpperBound() <= bound)
  }
}

@Suite("Conjugate gradient and LiSSA against dense solves")
struct IterativeSolverTests {
  /// A regularised Gram matrix `X^T X + mu I` (the shape of every Hessian in this package),
  /// with `mu` chosen to give the requested condition number.
  static func hessianLike(dimension n: Int, conditionNumber: Double, seed: UInt64) throws -> Matrix
  {
    let x = TestData.gaussianMatrix(rows: n / 2, columns: n, seed: seed)
    var a = x.weightedGram()
    let top = try SymmetricEigen.largestEigenvalue(of: a)
    a.addToDiagonal(top / (conditionNumber - 1))
    return a
  }

  @Test(arguments: [10.0, 1e2, 1e4])
  func cgReachesTightResidualWithinDimensionIterations(conditionNumber: Double) throws {
    let n = 120
    let a = try Self.hessianLike(dimension: n, conditionNumber: conditionNumber, seed: 21)
    let eig = try SymmetricEigen(a, computeVectors: false)
    #expect(abs(eig.largest / eig.smallest - conditionNumber) <= 1e-6 * conditionNumber)
    var g = SeededGenerator(seed: 22)
    let b = g.normalVector(count: n)
    let result = ConjugateGradient(tolerance: 1e-10, maximumIterations: n).solve(a, b)
    #expect(result.converged)
    #expect(result.iterations <= n)
    let residual = try #require(result.relativeResidual)
    #expect(residual <= 1e-9)
    let direct = try Cholesky(a).solve(b)
    #expect(
      result.solution.isApproximatelyEqual(
        to: direct, relativeTolerance: 1e-10 * conditionNumber * 10))
  }

  /// Log-uniformly spread eigenvalues are CG's worst case in floating point (orthogonality is
  /// lost, finite termination fails); it still converges, just later than `n` iterations.
  @Test func cgConvergesOnAdversarialSpectrumGivenMoreIterations() throws {
    let n = 60
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 1e4, seed: 21)
    var g = SeededGenerator(seed: 22)
    let b = g.normalVector(count: n)
    let result = ConjugateGradient(tolerance: 1e-10, maximumIterations: 10 * n).solve(a, b)
    #expect(result.converged)
    #expect(try #require(result.relativeResidual) <= 1e-9)
  }

  @Test func cgWithExactCholeskyPreconditionerTakesOneOrTwoIterations() throws {
    let n = 80
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 1e4, seed: 23)
    let chol = try Cholesky(a)
    var g = SeededGenerator(seed: 24)
    let b = g.normalVector(count: n)
    let result = ConjugateGradient(tolerance: 1e-10).solve(a, b, preconditioner: chol)
    #expect(result.converged)
    #expect(result.iterations <= 2)
    #expect(try #require(result.relativeResidual) <= 1e-9)
  }

  @Test func cgWithClosureOperatorAndJacobi() throws {
    let n = 40
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 50, seed: 25)
    let op = ClosureOperator(dimension: n) { a.multiply($0) }
    var g = SeededGenerator(seed: 26)
    let b = g.normalVector(count: n)
    let result = ConjugateGradient(tolerance: 1e-11).solve(
      op, b, preconditioner: DiagonalPreconditioner(diagonal: a.diagonal))
    #expect(result.converged)
    #expect(
      result.solution.isApproximatelyEqual(to: try Cholesky(a).solve(b), relativeTolerance: 1e-8))
  }

  @Test func cgReportsNonConvergenceHonestly() throws {
    let a = try TestData.spdMatrix(dimension: 50, conditionNumber: 1e6, seed: 27)
    var g = SeededGenerator(seed: 28)
    let b = g.normalVector(count: 50)
    let result = ConjugateGradient(tolerance: 1e-12, maximumIterations: 3).solve(a, b)
    #expect(!result.converged)
    #expect(result.iterations == 3)
    #expect(try #require(result.relativeResidual) > 1e-12)
  }

  @Test func lissaMatchesDirectSolveWithValidScale() throws {
    let n = 20
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 5, seed: 29)
    let top = try SymmetricEigen.largestEigenvalue(of: a)
    var g = SeededGenerator(seed: 30)
    let b = g.normalVector(count: n)
    let lissa = LiSSA(scale: LiSSA.recommendedScale(largestEigenvalue: top), depth: 400)
    let result = lissa.solve(a, b)
    #expect(result.converged && !result.diverged)
    #expect(
      result.solution.isApproximatelyEqual(to: try Cholesky(a).solve(b), relativeTolerance: 1e-3))
  }

  @Test func lissaDampingSolvesTheShiftedSystem() throws {
    let n = 15
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 5, seed: 31)
    let scale = 1.1 * (try SymmetricEigen.largestEigenvalue(of: a))
    let mu = 0.01
    var g = SeededGenerator(seed: 32)
    let b = g.normalVector(count: n)
    let result = LiSSA(scale: scale, damping: mu, depth: 2000).solve(a, b)
    var shifted = a
    shifted.addToDiagonal(mu * scale)
    #expect(
      result.solution.isApproximatelyEqual(
        to: try Cholesky(shifted).solve(b), relativeTolerance: 1e-6))
  }

  @Test(arguments: [0.45, 0.3, 0.1])
  func lissaReportsDivergenceWhenScaleIsTooSmall(fractionOfLargest: Double) throws {
    let n = 20
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 5, seed: 33)
    let top = try SymmetricEigen.largestEigenvalue(of: a)
    var g = SeededGenerator(seed: 34)
    let b = g.normalVector(count: n)
    let result = LiSSA(scale: fractionOfLargest * top, depth: 500).solve(a, b)
    #expect(result.diverged)
    #expect(!result.converged)
  }
}
