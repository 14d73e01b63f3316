import Foundation
import LinearAlgebra

extension Dataset {
  /// A digits-like problem for tests and benchmarks: `classCount` classes of 8 x 8 "images"
  /// (64 features in `[0, 1]`), each class a smooth random prototype (four Gaussian strokes)
  /// plus uniform pixel noise of half-width `noise`; sample `i` has class `i % classCount`.
  /// Deterministic from `seed`. Cost `O(count * 64)`.
  package static func digitsLike(
    count: Int, classCount: Int = 10, noise: Double = 0.35, seed: UInt64
  ) throws -> Dataset {
    var generator = SeededGenerator(seed: seed)
    var prototypes = [[Double]]()
    for _ in 0..<classCount {
      var image = [Double](repeating: 0, count: 64)
      for _ in 0..<4 {
        let cx = Double.random(in: 1...6, using: &generator)
        let cy = Double.random(in: 1...6, using: &generator)
        for r in 0..<8 {
          for c in 0..<8 {
            let d2 = (Double(r) - cy) * (Double(r) - cy) + (Double(c) - cx) * (Double(c) - cx)
            image[r * 8 + c] += exp(-d2 / 2.5)
          }
        }
      }
      prototypes.append(image.map { Swift.min($0, 1) })
    }
    var values = [Double](repeating: 0, count: count * 64)
    for i in 0..<count {
      let k = i % classCount
      for j in 0..<64 {
        let noisy = prototypes[k][j] + noise * Double.random(in: -1...1, using: &generator)
        values[i * 64 + j] = Swift.min(Swift.max(noisy, 0), 1)
      }
    }
    return try Dataset(
      features: Matrix(rows: count, columns: 64) { i, j in values[i * 64 + j] },
      labels: (0..<count).map { $0 % classCount }, classCount: classCount)
  }
}
