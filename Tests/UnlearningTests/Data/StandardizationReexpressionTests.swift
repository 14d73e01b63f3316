import Foundation
import Testing

@testable import Unlearning

/// ``ModelFile/Specification/reexpressing(_:from:to:)`` against linear predictors and
/// probabilities recomputed from scratch: the raw rows standardised naively (in plain Swift)
/// by each set of statistics, then the model applied.
@Suite("Standardization re-expression")
struct StandardizationReexpressionTests {
  /// 40 raw rows on very different scales, a constant column, and a column that is non-zero
  /// only in the rows to forget (so it becomes constant, scale 1, once they leave); ids
  /// `0..<40`, forgotten ids `0..<5` plus a duplicated row's twin.
  static func raw() throws -> (data: Dataset, forgotten: [SampleID]) {
    var g = SeededGenerator(seed: 11)
    var rows = [[Double]]()
    for i in 0..<40 {
      let z = g.normalVector(count: 3)
      let income: Double = 2e3 * z[0] + 5e3
      let dose: Double = 1e-2 * z[1] - 0.3
      let marker: Double = i < 5 ? 100 + Double(i) : 0
      rows.append([income, dose, z[2], 7.5, marker])
    }
    rows[30] = rows[6]  // a duplicated row, one copy forgotten
    let labels: [Int] = rows.map { (row: [Double]) -> Int in
      if row[1] > -0.3 { return 2 }
      return row[2] > 0 ? 1 : 0
    }
    let data = try Dataset(
      features: Matrix(rowArrays: rows), labels: labels,
      ids: (0..<rows.count).map { SampleID($0) }, classCount: 3)
    return (data, (0..<5).map { SampleID($0) } + [SampleID(30)])
  }

  /// The statistics on all rows and on the retained ones.
  static func statistics() throws -> (Dataset, Dataset.Standardization, Dataset.Standardization) {
    let (data, forgotten) = try raw()
    return (
      data, try Dataset.Standardization(fittedOn: data),
      try Dataset.Standardization(fittedOn: data, excluding: forgotten)
    )
  }

  /// `(x - mean) / scale`, element by element.
  static func standardize(_ data: Dataset, _ s: Dataset.Standardization) -> Matrix {
    Matrix(rows: data.count, columns: data.featureCount) { i, j in
      (data.features[i, j] - s.means[j]) / s.scales[j]
    }
  }

  /// `||v||`, by hand.
  static func norm(_ v: [Double]) -> Double {
    var total = 0.0
    for x in v { total += x * x }
    return total.squareRoot()
  }

  /// `bias + sum_j w[offset + j] z[i, j]`, by hand.
  static func predictor(_ w: [Double], offset: Int, bias: Double, _ z: Matrix, row i: Int)
    -> Double
  {
    var total = bias
    for j in 0..<z.columns { total += w[offset + j] * z[i, j] }
    return total
  }

  /// Seeded parameters of the right length.
  static func parameters(_ spec: ModelFile.Specification, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    return g.normalVector(count: spec.parameterCount)
  }

  @Test(
    "with a bias (intercept, MLP) the re-expressed model's probabilities equal the original's",
    arguments: [
      ModelFile.Specification.logistic(featureCount: 5, fitsIntercept: true),
      .ridge(featureCount: 5, fitsIntercept: true),
      .multilayerPerceptron(layerSizes: [5, 4, 3], hiddenActivation: .tanh),
      .multilayerPerceptron(layerSizes: [5, 6, 2, 1], hiddenActivation: .relu),
    ])
  func exactWithBias(_ spec: ModelFile.Specification) throws {
    let (data, old, new) = try Self.statistics()
    #expect(old != new && new.scales[4] == 1 && old.scales[4] != 1)
    let theta = Self.parameters(spec, seed: 5)
    let r = try spec.reexpressing(theta, from: old, to: new)
    #expect(r.isExact && r.droppedShifts.isEmpty && r.droppedShiftBound == 0)
    #expect(r.parameters != theta)
    let before = spec.probabilities(theta, features: Self.standardize(data, old))
    let after = spec.probabilities(r.parameters, features: Self.standardize(data, new))
    #expect(before.rows == data.count && before.columns == after.columns)
    for i in 0..<before.rows {
      for k in 0..<before.columns {
        #expect(abs(before[i, k] - after[i, k]) <= 1e-12, "row \(i) class \(k)")
      }
    }
    if case .logistic = spec {
      // The linear predictors themselves, recomputed by hand: equal to round-off.
      let z = Self.standardize(data, old)
      let z2 = Self.standardize(data, new)
      for i in 0..<data.count {
        let a = Self.predictor(theta, offset: 0, bias: theta[5], z, row: i)
        let b = Self.predictor(r.parameters, offset: 0, bias: r.parameters[5], z2, row: i)
        #expect(abs(a - b) <= 1e-11 * max(1, abs(a)))
      }
    }
  }

  @Test(
    "without a bias the linear predictors lose exactly the reported constants, within the bound",
    arguments: [
      ModelFile.Specification.logistic(featureCount: 5, fitsIntercept: false),
      .ridge(featureCount: 5, fitsIntercept: false),
      .softmax(featureCount: 5, classCount: 3),
      .oneVsRest(featureCount: 5, classCount: 3),
    ])
  func droppedShiftWithoutBias(_ spec: ModelFile.Specification) throws {
    let (data, old, new) = try Self.statistics()
    let theta = Self.parameters(spec, seed: 9)
    let r = try spec.reexpressing(theta, from: old, to: new)
    let outputs = spec.parameterCount / 5
    #expect(!r.isExact && r.droppedShifts.count == outputs)
    let (z, z2) = (Self.standardize(data, old), Self.standardize(data, new))
    // Bound from scratch: the largest weight row's norm times ||D^{-1}(mu' - mu)||.
    let delta: [Double] = (0..<5).map { (new.means[$0] - old.means[$0]) / old.scales[$0] }
    let deltaNorm = Self.norm(delta)
    let rowNorms: [Double] = (0..<outputs).map { k in
      Self.norm(Array(theta[(k * 5)..<(k * 5 + 5)]))
    }
    #expect(
      abs(r.droppedShiftBound - rowNorms.max()! * deltaNorm) <= 1e-12 * r.droppedShiftBound)
    for k in 0..<outputs {
      #expect(abs(r.droppedShifts[k]) <= r.droppedShiftBound * (1 + 1e-12))
      #expect(abs(r.droppedShifts[k]) > 1e-3)  // the shift is real here, not vacuous
      for i in 0..<data.count {
        let a = Self.predictor(theta, offset: k * 5, bias: 0, z, row: i)
        let b = Self.predictor(r.parameters, offset: k * 5, bias: 0, z2, row: i)
        #expect(abs((a - b) - r.droppedShifts[k]) <= 1e-10 * max(1, abs(a)), "row \(i)")
      }
    }
  }

  @Test("identical statistics leave the parameters unchanged; bad input is a typed error")
  func identityAndErrors() throws {
    let (_, old, new) = try Self.statistics()
    let spec = ModelFile.Specification.softmax(featureCount: 5, classCount: 3)
    let theta = Self.parameters(spec, seed: 2)
    let same = try spec.reexpressing(theta, from: old, to: old)
    #expect(same.parameters == theta)
    #expect(same.droppedShifts == [0, 0, 0] && same.droppedShiftBound == 0)
    #expect(throws: UnlearningError.self) {
      try spec.reexpressing(Array(theta.dropLast()), from: old, to: new)
    }
    var nan = theta
    nan[3] = .nan
    #expect(throws: UnlearningError.self) { try spec.reexpressing(nan, from: old, to: new) }
    let short = try Dataset.Standardization(means: [0, 0], scales: [1, 1], rowCount: 3)
    #expect(throws: UnlearningError.self) { try spec.reexpressing(theta, from: short, to: new) }
    #expect(throws: UnlearningError.self) {
      try ModelFile.Specification.softmax(featureCount: 5, classCount: 1).reexpressing(
        [0, 0, 0, 0, 0], from: old, to: new)
    }
  }
}
