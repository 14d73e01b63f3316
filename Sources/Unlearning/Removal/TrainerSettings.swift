extension Training {
  /// One of the project's trainers with its settings, as a `Codable` value: what an ensemble (or a
  /// model file) stores so that later retraining uses exactly the same optimiser.
  ///
  /// Conforms to ``Trainer`` by delegating to the wrapped trainer, so it can be passed wherever a
  /// trainer is expected. Every wrapped trainer is deterministic given its settings (seed
  /// included).
  public enum Settings: Trainer, Sendable, Hashable, Codable {
    /// ``Training/Newton`` (convex models).
    case newton(Training.Newton)
    /// ``Training/LBFGS`` (large `p`, networks).
    case lbfgs(Training.LBFGS)
    /// ``Training/GradientDescent`` (full batch, fixed epochs).
    case gradientDescent(Training.GradientDescent)
    /// ``Training/Adam`` (full or mini-batch).
    case adam(Training.Adam)

    /// Wraps one of the four project trainers; `nil` for any other conformer of ``Trainer``.
    public init?(_ trainer: any Trainer) {
      switch trainer {
      case let t as Training.Settings: self = t
      case let t as Training.Newton: self = .newton(t)
      case let t as Training.LBFGS: self = .lbfgs(t)
      case let t as Training.GradientDescent: self = .gradientDescent(t)
      case let t as Training.Adam: self = .adam(t)
      default: return nil
      }
    }

    /// The wrapped trainer.
    public var trainer: any Trainer {
      switch self {
      case .newton(let t): return t
      case .lbfgs(let t): return t
      case .gradientDescent(let t): return t
      case .adam(let t): return t
      }
    }

    /// The seed of the wrapped trainer (initial parameters, mini-batch order).
    public var seed: UInt64 {
      switch self {
      case .newton(let t): return t.seed
      case .lbfgs(let t): return t.seed
      case .gradientDescent(let t): return t.seed
      case .adam(let t): return t.seed
      }
    }

    /// Runs the wrapped trainer.
    public func train<Model: TwiceDifferentiableModel>(
      _ objective: Objective<Model>, from start: [Double]?
    ) -> Training.Result {
      trainer.train(objective, from: start)
    }
  }
}
