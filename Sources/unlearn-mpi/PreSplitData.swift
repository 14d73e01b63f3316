import Foundation
import Unlearning
import UnlearnCLI
import UnlearningDistributed

/// The text in a `--dataset csv:PATH` or `libsvm:PATH` path that each rank replaces by its
/// rank: `data.part-{rank}.csv` is read as `data.part-0.csv` by rank 0, and so on.
let partPlaceholder = "{rank}"

/// A CSV column named by header text, or by 0-based position when written in digits (as
/// ``Scenario`` reads it).
func csvColumn(_ text: String) -> Dataset.CSV.Column {
  Int(text).map { .index($0) } ?? .name(text)
}

/// Reads this rank's part of a pre-split scenario, with the given class list and feature
/// count (LIBSVM) when the ranks' parts disagree on them.
func loadPart(_ scenario: Scenario, path: String, classes: [String]?, featureCount: Int?)
  throws -> Dataset
{
  switch scenario {
  case .csv(_, let label, _, _, let normalize, let delimiter, let idColumn):
    let separator = delimiter ?? ","
    guard separator.count == 1, let character = separator.first else {
      throw CLIError("the CSV delimiter '\(separator)' is not one character")
    }
    let part = try runReportingErrors {
      try Dataset.CSV.load(
        path: path, labelColumn: csvColumn(label), idColumn: idColumn.map(csvColumn),
        classes: classes, delimiter: character)
    }
    return normalize ? part.normalizingRows() : part
  case .libsvm(_, _, _, let normalize):
    let part = try runReportingErrors {
      try Dataset.LIBSVM.load(path: path, featureCount: featureCount, classes: classes)
    }
    return normalize ? part.normalizingRows() : part
  case .hospital, .fashionMNIST, .standardized:
    throw CLIError("pre-split parts ({rank} in the path) apply to csv: and libsvm: data")
  }
}

/// The class names of every rank's part, merged as the loaders order them: numerically when
/// every name is a number (the first spelling of each value kept), else sorted as text.
func mergedClassNames(_ lists: [[String]]) -> [String] {
  let all = lists.flatMap { $0 }
  let values = all.map { Double($0).flatMap { $0.isFinite ? $0 : nil } }
  guard values.allSatisfy({ $0 != nil }) else { return Set(all).sorted() }
  var firstSpelling = [Double: String]()
  for (text, value) in zip(all, values) {
    if let value, firstSpelling[value] == nil { firstSpelling[value] = text }
  }
  return firstSpelling.keys.sorted().compactMap { firstSpelling[$0] }
}

/// Every rank reads its own part (`{rank}` in the path replaced by its rank); the ranks agree
/// on the class list (and, for LIBSVM, the feature count) and re-read their part when theirs
/// differs; ids are the id column's or, without one, the part's offset plus the row number.
/// Every rank gets the same error when any part is missing, malformed, inconsistent or repeats
/// an id of another part.
func loadParts(_ scenario: Scenario, template: String, world: Communicator) throws
  -> ShardedData
{
  let path = template.replacingOccurrences(of: partPlaceholder, with: String(world.rank))
  var part = try agree(world) {
    try loadPart(scenario, path: path, classes: nil, featureCount: nil)
  }
  var lists: [[String]] = []
  for root in 0..<world.size {
    let bytes = try runReportingErrors {
      try world.broadcast(Array(try JSONEncoder().encode(part.classNames)), root: root)
    }
    lists.append(try JSONDecoder().decode([String].self, from: Data(bytes)))
  }
  let classes = mergedClassNames(lists)
  var featureCount: Int?
  if case .libsvm = scenario {
    featureCount = Int(
      try runReportingErrors { try world.allReduceMax(Double(part.featureCount)) })
  }
  let reload = part.classNames != classes || (featureCount.map { $0 != part.featureCount } ?? false)
  part = try agree(world) {
    reload
      ? try loadPart(scenario, path: path, classes: classes, featureCount: featureCount) : part
  }
  var numbered = true
  if case .csv(_, _, _, _, _, _, let idColumn) = scenario, idColumn != nil { numbered = false }
  let local = part
  let byOffset = numbered
  return try runReportingErrors {
    do {
      return try ShardedData(part: local, communicator: world, numberingRowsFromOffset: byOffset)
    } catch let error as DistributedError {
      guard case .idOnSeveralRanks(let id) = error else { throw error }
      throw CLIError(
        "sample id \(id) appears in more than one part (\(template)): every id must be in one part only"
      )
    }
  }
}
