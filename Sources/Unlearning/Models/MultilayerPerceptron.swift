/// A fully connected network `d -> h_1 -> ... -> h_m -> K` with one hidden activation.
///
/// **Output and loss.** An output layer of size 1 is a sigmoid with binary cross-entropy
/// (targets 0/1; ``probabilities(_:features:)`` gives `n x 2` rows `[1 - p, p]`); size
/// `K >= 2` is a softmax with cross-entropy (targets 0 ..< K).
///
/// **Parameter layout.** For each layer `l = 1, ..., L` in order: `W_l` (`out_l x in_l`,
/// row-major) then `b_l` (`out_l`); `p = sum_l out_l (in_l + 1)`. The hospital demo's network
/// `2 -> 20 -> 1` has 81 parameters. ``Objective`` regularises **all** of them, biases
/// included.
///
/// **Batching.** Activations are `n x width` matrices: the forward pass is one `gemm` per
/// layer, backpropagation two, the exact Hessian-vector product (Pearlmutter's R-operator:
/// a forward pass of directional derivatives `R{a}`, then a backward pass of `R{delta}`)
/// about six, the Gauss-Newton product `J^T H_out J v` about four. Elementwise work is
/// `O(n * width)`.
///
/// The loss is not convex (``isConvex`` is `false`): the Hessian may be indefinite; use the
/// Gauss-Newton product or damping where a positive definite curvature is needed.
public struct MultilayerPerceptron: TwiceDifferentiableModel, Hashable, Codable {
  /// `[d, h_1, ..., h_m, out]`: the input width, the hidden widths, and the output width
  /// (1 = sigmoid, `K >= 2` = softmax).
  public let layerSizes: [Int]
  /// The activation of every hidden layer.
  public let hiddenActivation: MultilayerPerceptron.Activation

  /// Creates a network.
  ///
  /// - Parameters:
  ///   - layerSizes: at least `[d, out]`; every width positive. The hospital demo's network is
  ///     `[2, 20, 1]` with `.tanh`.
  ///   - hiddenActivation: tanh (default), ReLU or sigmoid.
  public init(layerSizes: [Int], hiddenActivation: MultilayerPerceptron.Activation = .tanh) {
    precondition(
      layerSizes.count >= 2, "MultilayerPerceptron: need at least input and output sizes")
    precondition(layerSizes.allSatisfy { $0 > 0 }, "MultilayerPerceptron: widths must be positive")
    self.layerSizes = layerSizes
    self.hiddenActivation = hiddenActivation
  }

  /// Checks layer sizes before a network is built from untrusted input (a command line, a
  /// model file) and returns the parameter count `p = sum_l out_l (in_l + 1)`.
  ///
  /// The initializer traps on sizes it cannot represent; this check throws instead, so
  /// `[2, 1 << 62, 1]` is an error rather than an arithmetic overflow:
  ///
  /// ```swift
  /// let p = try MultilayerPerceptron.validateLayerSizes([2, 20, 1])  // 81
  /// ```
  ///
  /// - Parameters:
  ///   - layerSizes: the widths, input first and output last.
  ///   - maximumParameterCount: the largest parameter count accepted (default: as many
  ///     doubles as fit in the physical memory).
  /// - Throws: `DataError.invalidArgument` when there are fewer than two sizes, a size is not
  ///   positive, or the parameter count overflows or exceeds `maximumParameterCount`.
  @discardableResult
  public static func validateLayerSizes(
    _ layerSizes: [Int], maximumParameterCount: Int? = nil
  ) throws(DataError) -> Int {
    guard layerSizes.count >= 2 else {
      throw .invalidArgument(
        "MLP layer sizes \(layerSizes): need at least the input and output sizes")
    }
    guard layerSizes.allSatisfy({ $0 > 0 }) else {
      throw .invalidArgument("MLP layer sizes \(layerSizes): every size must be positive")
    }
    let limit =
      maximumParameterCount
      ?? Int(clamping: DenseAllocation.byteLimit / UInt64(MemoryLayout<Double>.stride))
    var total = 0
    for l in 0..<(layerSizes.count - 1) {
      let (inputs, o1) = layerSizes[l].addingReportingOverflow(1)
      let (layer, o2) = layerSizes[l + 1].multipliedReportingOverflow(by: inputs)
      let (sum, o3) = total.addingReportingOverflow(layer)
      guard !o1, !o2, !o3 else {
        throw .invalidArgument("MLP layer sizes \(layerSizes): the parameter count overflows")
      }
      total = sum
    }
    guard total <= limit else {
      throw .invalidArgument(
        "MLP layer sizes \(layerSizes): \(total) parameters, more than the \(limit) that fit in "
          + "memory")
    }
    return total
  }

  /// Creates a network after ``validateLayerSizes(_:maximumParameterCount:)``: the throwing
  /// counterpart of ``init(layerSizes:hiddenActivation:)`` for untrusted sizes.
  ///
  /// - Throws: as ``validateLayerSizes(_:maximumParameterCount:)``.
  public init(
    validatingLayerSizes layerSizes: [Int],
    hiddenActivation: MultilayerPerceptron.Activation = .tanh
  )
    throws(DataError)
  {
    try Self.validateLayerSizes(layerSizes)
    self.init(layerSizes: layerSizes, hiddenActivation: hiddenActivation)
  }

  /// Number of weight layers `L` (hidden layers + 1).
  public var layerCount: Int { layerSizes.count - 1 }
  /// `sum_l out_l (in_l + 1)`.
  public var parameterCount: Int {
    (0..<layerCount).reduce(0) { $0 + layerSizes[$1 + 1] * (layerSizes[$1] + 1) }
  }
  /// `d = layerSizes[0]`.
  public var featureCount: Int { layerSizes[0] }
  /// 2 for a sigmoid output, `K` for a softmax output.
  public var outputClassCount: Int { max(layerSizes[layerSizes.count - 1], 2) }
  /// `false`.
  public var isConvex: Bool { false }

  /// Where layer `l`'s weights and biases start in the flat parameters, with its shape.
  public struct LayerLayout: Sendable, Hashable {
    /// `in_l`.
    public var inputs: Int
    /// `out_l`.
    public var outputs: Int
    /// Offset of `W_l` (`outputs x inputs`, row-major).
    public var weightOffset: Int
    /// Offset of `b_l` (`outputs` entries), `weightOffset + outputs * inputs`.
    public var biasOffset: Int
  }

  /// The layout of every layer, in order.
  public var layers: [LayerLayout] {
    var offset = 0
    return (0..<layerCount).map { l in
      let (i, o) = (layerSizes[l], layerSizes[l + 1])
      let layout = LayerLayout(
        inputs: i, outputs: o, weightOffset: offset, biasOffset: offset + o * i)
      offset += o * (i + 1)
      return layout
    }
  }

  /// Glorot-uniform weights `U(-a, a)`, `a = sqrt(6 / (in + out))`, zero biases.
  ///
  /// - Parameter seed: seeds the `SeededGenerator`; the same seed gives the same network.
  public func initialParameters(seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    var theta = [Double](repeating: 0, count: parameterCount)
    for layer in layers {
      let a = (6.0 / Double(layer.inputs + layer.outputs)).squareRoot()
      for j in 0..<(layer.outputs * layer.inputs) {
        theta[layer.weightOffset + j] = a * (2 * g.nextUniform() - 1)
      }
    }
    return theta
  }

  // MARK: - Forward pass

  /// Activations `A_0 = X, A_1, ..., A_{L-1}` (each `n x width`) and the output logits.
  struct ForwardPass {
    var activations: [Matrix]
    var logits: Matrix
  }

  func weightMatrix(_ layer: LayerLayout, _ parameters: [Double]) -> Matrix {
    Matrix(
      rows: layer.outputs, columns: layer.inputs,
      elements: Array(parameters[layer.weightOffset..<layer.biasOffset]))
  }

  /// `z <- z + 1 b^T` with `b` the layer's biases in `parameters`.
  func addBias(_ z: inout Matrix, _ layer: LayerLayout, _ parameters: [Double]) {
    let (n, o) = (z.rows, layer.outputs)
    parameters.withUnsafeBufferPointer { p in
      z.elements.withUnsafeMutableBufferPointer { out in
        for i in 0..<n {
          for j in 0..<o { out[i * o + j] += p[layer.biasOffset + j] }
        }
      }
    }
  }

  func forward(_ parameters: [Double], features: Matrix) -> ForwardPass {
    checkShapes(parameters, features: features, targets: nil, weights: nil)
    var activations = [features]
    var z = features
    for (l, layer) in layers.enumerated() {
      z = Matrix.product(activations[l], weightMatrix(layer, parameters), transposeB: true)
      addBias(&z, layer, parameters)
      if l < layerCount - 1 {
        var a = z
        let f = hiddenActivation
        a.elements.withUnsafeMutableBufferPointer { p in
          for e in p.indices { p[e] = f.value(p[e]) }
        }
        activations.append(a)
      }
    }
    return ForwardPass(activations: activations, logits: z)
  }

  // MARK: - Output layer

  /// Per-sample losses, `dloss/dlogits` (`n x out`, unweighted) and the output probabilities
  /// (`n x 1` sigmoid values, or `n x K` softmax rows).
  func outputLayer(logits: Matrix, targets: [Double]) -> (
    losses: [Double], delta: Matrix, probabilities: Matrix
  ) {
    let n = logits.rows
    var losses = [Double](repeating: 0, count: n)
    if logits.columns == 1 {
      var p = logits
      var delta = logits
      for i in 0..<n {
        let z = logits.elements[i]
        let s = LogisticFunctions.sigmoid(z)
        p.elements[i] = s
        delta.elements[i] = s - targets[i]
        losses[i] = LogisticFunctions.crossEntropy(logit: z, target: targets[i])
      }
      return (losses, delta, p)
    }
    let k = logits.columns
    var p = logits
    let lse = LogisticFunctions.softmaxRows(&p.elements, rows: n, columns: k)
    var delta = p
    for i in 0..<n {
      let y = LogisticFunctions.classIndex(targets[i], classCount: k)
      losses[i] = lse[i] - logits[i, y]
      delta[i, y] -= 1
    }
    return (losses, delta, p)
  }

  /// `diag(w) H_out r` row by row: sigmoid `s(1 - s) r`, softmax `p * r - p (p . r)`.
  func outputCurvatureProduct(probabilities p: Matrix, _ r: Matrix, weights: [Double]?) -> Matrix {
    var out = r
    let k = r.columns
    for i in 0..<r.rows {
      let w = weights?[i] ?? 1
      if k == 1 {
        let s = p.elements[i]
        out.elements[i] = w == 0 ? 0 : w * s * (1 - s) * r.elements[i]
        continue
      }
      var dot = 0.0
      for j in 0..<k { dot += p[i, j] * r[i, j] }
      for j in 0..<k { out[i, j] = w == 0 ? 0 : w * p[i, j] * (r[i, j] - dot) }
    }
    return out
  }

  // MARK: - Public API

  /// `[1 - sigma(z), sigma(z)]` (sigmoid output) or `softmax(z)` rows (`n x outputClassCount`).
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    let logits = forward(parameters, features: features).logits
    let n = logits.rows
    if logits.columns == 1 {
      var out = Matrix(rows: n, columns: 2)
      for i in 0..<n {
        out[i, 0] = LogisticFunctions.sigmoid(-logits.elements[i])
        out[i, 1] = LogisticFunctions.sigmoid(logits.elements[i])
      }
      return out
    }
    var p = logits
    _ = LogisticFunctions.softmaxRows(&p.elements, rows: n, columns: logits.columns)
    return p
  }

  /// Binary cross-entropy on the logit (stable softplus form) or softmax cross-entropy.
  public func losses(_ parameters: [Double], features: Matrix, targets: [Double]) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: nil)
    let logits = forward(parameters, features: features).logits
    return outputLayer(logits: logits, targets: targets).losses
  }

  /// One forward pass and backpropagation (`2 L` `gemm`s after the forward ones).
  public func lossAndGradient(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> (value: Double, gradient: [Double]) {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let pass = forward(parameters, features: features)
    var out = outputLayer(logits: pass.logits, targets: targets)
    if let weights { out.delta.scaleRows(by: weights) }
    var gradient = [Double](repeating: 0, count: parameterCount)
    var delta = out.delta
    for (l, layer) in layers.enumerated().reversed() {
      let gw = Matrix.product(delta, pass.activations[l], transposeA: true)
      store(gw.elements, columnSums(delta), layer, into: &gradient)
      if l > 0 {
        delta = Matrix.product(delta, weightMatrix(layer, parameters))
        multiplyByFirstDerivative(&delta, activations: pass.activations[l])
      }
    }
    return (weightedSum(out.losses, weights: weights), gradient)
  }

  /// The exact Hessian-vector product by the R-operator (Pearlmutter 1994).
  ///
  /// Forward: `R{Z_l} = R{A_{l-1}} W_l^T + A_{l-1} V_l^T + 1 v_b^T`,
  /// `R{A_l} = f'(Z_l) * R{Z_l}`. Output: `R{Delta_L} = diag(w) H_out R{Z_L}`. Backward:
  /// `R{g_W} = R{Delta}^T A + Delta^T R{A}`, `R{g_b} = R{Delta}^T 1`,
  /// `R{Delta_{l-1}} = (R{Delta} W + Delta V) * f' + (Delta W) * f'' * R{Z_{l-1}}`.
  /// Cost: about 3 gradient evaluations.
  public func lossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    secondOrderProduct(
      parameters, features: features, targets: targets, weights: weights, vector: vector,
      gaussNewton: false)
  }

  /// The Gauss-Newton product `sum_i w_i J_i^T H_out,i J_i v` (positive semidefinite): the
  /// R-operator's forward pass, the output curvature, then plain backpropagation.
  public func lossGaussNewtonVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    secondOrderProduct(
      parameters, features: features, targets: targets, weights: weights, vector: vector,
      gaussNewton: true)
  }

  /// Row `i` holds `grad loss_i` (`n x p`): backpropagation of the unweighted output deltas,
  /// then an `O(n p)` fill of the per-sample outer products.
  public func perSampleGradients(_ parameters: [Double], features: Matrix, targets: [Double])
    -> Matrix
  {
    checkShapes(parameters, features: features, targets: targets, weights: nil)
    let pass = forward(parameters, features: features)
    var delta = outputLayer(logits: pass.logits, targets: targets).delta
    let (n, p) = (features.rows, parameterCount)
    var g = Matrix(rows: n, columns: p)
    for (l, layer) in layers.enumerated().reversed() {
      let a = pass.activations[l]
      let (o, inputs) = (layer.outputs, layer.inputs)
      delta.elements.withUnsafeBufferPointer { dl in
        a.elements.withUnsafeBufferPointer { al in
          g.elements.withUnsafeMutableBufferPointer { out in
            for i in 0..<n {
              let row = i * p
              for r in 0..<o {
                let dr = dl[i * o + r]
                let base = row + layer.weightOffset + r * inputs
                for c in 0..<inputs { out[base + c] = dr * al[i * inputs + c] }
                out[row + layer.biasOffset + r] = dr
              }
            }
          }
        }
      }
      if l > 0 {
        delta = Matrix.product(delta, weightMatrix(layer, parameters))
        multiplyByFirstDerivative(&delta, activations: a)
      }
    }
    return g
  }

  // MARK: - Kernels

  func columnSums(_ m: Matrix) -> [Double] {
    m.multiply([Double](repeating: 1, count: m.rows), transposed: true)
  }

  func store(_ gw: [Double], _ gb: [Double], _ layer: LayerLayout, into g: inout [Double]) {
    for j in gw.indices { g[layer.weightOffset + j] = gw[j] }
    for j in gb.indices { g[layer.biasOffset + j] = gb[j] }
  }

  /// `m <- m * f'(A)` elementwise.
  func multiplyByFirstDerivative(_ m: inout Matrix, activations a: Matrix) {
    let f = hiddenActivation
    a.elements.withUnsafeBufferPointer { pa in
      m.elements.withUnsafeMutableBufferPointer { pm in
        for e in pm.indices { pm[e] *= f.firstDerivative(output: pa[e]) }
      }
    }
  }

  func secondOrderProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double], gaussNewton: Bool
  ) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    precondition(vector.count == parameterCount, "HVP: vector has \(vector.count) entries")
    let pass = forward(parameters, features: features)
    let layout = layers
    // Forward pass of directional derivatives.
    var rA: [Matrix?] = [nil]
    var rZ: [Matrix] = []
    for (l, layer) in layout.enumerated() {
      var rz = Matrix.product(pass.activations[l], weightMatrix(layer, vector), transposeB: true)
      addBias(&rz, layer, vector)
      if let ra = rA[l] {
        Matrix.gemm(ra, weightMatrix(layer, parameters), transposeB: true, beta: 1, into: &rz)
      }
      if l < layerCount - 1 {
        var ra = rz
        multiplyByFirstDerivative(&ra, activations: pass.activations[l + 1])
        rA.append(ra)
      }
      rZ.append(rz)
    }
    let out = outputLayer(logits: pass.logits, targets: targets)
    var rDelta = outputCurvatureProduct(
      probabilities: out.probabilities, rZ[layerCount - 1], weights: weights)
    var delta = out.delta
    if let weights, !gaussNewton { delta.scaleRows(by: weights) }
    // Backward pass of R{delta}.
    var result = [Double](repeating: 0, count: parameterCount)
    let f = hiddenActivation
    for (l, layer) in layout.enumerated().reversed() {
      let a = pass.activations[l]
      var rgw = Matrix.product(rDelta, a, transposeA: true)
      if !gaussNewton, let ra = rA[l] {
        Matrix.gemm(delta, ra, transposeA: true, beta: 1, into: &rgw)
      }
      store(rgw.elements, columnSums(rDelta), layer, into: &result)
      guard l > 0 else { break }
      let w = weightMatrix(layer, parameters)
      var rm = Matrix.product(rDelta, w)
      if gaussNewton {
        multiplyByFirstDerivative(&rm, activations: a)
        rDelta = rm
        continue
      }
      Matrix.gemm(delta, weightMatrix(layer, vector), beta: 1, into: &rm)
      var m = Matrix.product(delta, w)
      let rzPrevious = rZ[l - 1]
      a.elements.withUnsafeBufferPointer { pa in
        rzPrevious.elements.withUnsafeBufferPointer { prz in
          m.elements.withUnsafeMutableBufferPointer { pm in
            rm.elements.withUnsafeMutableBufferPointer { prm in
              for e in pm.indices {
                let d1 = f.firstDerivative(output: pa[e])
                let d2 = f.secondDerivative(output: pa[e])
                prm[e] = prm[e] * d1 + pm[e] * d2 * prz[e]
                pm[e] *= d1
              }
            }
          }
        }
      }
      rDelta = rm
      delta = m
    }
    return result
  }
}
