import RealModule

extension Baselines {
  /// SCRUB (Kurmanji, Triantafillou, Hayes & Triantafillou, "Towards Unbounded Machine
  /// Unlearning", NeurIPS 2023): a student, initialised from the original model (the teacher),
  /// is pushed away from the teacher on the forget set and kept close to it on the retained set.
  ///
  /// With `T` the distillation temperature, `q_i = softmax(z_teacher(x_i) / T)` and
  /// `p_i(theta) = softmax(z_student(x_i) / T)` (binary models: the two-class form), the
  /// distillation term of a batch `B` is `D_B(theta) = (T^2 / |B|) sum_{i in B} KL(q_i || p_i)`.
  /// Epoch `e = 1, ..., epochs` runs
  ///
  /// - if `e <= maxSteps`, one **max-pass** over the forget rows (batches of ``forgetBatchSize``):
  ///   steps on `-D_B(theta)` (ascending the KL to the teacher);
  /// - one **min-pass** over the retained rows (batches of ``retainBatchSize``): steps on
  ///   `gamma * (1 / |B|) sum_{i in B} loss_i(theta) + alpha * D_B(theta)` (task loss plus
  ///   staying close to the teacher);
  ///
  /// each step SGD with momentum and weight decay (`g + weightDecay * theta`), one optimiser for
  /// both passes, the learning rate multiplied by `decayRate` for every entry of
  /// ``decayEpochs`` that `e` exceeds. Batches are seeded permutations.
  ///
  /// Defaults are the authors' released settings: `epochs = 3`, `maxSteps = 2`, learning rate
  /// `5e-4`, momentum 0.9, weight decay `5e-4`, `T = 4`, `gamma = 0.99`, `alpha = 0.001`, retain
  /// batches of 128 and forget batches of 32, decay epochs `[3, 5, 9]` with rate 0.1. On small
  /// tabular problems these move the model very little; raise the learning rate and epochs.
  ///
  /// The temperature divides the logits: for linear models (logistic, softmax) by scaling all
  /// parameters by `1 / T`, for a ``MultilayerPerceptron`` the output layer's. Other models
  /// (regression) are ``UnlearningError/unsupported(_:)``. Gradients of the soft-label
  /// cross-entropy use the model's BLAS-backed `lossAndGradient`, once per class with the
  /// teacher probabilities as weights. Cost: per epoch `K` gradient passes over the forget rows
  /// (max-pass) and `K + 1` over the retained rows (min-pass), `O(epochs K n p)`.
  public struct SCRUB: Unlearner {
    /// Epochs (`sgda_epochs`). Default 3.
    public var epochs: Int
    /// Epochs with a max-pass (`msteps`). Default 2.
    public var maxSteps: Int
    /// SGD learning rate. Default `5e-4`.
    public var learningRate: Double
    /// Heavy-ball momentum. Default 0.9.
    public var momentum: Double
    /// Weight decay added to every gradient. Default `5e-4`.
    public var weightDecay: Double
    /// Distillation temperature `T > 0`. Default 4.
    public var temperature: Double
    /// `gamma`, the weight of the task loss in the min-pass. Default 0.99.
    public var gamma: Double
    /// `alpha`, the weight of the distillation term in the min-pass. Default 0.001.
    public var alpha: Double
    /// Rows per retained batch. Default 128.
    public var retainBatchSize: Int
    /// Rows per forget batch. Default 32.
    public var forgetBatchSize: Int
    /// Epochs after which the learning rate decays. Default `[3, 5, 9]`.
    public var decayEpochs: [Int]
    /// Learning-rate decay factor. Default 0.1.
    public var decayRate: Double
    /// Seeds the batch orders.
    public var seed: UInt64

    /// Creates the method with the authors' released settings by default (see the type's
    /// documentation).
    public init(
      epochs: Int = 3, maxSteps: Int = 2, learningRate: Double = 5e-4, momentum: Double = 0.9,
      weightDecay: Double = 5e-4, temperature: Double = 4, gamma: Double = 0.99,
      alpha: Double = 0.001, retainBatchSize: Int = 128, forgetBatchSize: Int = 32,
      decayEpochs: [Int] = [3, 5, 9], decayRate: Double = 0.1, seed: UInt64 = 0
    ) {
      precondition(
        epochs >= 0 && maxSteps >= 0 && learningRate > 0 && (0..<1).contains(momentum)
          && weightDecay >= 0 && temperature > 0 && gamma >= 0 && alpha >= 0
          && retainBatchSize >= 1 && forgetBatchSize >= 1 && decayRate > 0,
        "Baselines.SCRUB: bad configuration")
      self.epochs = epochs
      self.maxSteps = maxSteps
      self.learningRate = learningRate
      self.momentum = momentum
      self.weightDecay = weightDecay
      self.temperature = temperature
      self.gamma = gamma
      self.alpha = alpha
      self.retainBatchSize = retainBatchSize
      self.forgetBatchSize = forgetBatchSize
      self.decayEpochs = decayEpochs
      self.decayRate = decayRate
      self.seed = seed
    }

    /// `"scrub"`.
    public var name: String { "scrub" }

    /// The learning rate of epoch `e` (1-based).
    func learningRate(epoch e: Int) -> Double {
      let decays = decayEpochs.filter { e > $0 }.count
      var rate = learningRate
      for _ in 0..<decays { rate *= decayRate }
      return rate
    }

    /// The per-parameter factor `c` with `z(theta * c) = z(theta) / T`: `1 / T` on the
    /// parameters that feed the logits linearly, 1 elsewhere.
    static func temperatureScaling<Model: TwiceDifferentiableModel>(
      _ model: Model, temperature: Double
    ) throws -> [Double] {
      let p = model.parameterCount
      let inverse = 1 / temperature
      guard model.outputClassCount >= 2 else {
        throw UnlearningError.unsupported(
          "Baselines.SCRUB needs a classifier (got a regression model)")
      }
      if let network = model as? MultilayerPerceptron {
        var c = [Double](repeating: 1, count: p)
        if let last = network.layers.last {
          for j in last.weightOffset..<(last.biasOffset + last.outputs) { c[j] = inverse }
        }
        return c
      }
      if model is SoftmaxRegression || model is any GeneralizedLinearModel {
        return [Double](repeating: inverse, count: p)
      }
      throw UnlearningError.unsupported("Baselines.SCRUB: no temperature scaling for \(Model.self)")
    }

    /// `sum_i w_i sum_k q_ik loss_i(y = k)` and its gradient at `phi`: `K` weighted
    /// `lossAndGradient` calls (`q` is `n x K`).
    static func softCrossEntropy<Model: TwiceDifferentiableModel>(
      _ model: Model, _ phi: [Double], features: Matrix, soft q: Matrix
    ) -> (value: Double, gradient: [Double]) {
      var value = 0.0
      var gradient = [Double](repeating: 0, count: phi.count)
      for k in 0..<q.columns {
        let part = model.lossAndGradient(
          phi, features: features, targets: [Double](repeating: Double(k), count: features.rows),
          weights: q.column(k))
        value += part.value
        gradient.add(part.gradient)
      }
      return (value, gradient)
    }

    /// Mean `KL(p_i || q_i)` over the rows of two probability matrices (natural log, terms with
    /// `p_ik = 0` skipped, `q` floored at `1e-300`).
    static func meanKL(_ p: Matrix, _ q: Matrix) -> Double {
      guard p.rows > 0 else { return 0 }
      var total = 0.0
      for i in 0..<p.rows {
        for k in 0..<p.columns where p[i, k] > 0 {
          total += p[i, k] * (Double.log(p[i, k]) - Double.log(Swift.max(q[i, k], 1e-300)))
        }
      }
      return total / Double(p.rows)
    }

    /// Runs SCRUB. - Throws: ``UnlearningError`` on a bad request, or
    /// ``UnlearningError/unsupported(_:)`` for a model without logits.
    public func unlearn<Model: TwiceDifferentiableModel>(
      _ state: TrainedModel<Model>, forgetting ids: [SampleID]
    ) throws -> UnlearningResult<Model> {
      // Validate the request first (its errors take precedence), then the model.
      if try !state.rowsToForget(ids).isEmpty {
        _ = try Self.temperatureScaling(state.model, temperature: temperature)
      }
      return try UnlearningResult.run(method: name, state: state, ids: ids) { removed, rows in
        let model = removed.model
        let scaling = try Self.temperatureScaling(model, temperature: temperature)
        let retained = removed.weights.indices.filter { removed.weights[$0] != 0 }
        let retainFeatures = removed.data.features.rows(at: retained)
        let retainTargets = retained.map { Double(removed.data.labels[$0]) }
        let forgetFeatures = removed.data.features.rows(at: rows)
        let teacher = removed.parameters
        let scaledTeacher = zip(teacher, scaling).map { $0 * $1 }
        let retainSoft = model.probabilities(scaledTeacher, features: retainFeatures)
        let forgetSoft = model.probabilities(scaledTeacher, features: forgetFeatures)
        let t2 = temperature * temperature

        /// `(T^2 / |B|) grad_theta sum_{i in B} KL(q_i || p_i(theta))`.
        func distillationGradient(_ theta: [Double], _ features: Matrix, _ q: Matrix) -> [Double] {
          let phi = zip(theta, scaling).map { $0 * $1 }
          let g = Self.softCrossEntropy(model, phi, features: features, soft: q).gradient
          return zip(g, scaling).map { $0 * $1 * t2 / Double(features.rows) }
        }

        var theta = teacher
        var optimizer = MiniBatchSGD(parameterCount: theta.count, momentum: momentum)
        var generator = SeededGenerator(seed: seed)
        var ascentSteps = 0
        var descentSteps = 0
        for epoch in 0..<epochs {
          let e = epoch + 1
          let rate = learningRate(epoch: e)
          if e <= maxSteps {
            for batch in MiniBatchSGD.batches(
              count: rows.count, size: forgetBatchSize, using: &generator)
            {
              var g = distillationGradient(
                theta, forgetFeatures.rows(at: batch), forgetSoft.rows(at: batch))
              g.scale(by: -1)
              g.add(theta, scaledBy: weightDecay)
              optimizer.step(&theta, gradient: g, learningRate: rate)
              ascentSteps += 1
            }
          }
          for batch in MiniBatchSGD.batches(
            count: retained.count, size: retainBatchSize, using: &generator)
          {
            let features = retainFeatures.rows(at: batch)
            var g = model.lossAndGradient(
              theta, features: features, targets: batch.map { retainTargets[$0] }, weights: nil
            ).gradient
            g.scale(by: gamma / Double(batch.count))
            g.add(
              distillationGradient(theta, features, retainSoft.rows(at: batch)), scaledBy: alpha)
            g.add(theta, scaledBy: weightDecay)
            optimizer.step(&theta, gradient: g, learningRate: rate)
            descentSteps += 1
          }
        }
        let forgetKL = Self.meanKL(
          model.probabilities(teacher, features: forgetFeatures),
          model.probabilities(theta, features: forgetFeatures))
        let retainKL = Self.meanKL(
          model.probabilities(teacher, features: retainFeatures),
          model.probabilities(theta, features: retainFeatures))
        var next = removed
        next.parameters = theta
        return UnlearningOutcome(
          state: next,
          notes: [
            "teacher = the input model; max-passes on the forget rows, min-passes on the retained rows"
          ],
          details: [
            "epochs": Double(epochs), "max steps": Double(ascentSteps),
            "min steps": Double(descentSteps),
            "temperature": temperature, "forget KL to teacher": forgetKL,
            "retain KL to teacher": retainKL,
          ])
      }
    }
  }
}
