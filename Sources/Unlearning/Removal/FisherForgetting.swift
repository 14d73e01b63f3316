extension Baselines {
  /// Fisher forgetting (Golatkar, Achille & Soatto, "Eternal Sunshine of the Spotless Net",
  /// CVPR 2020): Gaussian noise shaped by the inverse Fisher information of the **retained**
  /// data, added to the current parameters,
  ///
  ///     theta' = theta + sqrt(v) * eps,   eps ~ N(0, I) (seeded),
  ///     v_j = alpha * min(1 / (F_jj + 1e-8), maximumInverseFisher),
  ///
  /// so directions the retained data pins down (large `F_jj`) barely move and directions only
  /// the forgotten rows informed are scrambled. `F` is the **mean-form** Fisher diagonal over the
  /// retained rows `R`, of one of two kinds (``Information``):
  ///
  /// - ``Information/empirical`` (default): `F_jj = (1 / n_R) sum_{i in R} (grad loss_i)_j^2`,
  ///   squared per-sample gradients at the observed labels;
  /// - ``Information/expected``: `F_jj = (1 / n_R) sum_{i in R} sum_k p_ik (grad loss_i(y = k))_j^2`,
  ///   the true Fisher with labels drawn from the model's predictive distribution (the authors'
  ///   released code); for cross-entropy losses it is the diagonal of the Gauss-Newton matrix.
  ///
  /// The defaults `alpha = 1e-6` and the clamp `1e3` of `1 / F` are those of the authors'
  /// released code (its extra per-layer heuristics, such as averaging the variance over a
  /// weight matrix's rows and multiplying the last layer's by 10, are not applied). The clamp
  /// caps the noise variance at `alpha * maximumInverseFisher` where the Fisher is tiny or zero.
  /// The model is not retrained: accuracy on the retained rows degrades with `alpha`.
  ///
  /// Cost: per-sample gradients of the retained rows in blocks of ``blockRows`` (`O(n_R p)`
  /// flops, `blockRows x p` memory; `K` times that for ``Information/expected``), then `O(p)`.
  public struct FisherForgetting: Unlearner {
    /// Which Fisher diagonal shapes the noise.
    public enum Information: String, Sendable, Hashable, Codable, CaseIterable {
      /// Squared per-sample gradients at the observed labels.
      case empirical
      /// Squared per-sample gradients averaged over labels drawn from the model (true Fisher).
      case expected
    }

    /// The noise scale `alpha > 0`. Default `1e-6`.
    public var alpha: Double
    /// The cap of `1 / (F_jj + 1e-8)`, so the variance never exceeds
    /// `alpha * maximumInverseFisher`. Default `1e3`.
    public var maximumInverseFisher: Double
    /// Empirical (default) or expected Fisher.
    public var information: Information
    /// Seeds the noise.
    public var seed: UInt64
    /// Rows per block of per-sample gradients. Default 1024.
    public var blockRows: Int

    /// Creates the method with the released code's constants by default.
    ///
    /// - Parameters:
    ///   - alpha: noise scale `> 0`.
    ///   - maximumInverseFisher: cap of the inverse Fisher `> 0`.
    ///   - information: `.empirical` or `.expected`.
    ///   - seed: seed of the Gaussian draw.
    ///   - blockRows: rows per per-sample-gradient block (`>= 1`).
    public init(
      alpha: Double = 1e-6, maximumInverseFisher: Double = 1e3,
      information: Information = .empirical, seed: UInt64 = 0, blockRows: Int = 1024
    ) {
      precondition(
        alpha > 0 && maximumInverseFisher > 0 && blockRows >= 1,
        "Baselines.FisherForgetting: bad configuration"
      )
      self.alpha = alpha
      self.maximumInverseFisher = maximumInverseFisher
      self.information = information
      self.seed = seed
      self.blockRows = blockRows
    }

    /// `"fisher"`.
    public var name: String { "fisher" }

    /// The mean-form Fisher diagonal (length `p`) of `model` at `parameters` over the rows of
    /// `features` (`n x d`, `n >= 1`) with class-index `targets`.
    ///
    /// - Cost: `n / blockRows` per-sample-gradient blocks (`K` per block for `.expected`), each
    ///   squared elementwise and summed over rows by one `gemv`.
    public static func fisherDiagonal<Model: TwiceDifferentiableModel>(
      model: Model, parameters: [Double], features: Matrix, targets: [Double],
      information: Information = .empirical, blockRows: Int = 1024
    ) -> [Double] {
      let n = features.rows
      let p = model.parameterCount
      var total = [Double](repeating: 0, count: p)
      guard n > 0 else { return total }
      let k = model.outputClassCount
      var first = 0
      while first < n {
        let rows = Array(first..<Swift.min(first + blockRows, n))
        first += blockRows
        let block = rows.count == n ? features : features.rows(at: rows)
        switch information {
        case .empirical:
          var g = model.perSampleGradients(
            parameters, features: block, targets: rows.map { targets[$0] })
          square(&g)
          g.multiply(
            [Double](repeating: 1, count: rows.count), transposed: true, beta: 1, into: &total)
        case .expected:
          let probabilities = model.probabilities(parameters, features: block)
          for c in 0..<k {
            var g = model.perSampleGradients(
              parameters, features: block,
              targets: [Double](repeating: Double(c), count: rows.count))
            square(&g)
            g.multiply(probabilities.column(c), transposed: true, beta: 1, into: &total)
          }
        }
      }
      total.scale(by: 1 / Double(n))
      return total
    }

    /// `m <- m * m` elementwise.
    static func square(_ m: inout Matrix) {
      m.elements.withUnsafeMutableBufferPointer { e in
        for i in e.indices { e[i] *= e[i] }
      }
    }

    /// The noise variances `v_j = alpha * min(1 / (F_jj + 1e-8), maximumInverseFisher)`.
    public func noiseVariances(fisherDiagonal: [Double]) -> [Double] {
      fisherDiagonal.map { alpha * Swift.min(1 / ($0 + 1e-8), maximumInverseFisher) }
    }

    /// Adds the Fisher-shaped noise. - Throws: ``UnlearningError`` on a bad request.
    public func unlearn<Model: TwiceDifferentiableModel>(
      _ state: TrainedModel<Model>, forgetting ids: [SampleID]
    ) throws -> UnlearningResult<Model> {
      try UnlearningResult.run(method: name, state: state, ids: ids) { removed, _ in
        let retained = removed.weights.indices.filter { removed.weights[$0] != 0 }
        let fisher = Self.fisherDiagonal(
          model: removed.model, parameters: removed.parameters,
          features: removed.data.features.rows(at: retained),
          targets: retained.map { Double(removed.data.labels[$0]) }, information: information,
          blockRows: blockRows)
        let variances = noiseVariances(fisherDiagonal: fisher)
        var generator = SeededGenerator(seed: seed)
        var next = removed
        var squaredNoise = 0.0
        for j in variances.indices {
          let step = variances[j].squareRoot() * generator.nextNormal()
          next.parameters[j] += step
          squaredNoise += step * step
        }
        let clamped = fisher.filter { 1 / ($0 + 1e-8) > maximumInverseFisher }.count
        return UnlearningOutcome(
          state: next,
          notes: [
            "noise variance alpha * min(1 / (F_jj + 1e-8), \(maximumInverseFisher)), \(information.rawValue) Fisher of the retained rows; no retraining"
          ],
          details: [
            "alpha": alpha, "clamped coordinates": Double(clamped),
            "noise norm": squaredNoise.squareRoot(),
            "mean Fisher diagonal": fisher.reduce(0, +) / Double(Swift.max(fisher.count, 1)),
          ])
      }
    }
  }
}
