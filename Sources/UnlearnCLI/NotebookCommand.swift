import ArgumentParser
import Foundation
import NotebookRunner

/// `unlearn notebook`: runs the Swift blocks of markdown notebooks and writes their output back.
struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract:
      "Run executable markdown notebooks (Notebooks-md/) and write each block's output under it.",
    discussion: """
      The ```swift blocks of a notebook are compiled together, in order, as one program against \
      the Unlearning library (a generated package under .build/notebooks that depends on this \
      repository), run with the notebook's folder as working directory, and each block's \
      standard output is written back below the block between the markers <!-- output --> and \
      <!-- end output -->. Re-running is idempotent.

      Lines the code prints starting with "[time]" are timings: --check ignores them.

      --check compares outputs as text unless the notebook declares a tolerance in an HTML \
      comment: <!-- check: rtol=R atol=A --> for the whole notebook, <!-- check next: rtol=R \
      atol=A --> (or "exact") for the next swift block. With a tolerance, the text between \
      numbers must be identical (runs of spaces count as one), integers and percentages must \
      be equal, and other numbers a, b must satisfy |a - b| <= atol + rtol * max(|a|, |b|) \
      plus half a unit in the last printed digit of each.

      Examples:
        swift run -c release unlearn notebook Notebooks-md/01-hospital.md
        swift run -c release unlearn notebook --check Notebooks-md
      """
  )

  @Argument(help: "Notebook files, or folders whose *.md files are notebooks.")
  var paths: [String]

  @Flag(
    help:
      "Do not write: fail if a notebook does not compile, fails, or its output differs from what is committed (beyond the notebook's tolerance)."
  )
  var check = false

  @Option(
    help:
      "Root of the unlearn package the notebooks are compiled against (default: the first folder upwards from the notebook, then from the current directory, holding this package's Package.swift)."
  )
  var packageRoot: String?

  func run() throws {
    // Everything the user named is checked before a folder is created or a build starts.
    if let packageRoot {
      do { try NotebookRunner.validatePackageRoot(packageRoot) } catch {
        throw CLIError(error.description)
      }
    }
    let files: [String]
    do { files = try NotebookRunner.expand(paths) } catch { throw CLIError(error.description) }
    guard !files.isEmpty else {
      throw CLIError("no notebooks found in \(paths.joined(separator: ", "))")
    }
    var roots = [String]()
    for file in files {
      let folder = (file as NSString).deletingLastPathComponent
      guard
        let root = packageRoot
          ?? NotebookRunner.findPackageRoot(from: folder.isEmpty ? "." : folder)
          ?? NotebookRunner.findPackageRoot(from: FileManager.default.currentDirectoryPath)
      else {
        throw CLIError(
          "cannot find the unlearn package (Package.swift) above \(file); pass --package-root")
      }
      roots.append(root)
    }
    var failures = [String]()
    for (file, root) in zip(files, roots) {
      do {
        let outcome = try NotebookRunner(packageRoot: root).run(notebook: file, check: check)
        if check && !outcome.matches {
          let first = outcome.mismatches.map { "block \($0.block + 1), \($0.mismatch)" }
          failures.append(
            "\(file): output differs from the committed notebook: \(first.joined(separator: "; "))"
          )
        } else {
          let state = check ? "ok" : (outcome.wrote ? "updated" : "unchanged")
          FileHandle.standardError.write(Data("notebook: \(file): \(state)\n".utf8))
        }
      } catch {
        failures.append(error.description)
      }
    }
    if !failures.isEmpty {
      for f in failures { FileHandle.standardError.write(Data("error: \(f)\n".utf8)) }
      print("notebooks: \(files.count - failures.count) passed, \(failures.count) failed")
      throw ExitCode(1)
    }
    print("notebooks: \(files.count) passed, 0 failed")
  }
}
