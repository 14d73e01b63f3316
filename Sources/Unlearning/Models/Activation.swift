import RealModule

extension MultilayerPerceptron {
  /// A hidden-layer activation of ``MultilayerPerceptron``.
  ///
  /// Each derivative is computed from the activation's **output** `a = f(z)` (so the forward
  /// pass need not keep `z`): tanh `f' = 1 - a^2`, `f'' = -2 a f'`; sigmoid `f' = a (1 - a)`,
  /// `f'' = f' (1 - 2a)`; ReLU `f' = [a > 0]`, `f'' = 0` (the kink at 0 has measure zero).
  public enum Activation: String, Sendable, Hashable, Codable, CaseIterable {
    /// `tanh(z)`.
    case tanh
    /// `max(z, 0)`.
    case relu
    /// `1 / (1 + e^-z)`.
    case sigmoid

    /// `f(z)`.
    @inline(__always)
    func value(_ z: Double) -> Double {
      switch self {
      case .tanh: return Double.tanh(z)
      case .relu: return Swift.max(z, 0)
      case .sigmoid: return LogisticFunctions.sigmoid(z)
      }
    }

    /// `f'(z)` from `a = f(z)`.
    @inline(__always)
    func firstDerivative(output a: Double) -> Double {
      switch self {
      case .tanh: return 1 - a * a
      case .relu: return a > 0 ? 1 : 0
      case .sigmoid: return a * (1 - a)
      }
    }

    /// `f''(z)` from `a = f(z)`.
    @inline(__always)
    func secondDerivative(output a: Double) -> Double {
      switch self {
      case .tanh: return -2 * a * (1 - a * a)
      case .relu: return 0
      case .sigmoid: return a * (1 - a) * (1 - 2 * a)
      }
    }
  }
}
