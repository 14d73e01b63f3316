import ArgumentParser
import Foundation
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

  /// Runs the command line. Every refusal (an unknown or malformed option, a refused value
  /// such as a negative `--lambda`, a run-time error) prints ONE line on standard error
  /// (`Error: ...`, naming the option, file or field) and exits with status 1. No usage block
  /// follows the line; `--help` shows it. `--help` and `--version` print to standard output
  /// and exit 0.
  public static func main() {
    let command: any ParsableCommand
    do {
      command = try parseAsRoot()
    } catch {
      refuse(error)
    }
    do {
      var running = command
      try running.run()
    } catch {
      refuse(error)
    }
  }

  private static func refuse(_ error: any Error) -> Never {
    let code = exitCode(for: error)
    // --help, --version, and exit codes thrown after a command printed its own line.
    if code == .success || error is ExitCode { exit(withError: error) }
    let text = message(for: error)
    if !text.isEmpty { FileHandle.standardError.write(Data(("Error: " + text + "\n").utf8)) }
    Foundation.exit(1)
  }
}
