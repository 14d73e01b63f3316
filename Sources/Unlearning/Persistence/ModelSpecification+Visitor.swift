/// Generic code over "whatever model a specification describes": implement ``visit(_:)`` once,
/// generically, and ``ModelSpecification/accept(_:)`` calls it with the concrete model type.
public protocol ModelVisitor {
  associatedtype Output
  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> Output
}

extension ModelSpecification {
  /// Builds the model this specification describes and hands it to `visitor`.
  public func accept<Visitor: ModelVisitor>(_ visitor: Visitor) throws -> Visitor.Output {
    switch self {
    case .logistic(let d, let intercept):
      return try visitor.visit(LogisticRegression(featureCount: d, fitsIntercept: intercept))
    case .softmax(let d, let k):
      return try visitor.visit(SoftmaxRegression(featureCount: d, classCount: k))
    case .multilayerPerceptron(let sizes, let activation):
      return try visitor.visit(
        MultilayerPerceptron(layerSizes: sizes, hiddenActivation: activation))
    case .ridge(let d, let intercept):
      return try visitor.visit(RidgeRegression(featureCount: d, fitsIntercept: intercept))
    }
  }

  /// The trainer the CLI and model files use for this architecture: Newton to `1e-10 n` for
  /// convex models, L-BFGS to `1e-8 n` (seeded initialisation) for networks.
  public func defaultTrainer(seed: UInt64) -> any Trainer {
    switch self {
    case .multilayerPerceptron:
      return LBFGSTrainer(gradientTolerance: 1e-8, maximumIterations: 5000, seed: seed)
    default: return NewtonTrainer(gradientTolerance: 1e-10, seed: seed)
    }
  }
}
