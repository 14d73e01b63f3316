import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// The default-lambda rule (`--lambda auto`) on data whose answer is known by construction.
@Suite("Lambda auto")
struct LambdaAutoTests {
  static func path(_ name: String) -> String {
    NSTemporaryDirectory() + "unlearn-lambda-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  /// Writes a CSV with columns `a, b, label`, each `(a, b, label)` repeated `count` times.
  static func csv(_ rows: [(Double, Double, Int, count: Int)]) throws -> String {
    let file = path("data.csv")
    var text = "a,b,label\n"
    for row in rows {
      for _ in 0..<row.count { text += "\(row.0),\(row.1),\(row.2)\n" }
    }
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return file
  }

  @Test("every grid value is perfect on symmetric data, so the tie rule picks the largest, 1")
  func tieGoesToTheLargestValue() throws {
    // Label 1 iff a > 0; b is +-0.3 in equal numbers in both classes, so even the most
    // regularised fit (the class-mean difference) points along a: every value is 100%.
    let data = try Self.csv([
      (0.5, 0.3, 1, 20), (0.5, -0.3, 1, 20), (-0.5, 0.3, 0, 20), (-0.5, -0.3, 0, 20),
    ])
    let model = Self.path("m.json")
    var command = try Unlearn.parseAsRoot([
      "train", "--dataset", "csv:" + data, "--quiet", "--out", model,
    ])
    try command.run()
    let file = try ModelFile.read(from: model)
    #expect(file.regularization == 1)

    let (train, _) = try Scenario.csv(
      path: data, labelColumn: "label", testFraction: 0.2, seed: 42, normalizeRows: false
    ).load()
    let outcome = try LambdaSelection.choose(
      spec: .logistic(featureCount: 2, fitsIntercept: false), train: train,
      trainer: Training.Newton(), seed: 42)
    #expect(outcome.validationAccuracy == [1, 1, 1, 1, 1, 1])
    #expect(outcome.chosen == 1)
    #expect(outcome.fitCount + outcome.validationCount == train.count)
  }

  @Test("when heavy regularisation follows misleading class means, a smaller value wins")
  func heavyRegularisationLoses() throws {
    // Label 1 iff a > 0 (separable, so weak regularisation is perfect). The five outliers per
    // class at b = -+2 outweigh the 40 typical rows at b = +-0.1 in the class-mean difference
    // (for any split that keeps 3 of them), which lambda = 1 follows (the data term's
    // curvature is below 11, lambda n about 70): it then misclassifies every typical row.
    let data = try Self.csv([
      (0.01, 0.1, 1, 40), (0.1, -2, 1, 5), (-0.01, -0.1, 0, 40), (-0.1, 2, 0, 5),
    ])
    let (train, _) = try Scenario.csv(
      path: data, labelColumn: "label", testFraction: 0.2, seed: 42, normalizeRows: false
    ).load()
    let outcome = try LambdaSelection.choose(
      spec: .logistic(featureCount: 2, fitsIntercept: false), train: train,
      trainer: Training.Newton(), seed: 42)
    #expect(outcome.grid == [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1])
    #expect(outcome.validationAccuracy[0] == 1)
    #expect(try #require(outcome.validationAccuracy.last) < 0.5)
    #expect(outcome.chosen < 1)
    let chosen = try #require(outcome.grid.firstIndex(of: outcome.chosen))
    #expect(outcome.validationAccuracy[chosen] == 1)
    // The largest perfect value: every larger one is worse.
    #expect(outcome.validationAccuracy[(chosen + 1)...].allSatisfy { $0 < 1 })
  }

  @Test("auto is refused for certified training; a given value is kept")
  func certifiedNeedsAGivenValue() throws {
    #expect(throws: (any Error).self) {
      _ = try Unlearn.parseAsRoot([
        "train", "--certified", "--lambda", "auto", "--out", Self.path("c.json"),
      ])
    }
    let data = try Self.csv([(0.5, 0.3, 1, 10), (-0.5, -0.3, 0, 10)])
    let model = Self.path("v.json")
    var command = try Unlearn.parseAsRoot([
      "train", "--dataset", "csv:" + data, "--lambda", "0.02", "--quiet", "--out", model,
    ])
    try command.run()
    #expect(try ModelFile.read(from: model).regularization == 0.02)
  }
}
