import Foundation
import Testing
import Unlearning

@Suite("Perturbation source")
struct PerturbationSourceTests {
  /// Checks mean 0, standard deviation `sigma` and the one-sigma mass of normal draws, each with
  /// a threshold of 6 standard errors.
  static func expectNormal(_ x: [Double], sigma: Double, _ label: String) {
    let n = Double(x.count)
    let mean = x.reduce(0, +) / n
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    #expect(abs(mean) <= 6 * sigma / n.squareRoot(), "\(label): mean \(mean)")
    // Var(sample variance) = 2 sigma^4 / (n - 1) for normal data.
    let varianceError = sigma * sigma * (2 / (n - 1)).squareRoot()
    #expect(
      abs(variance - sigma * sigma) <= 6 * varianceError,
      "\(label): std \(variance.squareRoot()) vs \(sigma)")
    let p = 0.682_689_492_137_085_9
    let inside = Double(x.filter { abs($0) <= sigma }.count) / n
    #expect(
      abs(inside - p) <= 6 * (p * (1 - p) / n).squareRoot(), "\(label): 1-sigma mass \(inside)")
  }

  @Test("system draws: mean ~0, std ~sigma, one-sigma mass ~68.3% (100k, 6 standard errors)")
  func systemStatistics() {
    let sigma = 2.5
    let x = CertifiedRemoval.PerturbationSource.system.drawPerturbation(
      count: 100_000, sigma: sigma, draw: 0)
    #expect(x.count == 100_000)
    #expect(x.allSatisfy { $0.isFinite })
    Self.expectNormal(x, sigma: sigma, "system")
  }

  @Test("system draws differ between calls, whatever the draw index")
  func systemDrawsDiffer() {
    let a = CertifiedRemoval.PerturbationSource.system.drawPerturbation(
      count: 64, sigma: 1, draw: 0)
    let b = CertifiedRemoval.PerturbationSource.system.drawPerturbation(
      count: 64, sigma: 1, draw: 0)
    let c = CertifiedRemoval.PerturbationSource.system.drawPerturbation(
      count: 64, sigma: 1, draw: 3)
    #expect(a != b)
    #expect(a != c)
    #expect(Set(a).count == 64)
  }

  @Test("reproducible draws are deterministic per (seed, draw) and differ across draws")
  func reproducibleDeterminism() {
    let source = CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 42)
    let first = source.drawPerturbation(count: 33, sigma: 0.5, draw: 0)
    #expect(first == source.drawPerturbation(count: 33, sigma: 0.5, draw: 0))
    var draws = [[Double]]()
    for draw in 0..<6 {
      let x = source.drawPerturbation(count: 33, sigma: 0.5, draw: draw)
      #expect(x == source.drawPerturbation(count: 33, sigma: 0.5, draw: draw))
      draws.append(x)
    }
    for i in draws.indices {
      for j in draws.indices where j > i {
        #expect(draws[i] != draws[j], "draws \(i) and \(j) coincide")
        #expect(Set(draws[i]).isDisjoint(with: draws[j]))
      }
    }
    let otherSeed = CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 43)
    #expect(otherSeed.drawPerturbation(count: 33, sigma: 0.5, draw: 0) != first)
    #expect(
      otherSeed.drawPerturbation(count: 33, sigma: 0.5, draw: 1)
        != source.drawPerturbation(count: 33, sigma: 0.5, draw: 1))
  }

  @Test("reproducible draw 0 is SeededGenerator(seed:).normalVector (earlier results unchanged)")
  func reproducibleDrawZeroMatchesSeededGenerator() {
    var generator = SeededGenerator(seed: 7)
    let expected = generator.normalVector(count: 50, standardDeviation: 3)
    let x = CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 7).drawPerturbation(
      count: 50, sigma: 3, draw: 0)
    #expect(x == expected)
  }

  @Test("reproducible draws are normal too (draw 5, 100k)")
  func reproducibleStatistics() {
    let x = CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 1).drawPerturbation(
      count: 100_000, sigma: 0.1, draw: 5)
    Self.expectNormal(x, sigma: 0.1, "reproducible")
  }

  @Test("lengths: empty, odd, even; sigma 0 gives zeros")
  func lengths() {
    for source in [CertifiedRemoval.PerturbationSource.system, .reproducibleNotPrivate(seed: 3)] {
      #expect(source.drawPerturbation(count: 0, sigma: 1, draw: 0).isEmpty)
      #expect(source.drawPerturbation(count: 1, sigma: 1, draw: 0).count == 1)
      #expect(source.drawPerturbation(count: 7, sigma: 1, draw: 2).count == 7)
      #expect(source.drawPerturbation(count: 8, sigma: 0, draw: 1).allSatisfy { $0 == 0 })
    }
  }

  @Test("only the system source is private; both round-trip through JSON")
  func privacyAndCoding() throws {
    #expect(CertifiedRemoval.PerturbationSource.system.isPrivate)
    #expect(!CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 0).isPrivate)
    for source in [CertifiedRemoval.PerturbationSource.system, .reproducibleNotPrivate(seed: .max)]
    {
      let data = try JSONEncoder().encode(source)
      #expect(
        try JSONDecoder().decode(CertifiedRemoval.PerturbationSource.self, from: data) == source)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let text = String(
      decoding: try encoder.encode(
        CertifiedRemoval.PerturbationSource.reproducibleNotPrivate(seed: 7)),
      as: UTF8.self)
    #expect(text == #"{"reproducibleNotPrivate":{"seed":7}}"#)
  }
}
