import Foundation
import Testing

@testable import Unlearning

/// Per-feature standardisation against statistics recomputed naively (column by column in
/// plain Swift) from the rows they should be fitted on.
@Suite("Standardization")
struct StandardizationTests {
  /// Naive per-column mean and population standard deviation of the given rows.
  static func naive(_ rows: [[Double]]) -> (means: [Double], deviations: [Double]) {
    let n = Double(rows.count)
    let d = rows.first?.count ?? 0
    var means = [Double](repeating: 0, count: d)
    var deviations = [Double](repeating: 0, count: d)
    for j in 0..<d {
      let column = rows.map { $0[j] }
      let mean = column.reduce(0, +) / n
      means[j] = mean
      deviations[j] = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
    }
    return (means, deviations)
  }

  /// 60 rows: two spread features on very different scales, a constant 0.1 column, a
  /// constant 1e6 column, an all-zero column, and a duplicated block of rows.
  static func data() throws -> Dataset {
    var g = SeededGenerator(seed: 7)
    var rows = [[Double]]()
    for i in 0..<50 {
      let z = g.normalVector(count: 2)
      rows.append([1e4 * z[0] + 3e4, 1e-3 * z[1] - 2e-3, 0.1, 1e6, 0])
      if i < 10 { rows.append(rows[rows.count - 1]) }  // duplicated rows
    }
    let labels = rows.map { $0[0] > 3e4 ? 1 : 0 }
    return try Dataset(
      features: Matrix(rowArrays: rows), labels: labels,
      ids: (0..<rows.count).map { SampleID(100 + 3 * $0) }, classCount: 2)
  }

  static func rows(_ data: Dataset) -> [[Double]] {
    (0..<data.count).map { data.features.row($0) }
  }

  @Test("statistics equal the naive two-pass mean and population deviation; constants get scale 1")
  func fitMatchesNaive() throws {
    let data = try Self.data()
    let s = try Dataset.Standardization(fittedOn: data)
    let (means, deviations) = Self.naive(Self.rows(data))
    #expect(s.rowCount == data.count)
    for j in 0..<2 {
      #expect(abs(s.means[j] - means[j]) <= 1e-12 * max(1, abs(means[j])))
      #expect(abs(s.scales[j] - deviations[j]) <= 1e-10 * deviations[j])
    }
    // Constant features (0.1, 1e6, 0): scale exactly 1, only centred.
    #expect(s.scales[2...] == [1, 1, 1])
    #expect(abs(s.means[3] - 1e6) <= 1e-6)
  }

  @Test("standardised data has no NaN, mean 0, deviation 1, and constant columns near 0")
  func standardisedDataIsClean() throws {
    let data = try Self.data()
    let standardized = try data.standardized(by: Dataset.Standardization(fittedOn: data))
    #expect(standardized.features.isFinite)
    #expect(standardized.ids == data.ids && standardized.labels == data.labels)
    let (means, deviations) = Self.naive(Self.rows(standardized))
    for j in 0..<2 {
      #expect(abs(means[j]) <= 1e-12)
      #expect(abs(deviations[j] - 1) <= 1e-12)
    }
    for j in 2..<5 {
      #expect(deviations[j] <= 1e-9)
      #expect(abs(means[j]) <= 1e-9)
    }
  }

  @Test("a single row and an all-constant data set give scale 1 everywhere, never NaN")
  func degenerateRows() throws {
    let one = try Dataset(features: Matrix(rowArrays: [[3, -4, 0]]), labels: [0], classCount: 2)
    let s = try Dataset.Standardization(fittedOn: one)
    #expect(s.scales == [1, 1, 1])
    #expect(try one.standardized(by: s).features.elements.allSatisfy { $0 == 0 })
  }

  @Test("fitting with excluded ids equals fitting from scratch on the retained rows only")
  func excludingIsRetainedOnly() throws {
    let data = try Self.data()
    // Forget one copy of a duplicated row, an extreme row and a few others.
    let forget = [data.ids[0], data.ids[5], data.ids[40], data.ids[59]]
    let refitted = try Dataset.Standardization(fittedOn: data, excluding: forget)
    let retainedRows = Self.rows(data).enumerated().filter { !forget.contains(data.ids[$0.offset]) }
      .map(\.element)
    let (means, deviations) = Self.naive(retainedRows)
    #expect(refitted.rowCount == data.count - forget.count)
    for j in 0..<2 {
      #expect(abs(refitted.means[j] - means[j]) <= 1e-12 * max(1, abs(means[j])))
      #expect(abs(refitted.scales[j] - deviations[j]) <= 1e-10 * deviations[j])
    }
    // The forgotten rows moved the statistics: the refit is not the original.
    #expect(refitted != (try Dataset.Standardization(fittedOn: data)))
  }

  @Test("bad statistics and shapes are typed errors")
  func errors() throws {
    let data = try Self.data()
    #expect(throws: DataError.self) {
      try Dataset.Standardization(fittedOn: data, excluding: data.ids)
    }
    #expect(throws: DataError.self) {
      try Dataset.Standardization(fittedOn: data, excluding: [SampleID(1)])
    }
    #expect(throws: DataError.self) {
      try Dataset.Standardization(means: [0, 0], scales: [1, 0], rowCount: 3)
    }
    #expect(throws: DataError.self) {
      try Dataset.Standardization(means: [.nan], scales: [1], rowCount: 3)
    }
    #expect(throws: DataError.self) {
      try Dataset.Standardization(means: [0], scales: [1, 1], rowCount: 3)
    }
    let s = try Dataset.Standardization(means: [0], scales: [1], rowCount: 1)
    #expect(throws: DataError.self) { try data.standardized(by: s) }
  }

  @Test("a model file keeps its standardisation (version 4); shapes are checked on read")
  func modelFileField() throws {
    let data = try Self.data()
    let s = try Dataset.Standardization(fittedOn: data)
    let standardized = try data.standardized(by: s)
    let state = try TrainedModel.train(
      model: LogisticRegression(featureCount: 5), data: standardized, regularization: 1e-2,
      trainer: Training.Newton())
    let scenario = Scenario.csv(
      path: "/x.csv", labelColumn: "y", testFraction: 0.2, seed: 1, normalizeRows: false)
    #expect(throws: UnlearningError.self) {
      try ModelFile(state: state, scenario: scenario, standardization: s)
    }
    let file = try ModelFile(
      state: state, scenario: scenario, standardization: s, dataFingerprint: data.fingerprint)
    #expect(file.version == 4)
    #expect(file.dataFingerprint == data.fingerprint)
    let path = NSTemporaryDirectory() + "unlearn-std-\(UUID().uuidString).json"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try file.write(to: path)
    let read = try ModelFile.read(from: path)
    #expect(read == file)
    // The rebuilt state sees the features the model was trained on: same predictions.
    struct Predictions: StateVisitor {
      func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws -> [Int] {
        state.predictions(state.data.features)
      }
    }
    let rebuilt = try read.withState(data: data, path: path, Predictions())
    #expect(rebuilt == state.predictions(standardized.features))
    // The raw data is what the fingerprint names.
    #expect(throws: ModelFileError.self) {
      try read.withState(data: standardized, path: path, Predictions())
    }
    // A file without the field is still version 2 and has no "standardization" key.
    let plain = try ModelFile(state: state, scenario: scenario)
    #expect(plain.version == 2)
    #expect(!String(decoding: try plain.encoded(), as: UTF8.self).contains("standardization"))
    // Hand edits: wrong length, a zero scale, a version-2 file carrying the field.
    for edit in [
      { (f: inout ModelFile) in f.standardization?.means.append(0) },
      { (f: inout ModelFile) in f.standardization?.scales[0] = 0 },
      { (f: inout ModelFile) in f.version = 2 },
      { (f: inout ModelFile) in f.standardization = nil },
    ] {
      var bad = file
      edit(&bad)
      try SecureFile.writeAtomically(bad.encoded(), to: path, mode: 0o600)
      #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    }
    // The public release carries the statistics (version 2).
    let release = try PublicRelease(file)
    #expect(release.standardization == s && release.version == 2)
    #expect(try PublicRelease(plain).version == 1)
  }
}
