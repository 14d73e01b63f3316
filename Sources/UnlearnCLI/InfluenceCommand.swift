import ArgumentParser
import Foundation
import Unlearning

/// `unlearn influence`: which training samples matter most for one test prediction.
struct InfluenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "influence",
    abstract: "Rank training samples by their influence on one test point's loss (Koh & Liang).",
    discussion: """
      Value = predicted change in the test point's loss if the training sample is removed
      (mean-form objective, first order): positive means the sample was helping that
      prediction ("helpful"), negative means it was hurting it ("harmful").

      Examples:
        unlearn influence --model hospital.json --test-index 3 --top 10
        unlearn influence --model fm.json --test-index 0 --solver cg --json influence.json
      """
  )

  @Option(name: .customLong("model-file"), help: "The model file.")
  var modelFile: String

  @Option(help: "Row of the test set (0-based) whose loss is explained.")
  var testIndex: Int

  @Option(help: "How many helpful and harmful samples to list.")
  var top: Int = 10

  @Option(help: "IHVP solver: direct | cg | lissa.")
  var solver: String = "direct"

  @Option(help: "Damping added to the Hessian (networks).")
  var damping: Double = 0

  @Option(help: "Write the ranking and all scores as JSON to this file.")
  var json: String?

  func validate() throws {
    guard ["direct", "cg", "lissa"].contains(solver) else {
      throw ValidationError("--solver must be direct, cg or lissa")
    }
    guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    guard testIndex >= 0 else { throw ValidationError("--test-index must be >= 0") }
    guard damping >= 0 else { throw ValidationError("--damping must be >= 0") }
  }

  func run() throws {
    let (file, train, test) = try loadModelAndData(modelFile)
    guard testIndex < test.count else {
      throw CLIError("--test-index \(testIndex): the test set has \(test.count) rows")
    }
    let ihvp: IHVPSolver =
      switch solver {
      case "cg": .conjugateGradient(.init())
      case "lissa": .lissa(.init())
      default: .direct
      }
    let point = TestPoint(features: test.features.row(testIndex), target: test.targets[testIndex])
    let ranked = try runReportingErrors {
      try file.model.accept(
        InfluenceVisitor(
          file: file, train: train, point: point, solver: ihvp, damping: damping, top: top))
    }
    print(
      "influence on test sample \(test.ids[testIndex]) (label \(test.classNames.indices.contains(test.labels[testIndex]) ? test.classNames[test.labels[testIndex]] : String(test.labels[testIndex]))), solver \(ranked.scores.ihvp.solver), residual \(ranked.scores.ihvp.relativeResidual.map(ComparisonRendering.num) ?? "-")"
    )
    print("value = predicted change in this test loss if the training sample is removed")
    var lines = [["rank", "helpful id", "value", "harmful id", "value"]]
    for i in 0..<max(ranked.helpful.count, ranked.harmful.count) {
      let h = i < ranked.helpful.count ? ranked.helpful[i] : nil
      let b = i < ranked.harmful.count ? ranked.harmful[i] : nil
      lines.append([
        String(i + 1), h.map { String($0.id.rawValue) } ?? "",
        h.map { ComparisonRendering.num($0.value) } ?? "", b.map { String($0.id.rawValue) } ?? "",
        b.map { ComparisonRendering.num($0.value) } ?? "",
      ])
    }
    print(renderTable(lines), terminator: "")
    let t = ranked.scores.timing
    print(
      "[time] fit \(ComparisonRendering.seconds(t.fitSeconds)), IHVP \(ComparisonRendering.seconds(t.ihvpSeconds)), scoring \(ComparisonRendering.seconds(t.scoringSeconds))"
    )
    if let json { try runReportingErrors { try writeJSONAtomically(ranked, to: json) } }
  }
}

struct InfluenceVisitor: ModelVisitor {
  var file: ModelFile
  var train: Dataset
  var point: TestPoint
  var solver: IHVPSolver
  var damping: Double
  var top: Int

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> RankedInfluences {
    let influence = try InfluenceFunctions(
      model: model, parameters: file.parameters, dataset: train,
      regularization: file.regularization,
      removed: file.removedIDs, damping: damping, solver: solver)
    return try influence.topInfluences(on: point, count: top)
  }
}
