/// A dense matrix of `Double`s stored **row-major** in one contiguous array.
///
/// Element `(i, j)` lives at `elements[i * columns + j]`. A row of an `n x d` data matrix is one
/// sample, contiguous in memory. Because a symmetric matrix is its own transpose, a row-major
/// symmetric matrix can be handed to column-major LAPACK routines without any transposing copy
/// (row-major upper triangle = column-major lower triangle); the types in this module rely on
/// that.
///
/// `Matrix` is a value type: copies share storage until one of them is mutated (copy-on-write
/// comes from `Array`). Equality is exact, element by element; use
/// ``isApproximatelyEqual(to:relativeTolerance:)`` for numerical comparisons.
public struct Matrix: Sendable, Equatable, Hashable {
  /// Number of rows.
  public private(set) var rows: Int
  /// Number of columns.
  public private(set) var columns: Int
  /// The `rows * columns` elements in row-major order.
  public var elements: [Double] {
    didSet {
      precondition(elements.count == rows * columns, "Matrix: element count changed")
    }
  }

  /// Creates a `rows x columns` matrix filled with `value`.
  public init(rows: Int, columns: Int, repeating value: Double = 0) {
    precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows) x \(columns)")
    self.rows = rows
    self.columns = columns
    self.elements = Array(repeating: value, count: rows * columns)
  }

  /// Creates a matrix from row-major `elements`; `elements.count` must equal `rows * columns`.
  public init(rows: Int, columns: Int, elements: [Double]) {
    precondition(
      elements.count == rows * columns,
      "Matrix: \(elements.count) elements for a \(rows) x \(columns) matrix")
    self.rows = rows
    self.columns = columns
    self.elements = elements
  }

  /// Creates a matrix from an array of equally long rows.
  public init(rowArrays: [[Double]]) {
    let columns = rowArrays.first?.count ?? 0
    for (i, row) in rowArrays.enumerated() {
      precondition(
        row.count == columns, "Matrix: row \(i) has \(row.count) columns, expected \(columns)")
    }
    self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
  }

  /// Creates a matrix by evaluating `body(i, j)` for every element.
  public init(rows: Int, columns: Int, _ body: (Int, Int) throws -> Double) rethrows {
    var elements = [Double]()
    elements.reserveCapacity(rows * columns)
    for i in 0..<rows {
      for j in 0..<columns { elements.append(try body(i, j)) }
    }
    self.init(rows: rows, columns: columns, elements: elements)
  }

  /// The `n x n` identity matrix scaled by `scale`.
  public static func identity(_ n: Int, scale: Double = 1) -> Matrix {
    var m = Matrix(rows: n, columns: n)
    for i in 0..<n { m.elements[i * n + i] = scale }
    return m
  }

  /// A square matrix with `diagonal` on its diagonal.
  public static func diagonal(_ diagonal: [Double]) -> Matrix {
    let n = diagonal.count
    var m = Matrix(rows: n, columns: n)
    for i in 0..<n { m.elements[i * n + i] = diagonal[i] }
    return m
  }

  /// Element `(row, column)`.
  @inlinable
  public subscript(row: Int, column: Int) -> Double {
    get { elements[row * columns + column] }
    set { elements[row * columns + column] = newValue }
  }

  /// `(rows, columns)`.
  public var shape: (rows: Int, columns: Int) { (rows, columns) }

  /// Whether the matrix is square.
  public var isSquare: Bool { rows == columns }

  /// Row `i` as an array (a copy of `columns` elements).
  public func row(_ i: Int) -> [Double] {
    precondition(i >= 0 && i < rows, "Matrix: row \(i) out of range 0..<\(rows)")
    return Array(elements[(i * columns)..<((i + 1) * columns)])
  }

  /// Column `j` as an array (a strided copy of `rows` elements).
  public func column(_ j: Int) -> [Double] {
    precondition(j >= 0 && j < columns, "Matrix: column \(j) out of range 0..<\(columns)")
    return (0..<rows).map { elements[$0 * columns + j] }
  }

  /// The diagonal of a square matrix.
  public var diagonal: [Double] {
    (0..<Swift.min(rows, columns)).map { elements[$0 * columns + $0] }
  }

  /// The rows at `indices`, in that order, as a new `indices.count x columns` matrix.
  ///
  /// Cost: one copy of the selected rows (`O(indices.count * columns)`).
  public func rows<C: Collection>(at indices: C) -> Matrix where C.Element == Int {
    var out = [Double]()
    out.reserveCapacity(indices.count * columns)
    elements.withUnsafeBufferPointer { buffer in
      for i in indices {
        precondition(i >= 0 && i < rows, "Matrix: row \(i) out of range 0..<\(rows)")
        out.append(contentsOf: buffer[(i * columns)..<((i + 1) * columns)])
      }
    }
    return Matrix(rows: indices.count, columns: columns, elements: out)
  }

  /// The transpose (a copy).
  public func transposed() -> Matrix {
    var out = [Double](repeating: 0, count: elements.count)
    elements.withUnsafeBufferPointer { a in
      out.withUnsafeMutableBufferPointer { t in
        // Blocked to stay cache friendly for large matrices.
        let block = 32
        var i0 = 0
        while i0 < rows {
          var j0 = 0
          while j0 < columns {
            for i in i0..<Swift.min(i0 + block, rows) {
              for j in j0..<Swift.min(j0 + block, columns) {
                t[j * rows + i] = a[i * columns + j]
              }
            }
            j0 += block
          }
          i0 += block
        }
      }
    }
    return Matrix(rows: columns, columns: rows, elements: out)
  }

  /// Appends `other`'s rows below this matrix's rows (same column count).
  public mutating func appendRows(of other: Matrix) {
    precondition(
      other.columns == columns || rows == 0,
      "Matrix: cannot append \(other.columns)-column rows to a \(columns)-column matrix")
    if rows == 0 { columns = other.columns }
    rows += other.rows
    elements.append(contentsOf: other.elements)
  }

  /// Whether every element is finite (no NaN, no infinity).
  public var isFinite: Bool { elements.allSatisfy { $0.isFinite } }

  /// Frobenius norm `sqrt(sum_ij a_ij^2)`.
  public var frobeniusNorm: Double { elements.norm() }

  /// Whether `self` and `other` have the same shape and
  /// `||self - other||_F <= relativeTolerance * max(||self||_F, ||other||_F)`.
  public func isApproximatelyEqual(to other: Matrix, relativeTolerance: Double) -> Bool {
    guard rows == other.rows, columns == other.columns else { return false }
    let scale = Swift.max(frobeniusNorm, other.frobeniusNorm)
    let diff = elements.subtracting(other.elements).norm()
    return diff <= relativeTolerance * scale
  }

  /// `max_ij |a_ij - a_ji|` for a square matrix: zero for an exactly symmetric one.
  public var asymmetry: Double {
    precondition(isSquare, "Matrix: asymmetry of a non-square matrix")
    var worst = 0.0
    for i in 0..<rows {
      for j in (i + 1)..<columns {
        worst = Swift.max(worst, abs(self[i, j] - self[j, i]))
      }
    }
    return worst
  }

  /// Copies the upper triangle into the lower one (makes a square matrix exactly symmetric).
  public mutating func symmetrizeFromUpper() {
    precondition(isSquare, "Matrix: symmetrize a non-square matrix")
    let n = rows
    elements.withUnsafeMutableBufferPointer { a in
      for i in 0..<n {
        for j in (i + 1)..<n { a[j * n + i] = a[i * n + j] }
      }
    }
  }

  /// Adds `value` to every diagonal element (`A + value * I`).
  public mutating func addToDiagonal(_ value: Double) {
    for i in 0..<Swift.min(rows, columns) { elements[i * columns + i] += value }
  }
}

extension Matrix: CustomStringConvertible {
  public var description: String {
    var lines = ["Matrix \(rows) x \(columns)"]
    for i in 0..<Swift.min(rows, 8) {
      let shown = (0..<Swift.min(columns, 8)).map { String(format6(self[i, $0])) }
      lines.append("  [" + shown.joined(separator: ", ") + (columns > 8 ? ", ..." : "") + "]")
    }
    if rows > 8 { lines.append("  ...") }
    return lines.joined(separator: "\n")
  }
}

@usableFromInline
func format6(_ x: Double) -> String {
  let rounded = (x * 1e6).rounded() / 1e6
  return "\(rounded)"
}

extension Matrix: Codable {
  private enum CodingKeys: String, CodingKey { case rows, columns, elements }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let rows = try c.decode(Int.self, forKey: .rows)
    let columns = try c.decode(Int.self, forKey: .columns)
    let elements = try c.decode([Double].self, forKey: .elements)
    guard rows >= 0, columns >= 0, elements.count == rows * columns else {
      throw DecodingError.dataCorruptedError(
        forKey: .elements, in: c,
        debugDescription: "\(elements.count) elements for a \(rows) x \(columns) matrix")
    }
    self.init(rows: rows, columns: columns, elements: elements)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(rows, forKey: .rows)
    try c.encode(columns, forKey: .columns)
    try c.encode(elements, forKey: .elements)
  }
}
