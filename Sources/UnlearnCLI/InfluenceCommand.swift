import ArgumentParser
import Foundation
import Unlearning

/// `unlearn influence`: which training samples matter most for one test prediction.
struct InfluenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "influence",
    abstract: "Rank training samples by their influence on one test point's loss (Koh & Liang).",
    usage: """
      unlearn influence --model-file <file> --test-index <i> [<options>]
      unlearn influence --model-file <file> --test-id <id> [<options>]
      unlearn influence --model-file <file> --list-test-ids
      """,
    discussion: """
      Value = predicted change in the test point's loss if the training sample is removed (mean-form objective, first order): positive means the sample was helping that prediction ("helpful"), negative means it was hurting it ("harmful").

      Convention: by default the regulariser is rescaled with the retained sample count, lambda n_R / 2 ||theta||^2, exactly as `unlearn remove --method retrain` retrains, so the signs agree with the tool's own retrain. --regularization fixed keeps the training-time weight (Koh & Liang's convention). The JSON states the convention.

      Examples:
        unlearn influence --model-file hospital.json --test-index 3 --top 10
        unlearn influence --model-file data.json --list-test-ids
        unlearn influence --model-file data.json --test-id 1017 --json i.json
        unlearn influence --model-file fm.json --test-index 0 --solver cg
      """
  )

  @Option(name: .customLong("model-file"), help: "The model file.")
  var modelFile: String

  @Option(help: "Row of the test set (0-based) whose loss is explained.")
  var testIndex: Int?

  @Option(
    name: .customLong("test-id"), help: "Sample id of the test point whose loss is explained.")
  var testID: Int?

  @Flag(
    name: .customLong("list-test-ids"),
    help: "List the test set's sample ids and labels, then exit.")
  var listTestIDs = false

  @Option(help: "How many helpful and harmful samples to list.")
  var top: Int = 10

  @Option(
    help:
      "IHVP solver: direct | cg | lissa (default: direct when a dense Hessian fits in memory, else cg)."
  )
  var solver: String?

  @Option(
    help:
      "How removal treats the regulariser: rescaled (lambda n_R / 2, as remove --method retrain) | fixed (Koh & Liang)."
  )
  var regularization: Influence.Regularization = .rescaled

  @Option(parsing: .unconditional, help: "Damping added to the Hessian (networks).")
  var damping: Double = 0

  @Option(
    help: ArgumentHelp(
      "The data file, when it has moved since training (CSV and LIBSVM; its fingerprint is still checked).",
      valueName: "path"))
  var data: String?

  @Option(help: "Write the ranking and all scores as JSON to this file.")
  var json: String?

  func validate() throws {
    if let solver, !["direct", "cg", "lissa"].contains(solver) {
      throw ValidationError("--solver must be direct, cg or lissa")
    }
    guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    if let testIndex, testIndex < 0 { throw ValidationError("--test-index must be >= 0") }
    guard damping >= 0 else { throw ValidationError("--damping must be >= 0") }
    let chosen = [testIndex != nil, testID != nil, listTestIDs].filter { $0 }.count
    guard chosen == 1 else {
      throw ValidationError("give one of --test-index, --test-id and --list-test-ids")
    }
  }

  @OptionGroup var progressOptions: ProgressOptions

  func run() throws {
    progressOptions.apply()
    if let json {
      _ = try runReportingErrors {
        try SecureFile.checkOutputs(inputs: [modelFile], outputs: [json])
      }
    }
    let (file, train, test) = try loadModelAndData(modelFile, data: data)
    if listTestIDs {
      var lines = [["index", "id", "label"]]
      for i in 0..<test.count {
        lines.append([String(i), String(test.ids[i].rawValue), labelName(test, i)])
      }
      print(renderTable(lines), terminator: "")
      return
    }
    let row: Int
    if let testID {
      guard let found = test.ids.firstIndex(of: SampleID(testID)) else {
        throw CLIError(
          "--test-id \(testID): no test sample has this id (--list-test-ids lists them)")
      }
      row = found
    } else {
      row = testIndex ?? 0
      guard row < test.count else {
        throw CLIError("--test-index \(row): the test set has \(test.count) rows")
      }
    }
    let p = file.model.parameterCount
    let name = solver ?? (EngineChoice.denseFits(parameterCount: p) ? "direct" : "cg")
    if name == "direct" && !EngineChoice.denseFits(parameterCount: p) {
      throw CLIError(
        "--solver direct needs a dense \(p) x \(p) Hessian (\(EngineChoice.denseSize(parameterCount: p))); use --solver cg"
      )
    }
    if solver == nil { progressLine("IHVP solver: \(name) (\(p) parameters)") }
    let ihvp: Influence.IHVPSolver =
      switch name {
      case "cg": .conjugateGradient(.init())
      case "lissa": .lissa(.init())
      default: .direct
      }
    let point = Influence.TestPoint(features: test.features.row(row), target: test.targets[row])
    let ranked = try runReportingErrors {
      try file.model.accept(
        InfluenceVisitor(
          file: file, train: train, point: point, solver: ihvp, damping: damping, top: top,
          regularization: regularization))
    }
    print(
      "influence on test sample \(test.ids[row]) (label \(labelName(test, row))), solver \(ranked.scores.ihvp.solver), residual \(ranked.scores.ihvp.relativeResidual.map(ComparisonRendering.num) ?? "-"), regulariser \(regularization.rawValue)"
    )
    print(
      renderInfluenceRanking(
        helpful: ranked.helpful, harmful: ranked.harmful, timing: ranked.scores.timing),
      terminator: "")
    if let json {
      try runReportingErrors {
        try writeJSONAtomically(
          InfluenceOutput(
            testID: test.ids[row], testIndex: row, regularization: regularization,
            ranking: ranked), to: json)
      }
    }
  }

  func labelName(_ data: Dataset, _ i: Int) -> String {
    let label = data.labels[i]
    return data.classNames.indices.contains(label) ? data.classNames[label] : String(label)
  }
}

/// The JSON of `unlearn influence` (schema `unlearn.influence/2`).
struct InfluenceOutput: Encodable {
  var schema = "unlearn.influence/2"
  /// Sign convention of every value.
  var convention =
    "value = predicted change in the test point's loss (mean form, first order) if the training sample is removed; positive = helpful"
  var testID: SampleID
  var testIndex: Int
  /// `rescaled` (lambda n_R / 2, as `remove --method retrain`) or `fixed` (Koh & Liang).
  var regularization: Influence.Regularization
  var ranking: Influence.Ranking
}

struct InfluenceVisitor: ModelVisitor {
  var file: ModelFile
  var train: Dataset
  var point: Influence.TestPoint
  var solver: Influence.IHVPSolver
  var damping: Double
  var top: Int
  var regularization: Influence.Regularization

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> Influence.Ranking {
    let influence = try InfluenceFunctions(
      model: model, parameters: file.parameters, dataset: train,
      regularization: file.regularization,
      removed: file.removedIDs, damping: damping, solver: solver,
      removalRegularization: regularization)
    return try influence.topInfluences(on: point, count: top)
  }
}

extension Influence.Regularization: ExpressibleByArgument {}

/// The ranking table and timing line of an influence query, as `unlearn influence` and
/// `unlearn-mpi influence` print them (lines end with `\n`).
package func renderInfluenceRanking(
  helpful: [Influence.Ranking.Entry], harmful: [Influence.Ranking.Entry], timing t: Influence.Timing
) -> String {
  var lines = [["rank", "helpful id", "value", "harmful id", "value"]]
  for i in 0..<max(helpful.count, harmful.count) {
    let h = i < helpful.count ? helpful[i] : nil
    let b = i < harmful.count ? harmful[i] : nil
    lines.append([
      String(i + 1), h.map { String($0.id.rawValue) } ?? "",
      h.map { ComparisonRendering.num($0.value) } ?? "", b.map { String($0.id.rawValue) } ?? "",
      b.map { ComparisonRendering.num($0.value) } ?? "",
    ])
  }
  return "value = predicted change in this test loss if the training sample is removed\n"
    + renderTable(lines)
    + "[time] fit \(ComparisonRendering.seconds(t.fitSeconds)), IHVP \(ComparisonRendering.seconds(t.ihvpSeconds)), scoring \(ComparisonRendering.seconds(t.scoringSeconds))\n"
}
