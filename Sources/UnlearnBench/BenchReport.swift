import Foundation
import Unlearning

/// One benchmark measurement.
package struct BenchRow: Codable {
  package var group: String
  package var name: String
  /// Median seconds over `samples`.
  package var medianSeconds: Double
  /// Fastest run, seconds.
  package var minimumSeconds: Double
  /// Slowest run, seconds (`nil` in reports older than this field, and for single runs of
  /// measurements that keep only their median).
  package var maximumSeconds: Double? = nil
  package var samples: Int
  /// Free-form extra figures (GFLOP/s, ratios, iterations, ...).
  package var figures: [String: Double] = [:]

  /// A measurement: times in seconds (all 0 for rows that only carry figures).
  package init(
    group: String, name: String, medianSeconds: Double, minimumSeconds: Double,
    maximumSeconds: Double? = nil, samples: Int, figures: [String: Double] = [:]
  ) {
    self.group = group
    self.name = name
    self.medianSeconds = medianSeconds
    self.minimumSeconds = minimumSeconds
    self.maximumSeconds = maximumSeconds
    self.samples = samples
    self.figures = figures
  }
}

package struct BenchReport: Codable {
  /// The JSON schema of this report.
  package var schema = "unlearn.bench/2"
  package var threads: Int
  package var repeats: Int
  package var rows: [BenchRow]
  /// OpenBLAS's kernel family (e.g. `SkylakeX`).
  package var blasKernels = BLASInfo.coreName
  /// The machine the report was measured on.
  package var machine = MachineInfo.current
  /// The BLAS library: kernel family and threads.
  package var blas = BLASDescription(coreName: BLASInfo.coreName, threads: BLASInfo.threadCount)
  /// The git commit of the working tree (`nil` outside a git checkout).
  package var gitCommit: String? = MachineInfo.gitCommit()
  /// UTC time the report was made (ISO 8601).
  package var date = ISO8601DateFormatter().string(from: Date())

  /// An empty report.
  package init(threads: Int, repeats: Int, rows: [BenchRow]) {
    self.threads = threads
    self.repeats = repeats
    self.rows = rows
  }

  /// The text table: one line per measurement (median, and the spread of the runs as
  /// `min-max` with units; `-` for rows that are not timings), its figures on an indented line
  /// below, wrapped to 80 columns.
  package func table() -> String {
    var out =
      "unlearn bench  (OpenBLAS \(blas.coreName) kernels, threads: \(blas.threads), median of \(repeats) runs; \(machine.cpu), \(machine.cores) cores\(gitCommit.map { ", commit " + $0.prefix(10) } ?? ""))\n"
    let header = ["group", "measurement", "median", "min-max", "runs"]
    var lines = [header]
    for r in rows {
      let isTiming = r.medianSeconds > 0 || r.minimumSeconds > 0
      lines.append([
        r.group, r.name, isTiming ? formatSeconds(r.medianSeconds) : "-",
        isTiming ? formatRange(r.minimumSeconds, r.maximumSeconds) : "-", String(r.samples),
      ])
    }
    let rendered = renderTable(lines).split(separator: "\n", omittingEmptySubsequences: false)
    out += rendered.prefix(2).joined(separator: "\n") + "\n"
    for (i, r) in rows.enumerated() {
      out += rendered[i + 2] + "\n"
      let figures = r.figures.sorted { $0.key < $1.key }.map {
        "\($0.key) \(formatFigure($0.value))"
      }
      for line in wrap(figures, width: 80, indent: "    ") { out += line + "\n" }
    }
    return out
  }

  /// The measurements as CSV: group, measurement, median, minimum and maximum seconds, runs,
  /// then one column per figure name (empty where a row has no such figure).
  package func csv() -> String {
    let names = Array(Set(rows.flatMap { $0.figures.keys })).sorted()
    var lines = [["group", "measurement", "median_s", "min_s", "max_s", "runs"] + names]
    for r in rows {
      let isTiming = r.medianSeconds > 0 || r.minimumSeconds > 0
      lines.append(
        [
          r.group, r.name, isTiming ? String(r.medianSeconds) : "",
          isTiming ? String(r.minimumSeconds) : "",
          isTiming ? r.maximumSeconds.map { String($0) } ?? "" : "", String(r.samples),
        ] + names.map { r.figures[$0].map { String($0) } ?? "" })
    }
    return renderCSV(lines)
  }
}

/// Joins `items` with two spaces into lines of at most `width` columns (an item longer than
/// that gets a line of its own), each line starting with `indent`.
func wrap(_ items: [String], width: Int, indent: String) -> [String] {
  var lines = [String]()
  var current = ""
  for item in items {
    if !current.isEmpty && indent.count + current.count + 2 + item.count > width {
      lines.append(indent + current)
      current = ""
    }
    current += (current.isEmpty ? "" : "  ") + item
  }
  if !current.isEmpty { lines.append(indent + current) }
  return lines
}

/// The BLAS library a report was measured with.
package struct BLASDescription: Codable {
  /// OpenBLAS's kernel family (e.g. `SkylakeX`).
  package var coreName: String
  /// Threads of level-3 calls.
  package var threads: Int
}

/// The machine a benchmark ran on.
package struct MachineInfo: Codable {
  /// The CPU model name (`/proc/cpuinfo`), or `"unknown"`.
  package var cpu: String
  /// Logical cores the process may use.
  package var cores: Int
  /// Physical memory in bytes.
  package var memoryBytes: UInt64
  /// The operating system's version string.
  package var operatingSystem: String

  /// This machine.
  package static var current: MachineInfo {
    let info = ProcessInfo.processInfo
    var cpu = "unknown"
    if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let colon = line.firstIndex(of: ":")
    {
      cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return MachineInfo(
      cpu: cpu, cores: info.activeProcessorCount, memoryBytes: info.physicalMemory,
      operatingSystem: info.operatingSystemVersionString)
  }

  /// `git rev-parse HEAD` in the working directory, or `nil` when git or a checkout is missing.
  package static func gitCommit() -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    let commit = String(decoding: data, as: UTF8.self).trimmingCharacters(
      in: .whitespacesAndNewlines)
    return commit.isEmpty ? nil : commit
  }
}

/// Times `body` `repeats` times after one warm-up and returns the median, fastest and slowest
/// run in seconds.
package func timeMedian(repeats: Int, warmup: Bool = true, _ body: () throws -> Void) rethrows -> (
  median: Double, minimum: Double, maximum: Double
) {
  if warmup { try body() }
  var samples = [Double]()
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
  }
  samples.sort()
  let mid = samples.count / 2
  let median = samples.count % 2 == 1 ? samples[mid] : 0.5 * (samples[mid - 1] + samples[mid])
  return (median, samples[0], samples[samples.count - 1])
}

/// The spread of a measurement's runs, `min-max` in the unit of the larger end
/// (`17.30-19.22 ms`); the minimum alone (`>= 17.30 ms`) when the maximum is unknown.
package func formatRange(_ minimum: Double, _ maximum: Double?) -> String {
  guard let maximum, minimum.isFinite, maximum.isFinite else {
    return ">= " + formatSeconds(minimum)
  }
  let (scale, unit, digits): (Double, String, Int) =
    maximum >= 1
    ? (1, "s", 3)
    : maximum >= 1e-3 ? (1e3, "ms", 2) : maximum >= 1e-6 ? (1e6, "us", 1) : (1e9, "ns", 0)
  let format = "%.\(digits)f-%.\(digits)f \(unit)"
  return String(format: format, minimum * scale, maximum * scale)
}

/// Seconds with a unit: `1.234 s`, `17.3 ms`, `322.9 us`, `850 ns`.
package func formatSeconds(_ s: Double) -> String {
  if s.isNaN { return "nan" }
  if s >= 1 { return String(format: "%.3f s", s) }
  if s >= 1e-3 { return String(format: "%.2f ms", s * 1e3) }
  if s >= 1e-6 { return String(format: "%.1f us", s * 1e6) }
  return String(format: "%.0f ns", s * 1e9)
}

package func formatFigure(_ x: Double) -> String {
  if x == x.rounded() && abs(x) < 1e9 { return String(Int(x)) }
  if abs(x) >= 0.01 && abs(x) < 1e5 { return String(format: "%.3g", x) }
  return String(format: "%.3e", x)
}

package enum LinearAlgebraBench {
  package static func run(repeats: Int, into report: inout BenchReport) throws {
    func progress(_ s: String) { FileHandle.standardError.write(Data("bench: \(s)\n".utf8)) }

    progress("GEMM 1024 x 1024")
    let n = 1024
    let a = TestMatrices.gaussian(rows: n, columns: n, seed: 1)
    let b = TestMatrices.gaussian(rows: n, columns: n, seed: 2)
    var c = Matrix(rows: n, columns: n)
    let gemm = timeMedian(repeats: repeats) { Matrix.gemm(a, b, into: &c) }
    let gemmRate = 2 * pow(Double(n), 3) / gemm.median / 1e9
    report.rows.append(
      BenchRow(
        group: "linalg", name: "gemm 1024x1024x1024", medianSeconds: gemm.median,
        minimumSeconds: gemm.minimum, maximumSeconds: gemm.maximum, samples: repeats,
        figures: ["GFLOP/s": gemmRate]))

    progress("weighted Gram 12000 x 784")
    let x = TestMatrices.gaussian(rows: 12000, columns: 784, seed: 3)
    var g = SeededGenerator(seed: 4)
    let w = (0..<12000).map { _ in g.nextUniform() * 0.25 }
    var gram = Matrix(rows: 0, columns: 0)
    let gramTime = timeMedian(repeats: repeats) { gram = x.weightedGram(weights: w) }
    // syrk does n d^2 useful flops (half of the equivalent gemm's 2 n d^2).
    let gramRate = 12000.0 * 784 * 784 / gramTime.median / 1e9
    report.rows.append(
      BenchRow(
        group: "linalg", name: "weighted Gram X^T diag(w) X, 12000x784",
        medianSeconds: gramTime.median, minimumSeconds: gramTime.minimum,
        maximumSeconds: gramTime.maximum, samples: repeats,
        figures: ["GFLOP/s": gramRate, "ratio to gemm rate": gramRate / gemmRate]))

    progress("Cholesky 784")
    gram.addToDiagonal(12.0)
    var chol = try Cholesky(gram)
    let cholTime = try timeMedian(repeats: repeats) { chol = try Cholesky(gram) }
    report.rows.append(
      BenchRow(
        group: "linalg", name: "Cholesky dpotrf d=784", medianSeconds: cholTime.median,
        minimumSeconds: cholTime.minimum, maximumSeconds: cholTime.maximum, samples: repeats,
        figures: ["GFLOP/s": pow(784.0, 3) / 3 / cholTime.median / 1e9]))

    let rhs = x.row(0)
    let solveTime = timeMedian(repeats: max(repeats, 20)) { _ = chol.solve(rhs) }
    report.rows.append(
      BenchRow(
        group: "linalg", name: "Cholesky solve (1 rhs) d=784", medianSeconds: solveTime.median,
        minimumSeconds: solveTime.minimum, maximumSeconds: solveTime.maximum,
        samples: max(repeats, 20)))

    let row = x.row(1).scaled(by: 0.05)
    var updated = chol
    let downTime = try timeMedian(repeats: max(repeats, 20), warmup: false) {
      updated.update(adding: row)
      try updated.downdate(removing: row)
    }
    report.rows.append(
      BenchRow(
        group: "linalg", name: "rank-1 update + downdate d=784", medianSeconds: downTime.median,
        minimumSeconds: downTime.minimum, maximumSeconds: downTime.maximum,
        samples: max(repeats, 20)))
  }
}

/// Seeded random matrices for benchmarks.
package enum TestMatrices {
  package static func gaussian(rows: Int, columns: Int, seed: UInt64) -> Matrix {
    var g = SeededGenerator(seed: seed)
    return Matrix(rows: rows, columns: columns, elements: g.normalVector(count: rows * columns))
  }
}

/// Loads Fashion-MNIST classes 0 vs 6 (12,000 x 784, rows L2-normalised) for benchmarks.
package func fashionMNISTPair() throws -> Dataset {
  try Scenario.FashionMNIST.load(split: .train, classes: [0, 6], normalizeRows: true)
}

package func benchProgress(_ s: String) {
  FileHandle.standardError.write(Data("bench: \(s)\n".utf8))
}

package enum TrainingBench {
  package static func run(repeats: Int, into report: inout BenchReport) throws {
    benchProgress("training logistic regression on Fashion-MNIST 0 vs 6")
    let data = try fashionMNISTPair()
    let model = LogisticRegression(featureCount: data.featureCount)
    for lambda in [1e-4, 1e-3] {
      let objective = Objective(
        model: model, features: data.features, targets: data.targets, regularization: lambda)
      let trainers: [(String, any Trainer)] = [
        ("Newton", Training.Newton(gradientTolerance: 1e-8)),
        ("L-BFGS", Training.LBFGS(gradientTolerance: 1e-8)),
      ]
      for (name, trainer) in trainers {
        var result: Training.Result?
        let t = timeMedian(repeats: repeats) { result = trainer.train(objective) }
        report.rows.append(
          BenchRow(
            group: "training", name: "\(name) logistic 12000x784 lambda=\(lambda) to 1e-8*n",
            medianSeconds: t.median, minimumSeconds: t.minimum, maximumSeconds: t.maximum,
            samples: repeats,
            figures: [
              "iterations": Double(result?.iterations ?? 0),
              "gradient norm": result?.gradientNorm ?? .nan,
              "converged": (result?.converged ?? false) ? 1 : 0,
            ]))
      }
    }
  }
}
