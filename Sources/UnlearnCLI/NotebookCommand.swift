import ArgumentParser
import Foundation

/// `unlearn notebook`: runs the Swift blocks of markdown notebooks and writes their output back.
struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract:
      "Run executable markdown notebooks (Notebooks-md/) and write each block's output under it.",
    discussion: """
      The ```swift blocks of a notebook are compiled together, in order, as one program against
      the Unlearning library (a generated package under .build/notebooks that depends on this
      repository), run with the notebook's folder as working directory, and each block's
      standard output is written back below the block between the markers
      <!-- output --> and <!-- end output -->. Re-running is idempotent.

      Lines the code prints starting with "[time]" are timings: --check ignores them.

      Examples:
        swift run -c release unlearn notebook Notebooks-md/01-hospital.md
        swift run -c release unlearn notebook --check Notebooks-md
      """
  )

  @Argument(help: "Notebook files, or folders whose *.md files are notebooks.")
  var paths: [String]

  @Flag(
    help:
      "Do not write: fail if a notebook does not compile, fails, or its output differs from what is committed."
  )
  var check = false

  @Option(
    help:
      "Root of the unlearn package the notebooks are compiled against (default: the first folder upwards from the notebook, then from the current directory, holding this package's Package.swift)."
  )
  var packageRoot: String?

  /// The nearest folder at or above `start` whose Package.swift declares the unlearn package.
  static func findPackageRoot(from start: String) -> String? {
    var url = URL(fileURLWithPath: start).standardizedFileURL
    while true {
      let manifest = url.appendingPathComponent("Package.swift").path
      if let text = try? String(contentsOfFile: manifest, encoding: .utf8),
        text.contains("name: \"unlearn\"")
      {
        return url.path
      }
      let parent = url.deletingLastPathComponent()
      if parent.path == url.path { return nil }
      url = parent
    }
  }

  func run() throws {
    let files = try NotebookRunner.expand(paths)
    guard !files.isEmpty else {
      throw ValidationError("no notebooks found in \(paths.joined(separator: ", "))")
    }
    var failures = [String]()
    for file in files {
      let folder = (file as NSString).deletingLastPathComponent
      guard
        let root = packageRoot
          ?? Self.findPackageRoot(from: folder.isEmpty ? "." : folder)
          ?? Self.findPackageRoot(from: FileManager.default.currentDirectoryPath)
      else {
        throw ValidationError(
          "cannot find the unlearn package (Package.swift) above \(file); pass --package-root")
      }
      do {
        let changed = try NotebookRunner(packageRoot: root).run(notebook: file, check: check)
        if check && changed {
          failures.append(
            "\(file): output differs from the committed notebook (run `unlearn notebook \(file)` and review the diff)"
          )
        } else {
          FileHandle.standardError.write(
            Data("notebook: \(file): \(check ? "ok" : (changed ? "updated" : "unchanged"))\n".utf8))
        }
      } catch let error as NotebookError {
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

struct NotebookError: Error, CustomStringConvertible {
  var description: String
}

/// Extracts, compiles, runs and re-renders one markdown notebook.
struct NotebookRunner {
  static let outputBegin = "<!-- output -->"
  static let outputEnd = "<!-- end output -->"
  static let blockMarker = "\u{1E}unlearn-notebook-block "

  var packageRoot: String

  static func expand(_ paths: [String]) throws -> [String] {
    var out = [String]()
    for path in paths {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ValidationError("\(path): no such file or folder")
      }
      if isDirectory.boolValue {
        let entries = try FileManager.default.contentsOfDirectory(atPath: path).filter {
          $0.hasSuffix(".md") && $0 != "README.md"
        }.sorted()
        out += entries.map { (path as NSString).appendingPathComponent($0) }
      } else {
        out.append(path)
      }
    }
    return out
  }

  /// A parsed notebook: text segments interleaved with code blocks (with their old outputs).
  struct Parsed {
    enum Segment { case text(String), code(String, oldOutput: String?) }
    var segments: [Segment]
    var codeBlocks: [String] {
      segments.compactMap { if case .code(let c, _) = $0 { return c } else { return nil } }
    }
  }

  static func parse(_ markdown: String) -> Parsed {
    var segments = [Parsed.Segment]()
    var lines = markdown.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    var text = [String]()
    var i = 0
    while i < lines.count {
      guard lines[i].trimmingCharacters(in: .whitespaces) == "```swift" else {
        text.append(lines[i])
        i += 1
        continue
      }
      text.append(lines[i])
      segments.append(.text(text.joined(separator: "\n")))
      text = []
      var code = [String]()
      i += 1
      while i < lines.count && lines[i].trimmingCharacters(in: .whitespaces) != "```" {
        code.append(lines[i])
        i += 1
      }
      i += 1  // the closing fence
      // An existing output section (after optional blank lines) belongs to this block.
      var j = i
      while j < lines.count && lines[j].trimmingCharacters(in: .whitespaces).isEmpty { j += 1 }
      var old: String?
      if j < lines.count && lines[j] == outputBegin {
        var k = j + 1
        var body = [String]()
        while k < lines.count && lines[k] != outputEnd {
          body.append(lines[k])
          k += 1
        }
        old = body.joined(separator: "\n")
        i = k + 1
      }
      segments.append(.code(code.joined(separator: "\n"), oldOutput: old))
    }
    segments.append(.text(text.joined(separator: "\n")))
    return Parsed(segments: segments)
  }

  /// Re-renders the notebook with fresh outputs: each code block is followed by a blank line
  /// and its output section.
  static func render(_ parsed: Parsed, outputs: [String]) -> String {
    var lines = [String]()
    var block = 0
    for segment in parsed.segments {
      switch segment {
      case .text(let t):
        lines.append(t)
      case .code(let code, _):
        lines.append(code)
        lines.append("```")
        lines.append("")
        lines.append(outputBegin)
        lines.append("```text")
        if !outputs[block].isEmpty { lines.append(outputs[block]) }
        lines.append("```")
        lines.append(outputEnd)
        block += 1
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The output as committed, for comparison: the text inside the ```text fence.
  static func committedOutput(_ old: String?) -> String? {
    guard let old else { return nil }
    var lines = old.components(separatedBy: "\n")
    if lines.first == "```text" { lines.removeFirst() }
    if lines.last == "```" { lines.removeLast() }
    return lines.joined(separator: "\n")
  }

  static func withoutTimings(_ s: String) -> String {
    s.components(separatedBy: "\n").filter { !$0.hasPrefix("[time]") }.joined(separator: "\n")
  }

  /// Runs one notebook; returns whether its outputs changed. Writes the notebook unless `check`.
  func run(notebook path: String, check: Bool) throws -> Bool {
    guard let markdown = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw NotebookError(description: "\(path): cannot read the notebook")
    }
    let parsed = Self.parse(markdown)
    let blocks = parsed.codeBlocks
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let root = URL(fileURLWithPath: packageRoot).standardizedFileURL.path
    // One generated package holds every notebook as its own executable target, so the shared
    // scratch folder always belongs to the same package (SwiftPM's build cache is keyed to the
    // package; two packages sharing a scratch folder can run a stale binary) and the Unlearning
    // library is compiled once for all notebooks.
    let packageDir = "\(root)/.build/notebooks/package"
    let target = "Notebook_" + Self.sanitize(name)
    let sourcesDir = "\(packageDir)/Sources"
    try FileManager.default.createDirectory(
      atPath: "\(sourcesDir)/\(target)", withIntermediateDirectories: true)
    var program = "import Foundation\nimport Unlearning\nsetvbuf(stdout, nil, _IOLBF, 0)\n"
    for (k, block) in blocks.enumerated() {
      program += "print(\"\\u{1E}unlearn-notebook-block \(k)\")\n"
      program += "// MARK: block \(k + 1) (\(path))\n" + block + "\n"
    }
    try Self.writeIfChanged(program, to: "\(sourcesDir)/\(target)/main.swift")
    let targets = try FileManager.default.contentsOfDirectory(atPath: sourcesDir)
      .filter {
        $0.hasPrefix("Notebook_")
          && FileManager.default.fileExists(atPath: "\(sourcesDir)/\($0)/main.swift")
      }
      .sorted()
    let targetList = targets.map {
      """
          .executableTarget(
            name: "\($0)",
            dependencies: [.product(name: "Unlearning", package: "unlearn")],
            swiftSettings: [.swiftLanguageMode(.v5)]
          )
      """
    }.joined(separator: ",\n")
    let manifest = """
      // swift-tools-version:6.0
      // Generated by `unlearn notebook`: one executable target per notebook. Do not edit.
      import PackageDescription
      let package = Package(
        name: "Notebooks",
        dependencies: [.package(name: "unlearn", path: "\(root)")],
        targets: [
      \(targetList)
        ]
      )

      """
    try Self.writeIfChanged(manifest, to: "\(packageDir)/Package.swift")

    FileHandle.standardError.write(Data("notebook: building \(path)\n".utf8))
    let scratch = "\(root)/.build/notebooks-scratch"
    let build = try Self.execute(
      [
        "swift", "build", "-c", "release", "--package-path", packageDir, "--scratch-path", scratch,
        "--product", target,
      ],
      directory: root)
    guard build.status == 0 else {
      let errors = build.output.components(separatedBy: "\n").filter { $0.contains("error:") }
        .prefix(10)
      throw NotebookError(
        description: "\(path): the notebook does not compile:\n" + errors.joined(separator: "\n"))
    }
    FileHandle.standardError.write(Data("notebook: running \(path)\n".utf8))
    let notebookDir = (path as NSString).deletingLastPathComponent
    let runResult = try Self.execute(
      ["\(scratch)/release/\(target)"], directory: notebookDir.isEmpty ? "." : notebookDir,
      separateStderr: true)
    guard runResult.status == 0 else {
      throw NotebookError(
        description:
          "\(path): the notebook failed (exit \(runResult.status)):\n\(runResult.errorOutput.suffix(2000))"
      )
    }
    var outputs = [String](repeating: "", count: blocks.count)
    var current = -1
    var collected = [String]()
    for line in runResult.output.components(separatedBy: "\n") {
      if line.hasPrefix(Self.blockMarker), let k = Int(line.dropFirst(Self.blockMarker.count)) {
        guard k >= 0, k < blocks.count else {
          throw NotebookError(
            description:
              "\(path): the program printed block marker \(k) but the notebook has \(blocks.count) blocks (stale build?)"
          )
        }
        if current >= 0 { outputs[current] = collected.joined(separator: "\n") }
        current = k
        collected = []
      } else if current >= 0 {
        collected.append(line)
      }
    }
    if current >= 0 { outputs[current] = collected.joined(separator: "\n") }
    outputs = outputs.map { $0.trimmingCharacters(in: .newlines) }

    var changed = false
    var k = 0
    for segment in parsed.segments {
      if case .code(_, let old) = segment {
        let committed = Self.committedOutput(old)
        if committed.map(Self.withoutTimings) != Self.withoutTimings(outputs[k]) { changed = true }
        k += 1
      }
    }
    if !check {
      let rendered = Self.render(parsed, outputs: outputs)
      if rendered != markdown {
        try Data(rendered.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
      }
    }
    return changed
  }

  /// `s` with every character that cannot appear in a Swift module name replaced by `_`.
  static func sanitize(_ s: String) -> String {
    String(s.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
  }

  static func writeIfChanged(_ text: String, to path: String) throws {
    if (try? String(contentsOfFile: path, encoding: .utf8)) == text { return }
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  struct ProcessResult {
    var status: Int32
    var output: String
    var errorOutput: String
  }

  static func execute(_ arguments: [String], directory: String, separateStderr: Bool = false) throws
    -> ProcessResult
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe()
    process.standardOutput = out
    // The program's stderr (progress, errors) goes straight to ours; build logs are captured.
    process.standardError = separateStderr ? FileHandle.standardError : out
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
      status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
      errorOutput: separateStderr ? "(see the messages above)" : "")
  }
}
