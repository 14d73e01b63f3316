import ArgumentParser
import Unlearning

/// The `unlearn` command tree.
public struct Unlearn: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "unlearn",
    abstract: "Machine unlearning: remove training samples from models, with certificates.",
    discussion: """
      The goal of unlearning is a model indistinguishable from one retrained without the forgotten samples, obtained cheaply, with a certificate where one can exist.

      Progress goes to standard error (--quiet silences it); results go to standard output, or to JSON with a versioned schema.
      """,
    version: "unlearn 0.2.0 (model files versions 2 to 4)",
    subcommands: [
      Compare.self, Train.self, Remove.self, Audit.self, InfluenceCommand.self, Export.self,
      Bench.self,
      NotebookCommand.self,
      EvaluateCommand.self,
    ],
    defaultSubcommand: nil
  )

  public init() {}
}
