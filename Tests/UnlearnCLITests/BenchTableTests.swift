import Testing
import UnlearnBench

@Suite("Bench table")
struct BenchTableTests {
  @Test("every timing row shows its runs' spread next to the median; CSV and JSON carry it")
  func spreadColumn() throws {
    let rows = [
      BenchRow(
        group: "linalg", name: "gemm", medianSeconds: 0.0180, minimumSeconds: 0.0173,
        maximumSeconds: 0.0192, samples: 5),
      BenchRow(
        group: "certified", name: "retrain", medianSeconds: 1.5, minimumSeconds: 1.25,
        maximumSeconds: 2.5, samples: 3),
      BenchRow(
        group: "certified", name: "old report", medianSeconds: 2e-6, minimumSeconds: 1.5e-6,
        samples: 3),
      BenchRow(
        group: "amortised", name: "ratio only", medianSeconds: 0, minimumSeconds: 0, samples: 1,
        figures: ["ratio": 2]),
    ]
    let report = BenchReport(threads: 1, repeats: 5, rows: rows)
    let lines = report.table().split(separator: "\n").map(String.init)
    let header = try #require(lines.first { $0.hasPrefix("group") })
    #expect(header.contains("median") && header.contains("min-max"))
    #expect(lines.contains { $0.hasPrefix("linalg") && $0.contains("17.30-19.20 ms") })
    #expect(lines.contains { $0.hasPrefix("certified") && $0.contains("1.250-2.500 s") })
    #expect(lines.contains { $0.contains("old report") && $0.contains(">= 1.5 us") })
    #expect(lines.contains { $0.contains("ratio only") && $0.contains(" - ") })
    #expect(lines.dropFirst().allSatisfy { $0.count <= 80 })

    let csv = report.csv().split(separator: "\n").map(String.init)
    #expect(csv[0].hasPrefix("group,measurement,median_s,min_s,max_s,runs"))
    #expect(csv[1].hasPrefix("linalg,gemm,0.018,0.0173,0.0192,5"))
    #expect(formatRange(2e-7, 9e-7) == "200-900 ns")
  }

  @Test("timeMedian reports the slowest run as the top of the spread")
  func timeMedianSpread() {
    var calls = 0
    let t = timeMedian(repeats: 3, warmup: false) { calls += 1 }
    #expect(calls == 3)
    #expect(t.minimum <= t.median && t.median <= t.maximum)
  }
}
