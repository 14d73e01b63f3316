import Testing
import TestSupport
import Unlearning

@Suite("One-vs-rest certified removal in comparisons")
struct OneVsRestComparisonTests {
  static func threeClassData(count: Int, seed: UInt64, idOffset: Int) throws -> Dataset {
    var g = SeededGenerator(seed: seed)
    let centres: [[Double]] = [[1, 0, 0.2], [0, 1, 0.2], [-0.7, -0.7, 0.2]]
    var rows = [[Double]]()
    var labels = [Int]()
    for i in 0..<count {
      let k = i % 3
      rows.append(centres[k].map { $0 + 0.4 * g.nextNormal() })
      labels.append(k)
    }
    let data = try Dataset(
      features: Matrix(rowArrays: rows), labels: labels,
      ids: (0..<count).map { SampleID($0 + idOffset) }, classCount: 3)
    return data.normalizingRows()
  }

  @Test func forgettingAClassGivesASoundCertificate() throws {
    let train = try Self.threeClassData(count: 300, seed: 1, idOffset: 0)
    let test = try Self.threeClassData(count: 150, seed: 2, idOffset: 10_000)
    let forget = train.ids.enumerated().filter { train.labels[$0.offset] == 2 }.map(\.element)
    let result = try Comparison.oneVsRestCertification(
      train: train, test: test, ids: forget, forgottenClass: 2, regularization: 1e-2,
      privacy: try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 0.5), accounting: .exactStep,
      seed: 4)
    #expect(result.heads == 3)
    #expect(result.certificate.trueResidual <= result.certificate.certifiedResidual)
    #expect(result.certificate.certifiedResidual <= result.certificate.budget)
    // Recall is reported on the forgotten class's test images. Without an intercept the head
    // of a class with no training samples left can still win the argmax on that class's
    // region (its weights point away from every other class), exactly as a one-vs-rest model
    // retrained without the class would: the oracle is retraining, checked through the
    // certificate above, not a recall of zero.
    let before = try #require(result.forgottenClassRecallBefore)
    let after = try #require(result.forgottenClassRecallAfter)
    #expect(before > 0.8 && (0...1).contains(after))
    #expect(result.testAccuracyAfter > 0.5)
  }
}
