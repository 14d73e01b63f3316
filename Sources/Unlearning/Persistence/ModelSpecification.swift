/// The architecture of a model, as stored in model files: enough to rebuild the model value.
public enum ModelSpecification: Sendable, Codable, Equatable, CustomStringConvertible {
  case logistic(featureCount: Int, fitsIntercept: Bool)
  case softmax(featureCount: Int, classCount: Int)
  case multilayerPerceptron(layerSizes: [Int], hiddenActivation: Activation)
  case ridge(featureCount: Int, fitsIntercept: Bool)

  /// The number of parameters the model has.
  public var parameterCount: Int {
    switch self {
    case .logistic(let d, let intercept):
      return LogisticRegression(featureCount: d, fitsIntercept: intercept).parameterCount
    case .softmax(let d, let k):
      return SoftmaxRegression(featureCount: d, classCount: k).parameterCount
    case .multilayerPerceptron(let sizes, let a):
      return MultilayerPerceptron(layerSizes: sizes, hiddenActivation: a).parameterCount
    case .ridge(let d, let intercept):
      return RidgeRegression(featureCount: d, fitsIntercept: intercept).parameterCount
    }
  }

  /// The number of input features.
  public var featureCount: Int {
    switch self {
    case .logistic(let d, _), .softmax(let d, _), .ridge(let d, _): return d
    case .multilayerPerceptron(let sizes, _): return sizes.first ?? 0
    }
  }

  /// A short kind name: `logistic`, `softmax`, `mlp`, `ridge`.
  public var kind: String {
    switch self {
    case .logistic: return "logistic"
    case .softmax: return "softmax"
    case .multilayerPerceptron: return "mlp"
    case .ridge: return "ridge"
    }
  }

  /// Checks the shape is buildable (positive sizes, at least 2 layers for an MLP).
  public func validate() throws(ModelFileError) {
    switch self {
    case .logistic(let d, _), .ridge(let d, _):
      guard d > 0 else { throw .invalidField("model.featureCount", "must be positive, got \(d)") }
    case .softmax(let d, let k):
      guard d > 0, k >= 2 else {
        throw .invalidField("model", "softmax needs featureCount > 0 and classCount >= 2")
      }
    case .multilayerPerceptron(let sizes, _):
      guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
        throw .invalidField("model.layerSizes", "needs at least 2 positive sizes, got \(sizes)")
      }
    }
  }

  public var description: String {
    switch self {
    case .logistic(let d, let intercept):
      return "logistic regression (d = \(d)\(intercept ? ", intercept" : ""))"
    case .softmax(let d, let k): return "softmax regression (d = \(d), K = \(k))"
    case .multilayerPerceptron(let sizes, let a):
      return "MLP \(sizes.map(String.init).joined(separator: "-")) (\(a.rawValue))"
    case .ridge(let d, _): return "ridge regression (d = \(d))"
    }
  }
}

extension ModelSpecification {
  /// Class probabilities (`n x K`) of `parameters` on `features`, whatever the architecture.
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    switch self {
    case .logistic(let d, let intercept):
      return LogisticRegression(featureCount: d, fitsIntercept: intercept).probabilities(
        parameters, features: features)
    case .softmax(let d, let k):
      return SoftmaxRegression(featureCount: d, classCount: k).probabilities(
        parameters, features: features)
    case .multilayerPerceptron(let sizes, let a):
      return MultilayerPerceptron(layerSizes: sizes, hiddenActivation: a).probabilities(
        parameters, features: features)
    case .ridge(let d, let intercept):
      return RidgeRegression(featureCount: d, fitsIntercept: intercept).probabilities(
        parameters, features: features)
    }
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
}
