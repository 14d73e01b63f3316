import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Evaluation metrics")
struct MetricsTests {
  static func randomProbabilities(rows: Int, classes: Int, seed: UInt64) -> Matrix {
    var g = SeededGenerator(seed: seed)
    var m = Matrix(rows: rows, columns: classes) { _, _ in g.nextUniform() + 1e-3 }
    for i in 0..<rows {
      let s = m.row(i).reduce(0, +)
      for c in 0..<classes { m[i, c] /= s }
    }
    return m
  }

  @Test(arguments: [2, 10])
  func klOfADistributionWithItselfIsZeroAndPositiveOtherwise(classes: Int) {
    let p = Self.randomProbabilities(rows: 50, classes: classes, seed: 1)
    let q = Self.randomProbabilities(rows: 50, classes: classes, seed: 2)
    #expect(Metrics.meanKLDivergence(p, p) == 0)
    #expect(Metrics.meanKLDivergence(p, q) > 0)
    // Direct formula on one row.
    let one = Metrics.meanKLDivergence(p.rows(at: [0]), q.rows(at: [0]))
    let expected = (0..<classes).reduce(0.0) { $0 + p[0, $1] * log(p[0, $1] / q[0, $1]) }
    #expect(abs(one - expected) <= 1e-14)
  }

  @Test func jensenShannonIsBoundedByLn2AndReachesItForDisjointSupport() {
    let p = Self.randomProbabilities(rows: 30, classes: 4, seed: 3)
    let q = Self.randomProbabilities(rows: 30, classes: 4, seed: 4)
    let js = Metrics.meanJensenShannonDivergence(p, q)
    #expect(js > 0 && js <= log(2))
    let a = Matrix(rowArrays: [[1, 0]])
    let b = Matrix(rowArrays: [[0, 1]])
    #expect(abs(Metrics.meanJensenShannonDivergence(a, b) - log(2)) <= 1e-15)
    #expect(Metrics.meanJensenShannonDivergence(p, p) == 0)
  }

  @Test func aucOfPerfectSeparatorIsOneAndTiesCountHalf() {
    #expect(Metrics.rocAUC(positives: [3, 4, 5], negatives: [0, 1, 2]) == 1)
    #expect(Metrics.rocAUC(positives: [0, 1], negatives: [2, 3]) == 0)
    // All tied: every pair counts 1/2.
    #expect(Metrics.rocAUC(positives: [1, 1, 1], negatives: [1, 1]) == 0.5)
    // One tie among four pairs: (1 + 1 + 0.5 + 0) / 4.
    #expect(Metrics.rocAUC(positives: [2, 1], negatives: [1, 0]) == 0.875)
  }

  @Test func aucAgreesWithPairCountingOnRandomScores() {
    var g = SeededGenerator(seed: 5)
    // Rounded scores produce many ties.
    let pos = (0..<200).map { _ in (g.nextNormal() * 3).rounded() }
    let neg = (0..<150).map { _ in (g.nextNormal() * 3).rounded() }
    var pairs = 0.0
    for a in pos { for b in neg { pairs += a > b ? 1 : (a == b ? 0.5 : 0) } }
    #expect(
      abs(Metrics.rocAUC(positives: pos, negatives: neg) - pairs / Double(200 * 150)) <= 1e-12)
  }

  @Test func aucOfIdenticalDistributionsIsNearOneHalf() {
    var g = SeededGenerator(seed: 6)
    let pos = (0..<4000).map { _ in g.nextNormal() }
    let neg = (0..<4000).map { _ in g.nextNormal() }
    #expect(abs(Metrics.rocAUC(positives: pos, negatives: neg) - 0.5) < 0.02)
  }

  @Test func relativeDistanceAndAccuracy() {
    #expect(
      Metrics.relativeDistance(unlearned: [1, 1], retrained: [1, 1], original: [0, 0]) == 0)
    #expect(
      Metrics.relativeDistance(unlearned: [0, 0], retrained: [3, 4], original: [0, 0]) == 1)
    #expect(
      Metrics.relativeDistance(unlearned: [3, 4], retrained: [3, 4], original: [3, 4]) == 0)
    #expect(Metrics.accuracy(predictions: [0, 1, 1, 0], labels: [0, 1, 0, 0]) == 0.75)
  }

  @Test func correlations() {
    let x = [1.0, 2, 3, 4, 5]
    #expect(abs(Metrics.pearson(x, x.map { 2 * $0 + 1 }) - 1) <= 1e-15)
    #expect(abs(Metrics.pearson(x, x.map { -$0 }) + 1) <= 1e-15)
    // Monotone but nonlinear: Spearman 1, Pearson below 1.
    let y = x.map { exp($0) }
    #expect(abs(Metrics.spearman(x, y) - 1) <= 1e-15)
    #expect(Metrics.pearson(x, y) < 0.99)
    #expect(Metrics.ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
  }
}
