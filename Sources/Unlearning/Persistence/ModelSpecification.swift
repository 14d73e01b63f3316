extension ModelFile {
  /// The architecture of a model, as stored in model files: enough to rebuild the model value.
  ///
  /// Encoded as `{"kind": "logistic" | "softmax" | "one-vs-rest" | "mlp" | "ridge", ...sizes}`.
  public enum Specification: Sendable, Equatable, CustomStringConvertible {
    /// ``LogisticRegression``.
    case logistic(featureCount: Int, fitsIntercept: Bool)
    /// ``SoftmaxRegression``.
    case softmax(featureCount: Int, classCount: Int)
    /// ``OneVsRest`` of logistic heads without intercept.
    case oneVsRest(featureCount: Int, classCount: Int)
    /// ``MultilayerPerceptron``.
    case multilayerPerceptron(layerSizes: [Int], hiddenActivation: MultilayerPerceptron.Activation)
    /// ``RidgeRegression``.
    case ridge(featureCount: Int, fitsIntercept: Bool)

    /// The specification of a model value.
    ///
    /// - Throws: ``UnlearningError/unsupported(_:)`` for a model type a model file cannot hold.
    public init(_ model: some TwiceDifferentiableModel) throws(UnlearningError) {
      guard let storable = model as? any StorableModel else {
        throw .unsupported("a model file cannot hold a \(type(of: model))")
      }
      self = storable.specification
    }

    /// The number of parameters the model has (call ``validate()`` first on untrusted input).
    public var parameterCount: Int { (try? accept(ParameterCountVisitor())) ?? 0 }

    /// The number of input features.
    public var featureCount: Int {
      switch self {
      case .logistic(let d, _), .softmax(let d, _), .ridge(let d, _), .oneVsRest(let d, _): return d
      case .multilayerPerceptron(let sizes, _): return sizes.first ?? 0
      }
    }

    /// A short kind name: `logistic`, `softmax`, `one-vs-rest`, `mlp`, `ridge`.
    public var kind: String {
      switch self {
      case .logistic: return "logistic"
      case .softmax: return "softmax"
      case .oneVsRest: return "one-vs-rest"
      case .multilayerPerceptron: return "mlp"
      case .ridge: return "ridge"
      }
    }

    /// Whether certified removal can run on this architecture.
    public var isCertifiable: Bool {
      switch self {
      case .logistic(_, let intercept): return !intercept
      case .oneVsRest: return true
      default: return false
      }
    }

    /// Checks the shape is buildable (positive sizes, at least 2 classes, at least 2 layers for
    /// an MLP, a parameter count that fits in memory arithmetic).
    public func validate() throws(ModelFileError) {
      switch self {
      case .logistic(let d, _), .ridge(let d, _):
        guard d > 0 else { throw .invalidField("model.featureCount", "must be positive, got \(d)") }
      case .softmax(let d, let k), .oneVsRest(let d, let k):
        guard d > 0, k >= 2 else {
          throw .invalidField("model", "\(kind) needs featureCount > 0 and classCount >= 2")
        }
        guard !d.multipliedReportingOverflow(by: k).overflow, d * k <= 1 << 40 else {
          throw .invalidField("model", "\(kind) with \(d) features and \(k) classes is too large")
        }
      case .multilayerPerceptron(let sizes, _):
        guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
          throw .invalidField("model.layerSizes", "needs at least 2 positive sizes, got \(sizes)")
        }
        var total = 0
        for (a, b) in zip(sizes, sizes.dropFirst()) {
          let (weights, o1) = a.multipliedReportingOverflow(by: b)
          let (layer, o2) = weights.addingReportingOverflow(b)
          let (sum, o3) = total.addingReportingOverflow(layer)
          guard !o1, !o2, !o3, sum <= 1 << 40 else {
            throw .invalidField("model.layerSizes", "\(sizes) has too many parameters")
          }
          total = sum
        }
      }
    }

    public var description: String {
      switch self {
      case .logistic(let d, let intercept):
        return "logistic regression (d = \(d)\(intercept ? ", intercept" : ""))"
      case .softmax(let d, let k): return "softmax regression (d = \(d), K = \(k))"
      case .oneVsRest(let d, let k): return "one-vs-rest logistic regression (d = \(d), K = \(k))"
      case .multilayerPerceptron(let sizes, let a):
        return "MLP \(sizes.map(String.init).joined(separator: "-")) (\(a.rawValue))"
      case .ridge(let d, _): return "ridge regression (d = \(d))"
      }
    }

    /// Class probabilities (`n x K`) of `parameters` on `features`, whatever the architecture.
    public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
      // The visitor never throws; an unbuildable specification has no probabilities.
      (try? accept(ProbabilityVisitor(parameters: parameters, features: features)))
        ?? Matrix(rows: features.rows, columns: 0)
    }

    /// Predicted classes (argmax of ``probabilities(_:features:)``).
    public func predictions(_ parameters: [Double], features: Matrix) -> [Int] {
      let p = probabilities(parameters, features: features)
      return (0..<p.rows).map { i in
        var best = 0
        for k in 1..<Swift.max(p.columns, 1) where p[i, k] > p[i, best] { best = k }
        return best
      }
    }

    /// The trainer the CLI and model files use for this architecture: Newton to `1e-10 n` for
    /// convex models, L-BFGS to `1e-8 n` (seeded initialisation) for networks and for models
    /// with more than 2,000 parameters that are not trained head by head.
    public func defaultTrainer(seed: UInt64) -> any Trainer {
      switch self {
      case .multilayerPerceptron:
        return Training.LBFGS(gradientTolerance: 1e-8, maximumIterations: 5000, seed: seed)
      case .softmax where parameterCount > 2000:
        return Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000)
      default: return Training.Newton(gradientTolerance: 1e-10, seed: seed)
      }
    }
  }
}

/// Generic code over "whatever model a specification describes": implement ``visit(_:)`` once,
/// generically, and ``ModelFile/Specification/accept(_:)`` calls it with the concrete model type.
package protocol ModelVisitor {
  /// What the visit returns.
  associatedtype Output
  /// Called with the concrete model.
  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> Output
}

extension ModelFile.Specification {
  /// Builds the model this specification describes and hands it to `visitor` (call
  /// ``validate()`` first on untrusted input).
  package func accept<Visitor: ModelVisitor>(_ visitor: Visitor) throws -> Visitor.Output {
    switch self {
    case .logistic(let d, let intercept):
      return try visitor.visit(LogisticRegression(featureCount: d, fitsIntercept: intercept))
    case .softmax(let d, let k):
      return try visitor.visit(SoftmaxRegression(featureCount: d, classCount: k))
    case .oneVsRest(let d, let k):
      return try visitor.visit(
        try OneVsRest(head: LogisticRegression(featureCount: d), classCount: k))
    case .multilayerPerceptron(let sizes, let activation):
      return try visitor.visit(
        MultilayerPerceptron(layerSizes: sizes, hiddenActivation: activation))
    case .ridge(let d, let intercept):
      return try visitor.visit(RidgeRegression(featureCount: d, fitsIntercept: intercept))
    }
  }
}

private struct ParameterCountVisitor: ModelVisitor {
  func visit<Model: TwiceDifferentiableModel>(_ model: Model) -> Int { model.parameterCount }
}

private struct ProbabilityVisitor: ModelVisitor {
  let parameters: [Double]
  let features: Matrix
  func visit<Model: TwiceDifferentiableModel>(_ model: Model) -> Matrix {
    model.probabilities(parameters, features: features)
  }
}

/// A model type a model file can hold.
protocol StorableModel {
  var specification: ModelFile.Specification { get }
}

extension LogisticRegression: StorableModel {
  var specification: ModelFile.Specification {
    .logistic(featureCount: featureCount, fitsIntercept: fitsIntercept)
  }
}

extension SoftmaxRegression: StorableModel {
  var specification: ModelFile.Specification {
    .softmax(featureCount: featureCount, classCount: outputClassCount)
  }
}

extension OneVsRest: StorableModel where Head == LogisticRegression {
  var specification: ModelFile.Specification {
    .oneVsRest(featureCount: featureCount, classCount: headCount)
  }
}

extension MultilayerPerceptron: StorableModel {
  var specification: ModelFile.Specification {
    .multilayerPerceptron(layerSizes: layerSizes, hiddenActivation: hiddenActivation)
  }
}

extension RidgeRegression: StorableModel {
  var specification: ModelFile.Specification {
    .ridge(featureCount: featureCount, fitsIntercept: fitsIntercept)
  }
}

extension ModelFile.Specification: Codable {
  private enum CodingKeys: String, CodingKey {
    case kind, featureCount, fitsIntercept, classCount, layerSizes, hiddenActivation
  }

  /// Decodes `{"kind": ..., sizes}`.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try c.decode(String.self, forKey: .kind)
    switch kind {
    case "logistic":
      self = .logistic(
        featureCount: try c.decode(Int.self, forKey: .featureCount),
        fitsIntercept: try c.decode(Bool.self, forKey: .fitsIntercept))
    case "softmax":
      self = .softmax(
        featureCount: try c.decode(Int.self, forKey: .featureCount),
        classCount: try c.decode(Int.self, forKey: .classCount))
    case "one-vs-rest":
      self = .oneVsRest(
        featureCount: try c.decode(Int.self, forKey: .featureCount),
        classCount: try c.decode(Int.self, forKey: .classCount))
    case "mlp":
      self = .multilayerPerceptron(
        layerSizes: try c.decode([Int].self, forKey: .layerSizes),
        hiddenActivation: try c.decode(
          MultilayerPerceptron.Activation.self, forKey: .hiddenActivation))
    case "ridge":
      self = .ridge(
        featureCount: try c.decode(Int.self, forKey: .featureCount),
        fitsIntercept: try c.decode(Bool.self, forKey: .fitsIntercept))
    default:
      throw DecodingError.dataCorruptedError(
        forKey: .kind, in: c,
        debugDescription:
          "unknown model kind \"\(kind)\" (logistic, softmax, one-vs-rest, mlp, ridge)")
    }
  }

  /// Encodes as `{"kind": ..., sizes}`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(kind, forKey: .kind)
    switch self {
    case .logistic(let d, let intercept), .ridge(let d, let intercept):
      try c.encode(d, forKey: .featureCount)
      try c.encode(intercept, forKey: .fitsIntercept)
    case .softmax(let d, let k), .oneVsRest(let d, let k):
      try c.encode(d, forKey: .featureCount)
      try c.encode(k, forKey: .classCount)
    case .multilayerPerceptron(let sizes, let activation):
      try c.encode(sizes, forKey: .layerSizes)
      try c.encode(activation, forKey: .hiddenActivation)
    }
  }
}
