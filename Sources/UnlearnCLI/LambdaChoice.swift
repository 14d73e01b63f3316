import ArgumentParser
import Foundation
import Unlearning

/// `--lambda`: a positive number, or `auto` for ``LambdaSelection``'s rule.
package enum LambdaChoice: ExpressibleByArgument, Equatable, CustomStringConvertible {
  /// A given value (per sample, sum form; the commands refuse one that is not positive).
  case value(Double)
  /// ``LambdaSelection``'s rule.
  case auto

  package init?(argument: String) {
    if argument == "auto" {
      self = .auto
      return
    }
    // Any number parses; the commands' validation says "must be positive" in one line.
    guard let value = Double(argument) else { return nil }
    self = .value(value)
  }

  package var description: String {
    switch self {
    case .auto: return "auto"
    case .value(let v): return "\(v)"
    }
  }
}

/// The default-lambda rule for your own data (`--lambda auto`, the default of `train` on CSV
/// and LIBSVM data; the built-in scenarios keep their fixed default `1e-3`).
///
/// Hold out a seeded 20% of the **training** rows (never the test rows) as a validation set;
/// train the chosen model on the other 80% once for every value of the grid
/// `1e-5, 1e-4, ..., 1`; keep the value with the best validation accuracy, the **largest** such
/// value on a tie (the most regularised model that does as well). The model is then trained
/// on all training rows with that value.
///
/// The value is chosen once, at training, and stored in the model file: every later removal and
/// retrain keeps it. Every removal method approximates the minimiser of the same objective on
/// the retained rows, so the retrain reference must use the same lambda; the choice is one of
/// six grid values, so it can reveal little about any single row (and certified training
/// refuses `auto`: see `unlearn train --help`).
package enum LambdaSelection {
  /// The grid, ascending.
  package static let grid: [Double] = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]
  /// Share of the training rows held out for validation.
  package static let validationFraction = 0.2

  /// What the rule saw and chose.
  package struct Outcome: Encodable, Equatable {
    /// The chosen lambda.
    package var chosen: Double
    /// The grid, ascending.
    package var grid: [Double]
    /// Validation accuracy of each grid value (in `[0, 1]`, same order).
    package var validationAccuracy: [Double]
    /// Rows trained on and validated on.
    package var fitCount: Int
    package var validationCount: Int

    /// One line for the progress output.
    package var summary: String {
      let cells = zip(grid, validationAccuracy).map {
        "\(ComparisonRendering.num($0.0)): \(String(format: "%.1f%%", 100 * $0.1))"
      }
      return
        "lambda auto: \(ComparisonRendering.num(chosen)) (best validation accuracy on \(validationCount) held-out training rows, fitted on \(fitCount); \(cells.joined(separator: ", ")))"
    }
  }

  /// Applies the rule for `spec` on `train`.
  ///
  /// - Parameters:
  ///   - spec: the model to train.
  ///   - train: the training rows (the validation split is taken from them).
  ///   - trainer: the optimiser of every fit.
  ///   - seed: the seed of the validation split.
  /// - Throws: `CLIError` when the training rows are too few to split, and training errors.
  package static func choose(
    spec: ModelFile.Specification, train: Dataset, trainer: any Trainer, seed: UInt64
  ) throws -> Outcome {
    let (fit, validation) = try runReportingErrors {
      try train.split(testFraction: validationFraction, seed: seed)
    }
    guard !validation.isEmpty else {
      throw CLIError(
        "--lambda auto: \(train.count) training rows leave no validation rows; give --lambda VALUE")
    }
    var accuracies = [Double]()
    for lambda in grid {
      accuracies.append(
        try runReportingErrors {
          try spec.accept(
            ValidationFit(
              fit: fit, validation: validation, regularization: lambda, trainer: trainer))
        })
    }
    let best = accuracies.max() ?? 0
    let chosen = grid[accuracies.lastIndex(of: best) ?? grid.count / 2]
    return Outcome(
      chosen: chosen, grid: grid, validationAccuracy: accuracies, fitCount: fit.count,
      validationCount: validation.count)
  }
}

/// Trains on `fit` with one lambda and returns the accuracy on `validation`.
private struct ValidationFit: ModelVisitor {
  var fit: Dataset
  var validation: Dataset
  var regularization: Double
  var trainer: any Trainer

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> Double {
    try TrainedModel.train(
      model: model, data: fit, regularization: regularization, trainer: trainer
    ).accuracy(on: validation)
  }
}
