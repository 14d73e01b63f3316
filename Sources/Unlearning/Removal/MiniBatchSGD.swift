/// Mini-batch stochastic gradient descent with heavy-ball momentum, as PyTorch's `SGD`
/// (dampening 0, no Nesterov): `u <- momentum * u + g`, `theta <- theta - learningRate * u`.
/// Internal: the optimiser of ``Baselines/FineTune`` and ``Baselines/SCRUB``, whose papers use it.
struct MiniBatchSGD {
  var momentum: Double
  var velocity: [Double]

  init(parameterCount: Int, momentum: Double) {
    self.momentum = momentum
    self.velocity = [Double](repeating: 0, count: parameterCount)
  }

  /// One step along `gradient` (weight decay, if any, already added by the caller).
  mutating func step(_ theta: inout [Double], gradient: [Double], learningRate: Double) {
    velocity.scale(by: momentum)
    velocity.add(gradient)
    theta.add(velocity, scaledBy: -learningRate)
  }

  /// The mini-batches of one pass over `0..<count`: a seeded uniform permutation cut into
  /// batches of `size` (the last one shorter).
  static func batches(count: Int, size: Int, using generator: inout SeededGenerator) -> [[Int]] {
    let order = RandomSampling.indices(choosing: count, from: count, using: &generator)
    return stride(from: 0, to: count, by: size).map {
      Array(order[$0..<Swift.min($0 + size, count)])
    }
  }
}
