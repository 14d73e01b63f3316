import Foundation
import Testing
import Unlearning
import UnlearnCLI

@Suite("Command line: --forget-class")
struct ClassForgettingCommandTests {
  /// A class that is not present is a one-line error naming it (no data files needed: the
  /// Fashion-MNIST check happens before loading).
  @Test func classThatIsNotPresentIsAClearError() throws {
    var hospital = try Unlearn.parseAsRoot([
      "compare", "--model", "logistic", "--methods", "retrain", "--forget-class", "3",
    ])
    #expect(
      throws: CLIError(
        "forget class 3 is not a class of the data (classes: 0 = healthy, 1 = diabetic)")
    ) { try hospital.run() }
    var images = try Unlearn.parseAsRoot([
      "compare", "--dataset", "fashion-mnist", "--classes", "0,6", "--model", "softmax",
      "--forget-class", "5",
    ])
    #expect(throws: CLIError("--forget-class 5 (Sandal) is not among --classes 0,6")) {
      try images.run()
    }
    var outOfRange = try Unlearn.parseAsRoot([
      "compare", "--dataset", "fashion-mnist", "--classes", "0,6", "--forget-class", "12",
    ])
    #expect(throws: CLIError("--forget-class 12: Fashion-MNIST classes are 0...9")) {
      try outOfRange.run()
    }
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["compare", "--forget", "3", "--forget-class", "1"])
    }
  }

  /// `--forget-class 1` on the hospital forgets every diabetic training patient and shows the
  /// one-step and iterated Newton rows with the class metrics in the JSON.
  @Test func forgetsAWholeHospitalClass() throws {
    let json =
      NSTemporaryDirectory() + "unlearn-cli-class-\(UInt32.random(in: 0...UInt32.max)).json"
    defer { try? FileManager.default.removeItem(atPath: json) }
    var command = try Unlearn.parseAsRoot([
      "compare", "--model", "logistic", "--methods", "retrain,naive,newton", "--forget-class", "1",
      "--json", json,
    ])
    try command.run()
    let result = try JSONDecoder().decode(
      Comparison.Result.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
    let (train, _) = Scenario.Hospital.make(seed: 42)
    #expect(result.forgottenIDs.count == train.labelCounts[1])
    #expect(result.rows.map(\.method) == ["retrain", "naive", "newton-1step", "newton-iterated"])
    // No intercept: the retrained logistic model still calls many diabetics diabetic, and its
    // forget accuracy (training diabetics) is what every row is compared with.
    let retrain = try #require(result.rows.first)
    #expect(
      retrain.evaluation.forgottenClass == 1 && retrain.evaluation.forgottenClassRecall != nil)
    #expect(retrain.evaluation.testAccuracyByClass.count == 2)
    let iterated = try #require(result.rows.last)
    #expect(iterated.evaluation.relativeDistance < 1e-6)
    #expect(iterated.evaluation.forgottenClassRecall == retrain.evaluation.forgottenClassRecall)
  }
}
