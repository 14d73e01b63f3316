import Foundation
import Testing
@testable import Unlearning

@Suite("Certification calibration constants and bounds")
struct PrivacyCalibrationTests {
  @Test func publishedConstants() throws {
    #expect(abs(PrivacyParameters.c(delta: 1e-4) - 4.385386) < 5e-7)
    #expect(abs(PrivacyParameters.c(delta: 1e-5) - 4.882293) < 5e-7)
    let p = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10, calibration: .classic)
    #expect(abs(p.budget - 2.280301) < 5e-7)
    // The exact profile (value computed independently with scipy's normal CDF and bisection).
    let exact = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    #expect(abs(exact.budget - 3.139025) < 5e-6)
  }

  @Test func classicCalibrationIsRefusedWhereItFails() throws {
    #expect(throws: UnlearningError.self) {
      try PrivacyParameters(epsilon: 10, delta: 1e-4, sigma: 10, calibration: .classic)
    }
    do {
      _ = try PrivacyParameters(epsilon: 50, delta: 1e-4, sigma: 1, calibration: .classic)
    } catch {
      #expect("\(error)".contains("8.3"))
    }
    // The exact calibration certifies any epsilon; at epsilon 10 its budget is below the
    // classic formula's (which would be unsound there).
    let exact = try PrivacyParameters(epsilon: 10, delta: 1e-4, sigma: 10)
    #expect(exact.budget < 10 * 10 / PrivacyParameters.c(delta: 1e-4))
    #expect(
      PrivacyParameters.GaussianProfile.delta(epsilon: 10, sigma: 10, sensitivity: exact.budget)
        <= 1e-4)
  }

  @Test(arguments: [1e-2, 1e-4, 1e-6, 1e-9])
  func deltaRoundTrip(delta: Double) {
    let c = PrivacyParameters.c(delta: delta)
    #expect(abs(PrivacyParameters.delta(c: c) - delta) <= 1e-12 * delta)
  }

  @Test func sigmaFromBudgetInvertsBudgetFromSigma() throws {
    let p = try PrivacyParameters(epsilon: 0.5, delta: 1e-5, budget: 0.1, calibration: .classic)
    #expect(abs(p.budget - 0.1) <= 1e-15)
    #expect(abs(p.sigma - PrivacyParameters.c(delta: 1e-5) * 0.1 / 0.5) <= 1e-14)
    let q = try PrivacyParameters(epsilon: 0.5, delta: 1e-5, budget: 0.1)
    #expect(q.budget <= 0.1 * (1 + 1e-9))
    #expect(q.budget >= 0.1 * (1 - 1e-9))
    #expect(q.sigma < p.sigma)
  }

  @Test func invalidParametersThrow() {
    #expect(throws: UnlearningError.self) {
      try PrivacyParameters(epsilon: 0, delta: 1e-4, sigma: 1)
    }
    #expect(throws: UnlearningError.self) {
      try PrivacyParameters(epsilon: 1, delta: 1.5, sigma: 1)
    }
    #expect(throws: UnlearningError.self) {
      try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: -1)
    }
    #expect(throws: UnlearningError.self) {
      try PrivacyParameters(epsilon: 1, delta: 1e-4, budget: .nan)
    }
  }

  @Test func worstCaseBoundFormula() {
    #expect(abs(ResidualBounds.worstCase(removed: 1, of: 101, regularization: 0.1) - 1) < 1e-14)
    #expect(
      abs(
        ResidualBounds.worstCase(removed: 3, of: 103, regularization: 0.5) - 4 * 0.25 * 9
          / (0.25 * 100)) < 1e-15)
  }

  @Test func tightBoundNeverExceedsGuosForUnitRows() {
    var g = SeededGenerator(seed: 1)
    for trial in 0..<200 {
      let n = 5 + trial % 40
      let d = 1 + trial % 7
      var x = Matrix(rows: n, columns: d) { _, _ in g.nextNormal() }
      x.scaleRows(by: x.rowNorms().map { 1 / max($0, 1e-300) * g.nextUniform() })
      let v = g.normalVector(count: d).scaled(by: pow(10, -3 * g.nextUniform()))
      let t = x.multiply(v)
      let norm = (try? x.spectralNormUpperBound()) ?? .infinity
      let tight = ResidualBounds.tight(
        thirdDerivativeBound: 1 / (6 * 3.0.squareRoot()), spectralNorm: norm, projectedStep: t)
      let guo = ResidualBounds.guo(spectralNorm: norm, stepNorm: v.norm(), projectedStep: t)
      #expect(tight <= guo)
    }
  }
}
