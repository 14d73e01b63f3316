import ArgumentParser
import Unlearning

/// The options that name a data set (shared by `train`).
struct DataOptions: ParsableArguments {
  @Option(help: "hospital | fashion-mnist | csv:PATH | libsvm:PATH")
  var dataset: String = "hospital"

  @Option(help: "Fashion-MNIST classes, comma-separated (two classes give a binary task).")
  var classes: String = "0,6"

  @Option(help: "Fashion-MNIST: subsample the training set to this many images (seeded).")
  var trainLimit: Int?

  @Option(help: "Fashion-MNIST: subsample the test set to this many images (seeded).")
  var testLimit: Int?

  @Option(help: "CSV: the label column (name or 0-based index).")
  var labelColumn: String = "label"

  @Option(help: "CSV/LIBSVM: fraction of rows held out as the test set.")
  var testFraction: Double = 0.2

  @Flag(help: "CSV/LIBSVM: scale every row to unit L2 norm (required for certified removal).")
  var normalizeRows = false

  /// The scenario these options describe.
  func scenario(seed: UInt64) throws -> Scenario {
    switch dataset {
    case "hospital": return .hospital(seed: seed)
    case "fashion-mnist":
      let cls = try classes.split(separator: ",").map { c -> Int in
        guard let v = Int(c), (0...9).contains(v) else {
          throw CLIError("--classes: '\(c)' is not a class 0...9")
        }
        return v
      }
      return .fashionMNIST(classes: cls, trainLimit: trainLimit, testLimit: testLimit, seed: seed)
    case let d where d.hasPrefix("csv:"):
      return .csv(
        path: String(d.dropFirst(4)), labelColumn: labelColumn, testFraction: testFraction,
        seed: seed, normalizeRows: normalizeRows)
    case let d where d.hasPrefix("libsvm:"):
      return .libsvm(
        path: String(d.dropFirst(7)), testFraction: testFraction, seed: seed,
        normalizeRows: normalizeRows)
    default:
      throw CLIError(
        "unknown --dataset '\(dataset)'; use hospital, fashion-mnist, csv:PATH or libsvm:PATH")
    }
  }
}
