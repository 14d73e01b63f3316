import ArgumentParser
import Foundation
import Unlearning

/// The options that name a data set (shared by `compare` and `train`).
package struct DataOptions: ParsableArguments {
  package init() {}

  @Option(
    help: ArgumentHelp(
      "The data set: hospital, fashion-mnist, csv:PATH or libsvm:PATH (files may be gzipped; a CSV file needs a header row).",
      valueName: "name"))
  var dataset: String = "hospital"

  @Option(
    help: ArgumentHelp(
      "Fashion-MNIST classes 0-9, comma-separated; at least two (two give a binary task).",
      valueName: "list"))
  var classes: String = "0,6"

  @Option(
    help: ArgumentHelp(
      "Fashion-MNIST: subsample the training set to this many images (seeded).",
      valueName: "n"))
  var trainLimit: Int?

  @Option(
    help: ArgumentHelp(
      "Fashion-MNIST: subsample the test set to this many images (seeded).", valueName: "n"))
  var testLimit: Int?

  @Option(
    help: ArgumentHelp("CSV: the label column (name or 0-based index).", valueName: "column"))
  var labelColumn: String = "label"

  @Option(
    help: ArgumentHelp(
      "CSV: the field separator, one character (',', ';', or 'tab').", valueName: "char"))
  var delimiter: String = ","

  @Option(
    help: ArgumentHelp(
      "CSV/LIBSVM: fraction of rows held out as the test set.", valueName: "fraction"))
  var testFraction: Double = 0.2

  @Flag(help: "CSV/LIBSVM: scale every row to unit L2 norm (required for certified removal).")
  var normalizeRows = false

  /// The field separator `--delimiter` names (`tab` and `\t` are a tab).
  func delimiterCharacter() throws -> String {
    let value = delimiter == "tab" || delimiter == "\\t" ? "\t" : delimiter
    guard value.count == 1, value != "\"", value.first?.isNewline == false else {
      throw CLIError(
        "--delimiter '\(delimiter)': give one character other than a quote, e.g. ';' or tab")
    }
    return value
  }

  /// The scenario these options describe.
  package func scenario(seed: UInt64) throws -> Scenario {
    switch dataset {
    case "hospital": return .hospital(seed: seed)
    case "fashion-mnist":
      let cls = try classes.split(separator: ",", omittingEmptySubsequences: false).map {
        c -> Int in
        guard let v = Int(c.trimmingCharacters(in: .whitespaces)), (0...9).contains(v) else {
          throw CLIError("--classes: '\(c)' is not a class 0...9")
        }
        return v
      }
      guard Set(cls).count == cls.count else {
        throw CLIError("--classes \(classes): a class is listed twice")
      }
      guard cls.count >= 2 else {
        throw CLIError(
          "--classes \(classes): a classifier needs at least 2 classes, e.g. --classes 0,6")
      }
      return .fashionMNIST(classes: cls, trainLimit: trainLimit, testLimit: testLimit, seed: seed)
    case let d where d.hasPrefix("csv:"):
      let separator = try delimiterCharacter()
      return .csv(
        path: String(d.dropFirst(4)), labelColumn: labelColumn, testFraction: testFraction,
        seed: seed, normalizeRows: normalizeRows, delimiter: separator == "," ? nil : separator)
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
