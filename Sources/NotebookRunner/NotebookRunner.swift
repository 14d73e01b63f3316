import Foundation

/// A notebook problem, as one line (or a line and the compiler's errors).
public struct NotebookError: Error, Equatable, CustomStringConvertible {
  /// What went wrong, starting with the notebook or folder it concerns.
  public var description: String

  /// An error with this message.
  public init(_ description: String) { self.description = description }
}

/// Extracts, compiles, runs and re-renders markdown notebooks, and checks their outputs.
///
/// A notebook is a markdown file whose ```` ```swift ```` blocks are compiled together, in
/// order, as one program against the Unlearning library; each block's standard output is
/// written below it between `<!-- output -->` and `<!-- end output -->`. Lines starting with
/// `[time]` are timings, which checks ignore.
///
/// Checking compares each block's committed output with a fresh one under the notebook's
/// ``OutputTolerance``, declared in its prose with HTML comments (invisible when rendered):
///
/// ```
/// <!-- check: rtol=1e-6 atol=1e-8 -->       the whole notebook (at most once)
/// <!-- check next: rtol=1e-3 atol=1e-6 -->  the next swift block only
/// <!-- check next: exact -->                the next swift block, as text
/// ```
///
/// A notebook without a `check:` directive must reproduce its outputs as text.
public struct NotebookRunner: Sendable {
  /// The line that opens a block's output section.
  public static let outputBegin = "<!-- output -->"
  /// The line that closes a block's output section.
  public static let outputEnd = "<!-- end output -->"
  static let blockMarker = "\u{1E}unlearn-notebook-block "
  static let notebookDirective = "<!-- check:"
  static let blockDirective = "<!-- check next:"

  /// The root of the unlearn package the notebooks are compiled against.
  public var packageRoot: String

  /// A runner compiling against the package at `packageRoot` (see ``validatePackageRoot(_:)``).
  public init(packageRoot: String) { self.packageRoot = packageRoot }

  /// The outcome of one notebook.
  public struct Outcome: Sendable, Equatable {
    /// Per block (0-based index) whose output does not match the committed one: why.
    public var mismatches: [(block: Int, mismatch: OutputComparison.Mismatch)]
    /// Whether the notebook file was rewritten (never when checking).
    public var wrote: Bool

    /// Whether every block's output matches the committed one.
    public var matches: Bool { mismatches.isEmpty }

    /// Compares block indices and mismatches.
    public static func == (lhs: Outcome, rhs: Outcome) -> Bool {
      lhs.wrote == rhs.wrote && lhs.mismatches.map(\.block) == rhs.mismatches.map(\.block)
        && lhs.mismatches.map(\.mismatch) == rhs.mismatches.map(\.mismatch)
    }
  }

  /// The notebooks named by `paths`: files as given, and the `*.md` files (but `README.md`) of
  /// folders, sorted.
  ///
  /// - Throws: ``NotebookError`` for a path that does not exist.
  public static func expand(_ paths: [String]) throws(NotebookError) -> [String] {
    var out = [String]()
    for path in paths {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw NotebookError("\(path): no such file or folder")
      }
      if isDirectory.boolValue {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
          throw NotebookError("\(path): cannot list the folder")
        }
        out +=
          entries.filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted()
          .map { (path as NSString).appendingPathComponent($0) }
      } else {
        out.append(path)
      }
    }
    return out
  }

  /// Whether `folder` holds a Package.swift that declares the unlearn package.
  public static func isPackageRoot(_ folder: String) -> Bool {
    let manifest = (folder as NSString).appendingPathComponent("Package.swift")
    guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else { return false }
    return text.contains("name: \"unlearn\"")
  }

  /// The nearest folder at or above `start` that ``isPackageRoot(_:)``.
  public static func findPackageRoot(from start: String) -> String? {
    var url = URL(fileURLWithPath: start).standardizedFileURL
    while true {
      if isPackageRoot(url.path) { return url.path }
      let parent = url.deletingLastPathComponent()
      if parent.path == url.path { return nil }
      url = parent
    }
  }

  /// Checks a package root given by the user, before anything is created or built.
  ///
  /// - Throws: ``NotebookError`` (one line) when `path` does not exist, is not a folder, or
  ///   holds no Package.swift of the unlearn package.
  public static func validatePackageRoot(_ path: String) throws(NotebookError) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw NotebookError("--package-root \(path): no such folder")
    }
    guard isDirectory.boolValue else {
      throw NotebookError("--package-root \(path): not a folder")
    }
    guard isPackageRoot(path) else {
      throw NotebookError(
        "--package-root \(path): no Package.swift of the unlearn package in this folder")
    }
  }

  /// A parsed notebook: text segments interleaved with code blocks (with their old outputs).
  public struct Parsed: Sendable {
    /// A run of markdown, or a swift block with the output section that followed it.
    public enum Segment: Sendable {
      /// Markdown text (ending with a block's opening fence, when one follows).
      case text(String)
      /// The code of a block (without fences) and its committed output section, if any.
      case code(String, oldOutput: String?)
    }
    /// The segments in file order.
    public var segments: [Segment]
    /// The code of each block, in order.
    public var codeBlocks: [String] {
      segments.compactMap { if case .code(let c, _) = $0 { return c } else { return nil } }
    }
    /// The committed output of each block (the text inside its ```` ```text ```` fence), in order.
    public var committedOutputs: [String?] {
      segments.compactMap {
        if case .code(_, let old) = $0 {
          return NotebookRunner.committedOutput(old)
        } else {
          return nil
        }
      }
    }
  }

  /// Splits a notebook into text and code blocks.
  public static func parse(_ markdown: String) -> Parsed {
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

  /// The tolerance of each code block: the notebook's `<!-- check: ... -->` (exact without
  /// one), overridden for one block by a `<!-- check next: ... -->` in the text before it.
  ///
  /// - Throws: ``NotebookError`` for a malformed directive, two notebook-wide directives, or a
  ///   `check next` with no block after it.
  public static func tolerances(of parsed: Parsed) throws(NotebookError) -> [OutputTolerance] {
    var notebook: OutputTolerance?
    var pending: OutputTolerance?
    var perBlock = [OutputTolerance?]()
    for segment in parsed.segments {
      switch segment {
      case .text(let text):
        for line in text.components(separatedBy: "\n") {
          let trimmed = line.trimmingCharacters(in: .whitespaces)
          if let arguments = directiveArguments(trimmed, prefix: blockDirective) {
            guard pending == nil else {
              throw NotebookError("two `check next` directives before one block: \(trimmed)")
            }
            pending = try OutputTolerance.parse(arguments)
          } else if let arguments = directiveArguments(trimmed, prefix: notebookDirective) {
            guard notebook == nil else {
              throw NotebookError("more than one notebook-wide `check:` directive: \(trimmed)")
            }
            notebook = try OutputTolerance.parse(arguments)
          }
        }
      case .code:
        perBlock.append(pending)
        pending = nil
      }
    }
    if pending != nil {
      throw NotebookError("a `check next` directive is not followed by a swift block")
    }
    return perBlock.map { $0 ?? notebook ?? .exact }
  }

  private static func directiveArguments(_ line: String, prefix: String) -> String? {
    guard line.hasPrefix(prefix) else { return nil }
    guard line.hasSuffix("-->") else { return "" }
    return String(line.dropFirst(prefix.count).dropLast(3))
  }

  /// Re-renders the notebook with fresh outputs: each code block is followed by a blank line
  /// and its output section.
  public static func render(_ parsed: Parsed, outputs: [String]) -> String {
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

  /// Compares fresh outputs with a parsed notebook's committed ones under its tolerances.
  ///
  /// A block without a committed output mismatches at line 1.
  ///
  /// - Throws: ``NotebookError`` for a malformed check directive.
  public static func compare(_ parsed: Parsed, outputs: [String]) throws(NotebookError)
    -> [(block: Int, mismatch: OutputComparison.Mismatch)]
  {
    let tolerances = try tolerances(of: parsed)
    var mismatches = [(block: Int, mismatch: OutputComparison.Mismatch)]()
    for (block, committed) in parsed.committedOutputs.enumerated() {
      let fresh = block < outputs.count ? outputs[block] : ""
      guard let committed else {
        mismatches.append(
          (block, OutputComparison.Mismatch(line: 1, reason: "no committed output")))
        continue
      }
      if let mismatch = OutputComparison.mismatch(
        committed: committed, fresh: fresh, tolerance: tolerances[block])
      {
        mismatches.append((block, mismatch))
      }
    }
    return mismatches
  }

  /// Runs one notebook and compares its outputs with the committed ones; writes the notebook
  /// with the fresh outputs unless `check`.
  ///
  /// - Throws: ``NotebookError`` when the notebook cannot be read, has a malformed directive,
  ///   does not compile or fails.
  public func run(notebook path: String, check: Bool) throws(NotebookError) -> Outcome {
    guard let markdown = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw NotebookError("\(path): cannot read the notebook")
    }
    let parsed = Self.parse(markdown)
    do {
      _ = try Self.tolerances(of: parsed)
    } catch {
      throw NotebookError("\(path): \(error.description)")
    }
    let outputs = try execute(parsed, path: path)
    let mismatches: [(block: Int, mismatch: OutputComparison.Mismatch)]
    do {
      mismatches = try Self.compare(parsed, outputs: outputs)
    } catch {
      throw NotebookError("\(path): \(error.description)")
    }
    var wrote = false
    if !check {
      let rendered = Self.render(parsed, outputs: outputs)
      if rendered != markdown {
        do {
          try Data(rendered.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
          throw NotebookError("\(path): cannot write the notebook: \(error.localizedDescription)")
        }
        wrote = true
      }
    }
    return Outcome(mismatches: mismatches, wrote: wrote)
  }

  /// Builds and runs the notebook's program; returns each block's output.
  func execute(_ parsed: Parsed, path: String) throws(NotebookError) -> [String] {
    do {
      return try executeThrowing(parsed, path: path)
    } catch let error as NotebookError {
      throw error
    } catch {
      throw NotebookError("\(path): \(error.localizedDescription)")
    }
  }

  private func executeThrowing(_ parsed: Parsed, path: String) throws -> [String] {
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
        "\(path): the notebook does not compile:\n" + errors.joined(separator: "\n"))
    }
    FileHandle.standardError.write(Data("notebook: running \(path)\n".utf8))
    let notebookDir = (path as NSString).deletingLastPathComponent
    let runResult = try Self.execute(
      ["\(scratch)/release/\(target)"], directory: notebookDir.isEmpty ? "." : notebookDir,
      separateStderr: true)
    guard runResult.status == 0 else {
      throw NotebookError(
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
    return outputs.map { $0.trimmingCharacters(in: .newlines) }
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
