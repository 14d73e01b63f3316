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
    name: .customLong("classes"),
    help: ArgumentHelp(
      "Fashion-MNIST classes 0-9, comma-separated, or all; at least two (two give a binary task; default 0,6). CSV and LIBSVM use every label in the file and refuse this option.",
      valueName: "list"))
  var classesOption: String?

  /// The Fashion-MNIST classes (`--classes`, default `0,6`).
  var classes: String { classesOption ?? "0,6" }

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
      "CSV: the column of integer sample ids (name or 0-based index), so that requests name your ids; default: row numbers 0..<n.",
      valueName: "column"))
  var idColumn: String?

  @Option(
    help: ArgumentHelp(
      "CSV: the field separator, one character (',', ';', or 'tab').", valueName: "char"))
  var delimiter: String = ","

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "CSV/LIBSVM: fraction of rows held out as the test set.", valueName: "fraction"))
  var testFraction: Double = 0.2

  @Flag(help: "CSV/LIBSVM: scale every row to unit L2 norm (required for certified removal).")
  var normalizeRows = false

  @Flag(
    help:
      "CSV/LIBSVM, train and compare: standardise every feature to mean 0 and standard deviation 1 with statistics fitted on the training rows (constant features: centred, scale 1), after --normalize-rows. Not with --certified."
  )
  var standardize = false

  /// The field separator `--delimiter` names (`tab` and `\t` are a tab).
  func delimiterCharacter() throws -> String {
    let value = delimiter == "tab" || delimiter == "\\t" ? "\t" : delimiter
    guard value.count == 1, value != "\"", value.first?.isNewline == false else {
      throw CLIError(
        "--delimiter '\(delimiter)': give one character other than a quote, e.g. ';' or tab")
    }
    return value
  }

  /// The scenario these options describe (file paths made absolute, so a model file finds
  /// its data from any working directory).
  package func scenario(seed: UInt64) throws -> Scenario {
    if classesOption != nil && dataset != "fashion-mnist" {
      throw CLIError(
        "--classes selects Fashion-MNIST classes; \(dataset) uses every label in its file")
    }
    if standardize && !(dataset.hasPrefix("csv:") || dataset.hasPrefix("libsvm:")) {
      throw CLIError(
        "--standardize applies to CSV and LIBSVM data; \(dataset)'s features are already scaled")
    }
    if idColumn != nil && !dataset.hasPrefix("csv:") {
      throw CLIError("--id-column applies to CSV data (--dataset csv:PATH)")
    }
    guard testFraction > 0, testFraction < 1 else {
      throw CLIError("--test-fraction \(testFraction): give a fraction strictly between 0 and 1")
    }
    switch dataset {
    case "hospital": return .hospital(seed: seed)
    case "fashion-mnist":
      let list = classes == "all" ? "0,1,2,3,4,5,6,7,8,9" : classes
      let cls = try list.split(separator: ",", omittingEmptySubsequences: false).map {
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
        path: absolutePath(String(d.dropFirst(4))), labelColumn: labelColumn,
        testFraction: testFraction, seed: seed, normalizeRows: normalizeRows,
        delimiter: separator == "," ? nil : separator, idColumn: idColumn)
    case let d where d.hasPrefix("libsvm:"):
      return .libsvm(
        path: absolutePath(String(d.dropFirst(7))), testFraction: testFraction, seed: seed,
        normalizeRows: normalizeRows)
    default:
      throw CLIError(
        "unknown --dataset '\(dataset)'; use hospital, fashion-mnist, csv:PATH or libsvm:PATH")
    }
  }
}

/// `path` made absolute against the working directory (unchanged when empty or absolute).
func absolutePath(_ path: String) -> String {
  guard !path.isEmpty, !path.hasPrefix("/") else { return path }
  return URL(fileURLWithPath: path).standardizedFileURL.path
}

/// The scenario a model file records, or the same scenario reading its file from `data`
/// (`--data PATH` of `remove`, `influence` and `audit`: data that was moved; its fingerprint is
/// still checked against the model file's).
func scenario(of file: ModelFile, data: String?) throws -> Scenario {
  guard let data else { return file.scenario }
  return try runReportingErrors { try file.scenario.relocated(to: absolutePath(data)) }
}

/// Loads a model file's data; a missing CSV or LIBSVM file says how to point at moved data.
func loadRecordedData(_ scenario: Scenario) throws -> (train: Dataset, test: Dataset) {
  do {
    return try scenario.load()
  } catch .fileNotFound(let path) where scenario.dataPath != nil {
    throw CLIError(
      "\(DataError.fileNotFound(path: path).description); if the data moved, pass --data PATH")
  } catch {
    throw CLIError(error.description)
  }
}
