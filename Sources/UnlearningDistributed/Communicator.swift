import CMPI
import LinearAlgebra

/// An MPI call that failed, or a collective used inconsistently.
///
/// Every MPI return code is checked: the world communicator is switched to
/// `MPI_ERRORS_RETURN`, so a failing call returns its code and becomes this error instead of
/// aborting the job.
public enum MPIError: Error, Equatable, Sendable, CustomStringConvertible {
  /// `function` returned `code` (MPI's error class text in `message`).
  case callFailed(function: String, code: Int32, message: String)
  /// A buffer has more than `Int32.max` elements (MPI counts are C `int`).
  case countTooLarge(Int)
  /// A root rank outside `0..<size`.
  case invalidRoot(Int, size: Int)

  /// One line naming the call.
  public var description: String {
    switch self {
    case .callFailed(let function, let code, let message):
      return "MPI error in \(function) (code \(code)): \(message)"
    case .countTooLarge(let count):
      return "MPI buffer of \(count) elements exceeds the C int range"
    case .invalidRoot(let root, let size):
      return "MPI root rank \(root) is outside 0..<\(size)"
    }
  }
}

/// A thin, checked wrapper of an MPI communicator (Open MPI's C interface).
///
/// Conventions: every collective must be called by every rank of the communicator, in the same
/// order, with the same element counts (``gather(_:root:)``, ``allGather(_:)`` and the byte
/// ``broadcast(_:root:)`` allow per-rank lengths). Ranks are `0..<size`; rank 0 is the root that
/// reads requests and writes files.
///
/// **Replicated sums.** ``allReduceSum(_:)-([Double])`` is `MPI_Reduce` to rank 0 followed by
/// `MPI_Bcast`, so every rank receives the *same bits*. Replicated state (parameters, `b`, the
/// `d x d` factor, certificates) therefore stays bitwise identical on every rank, and every
/// data-dependent decision (accept a step, refresh, retrain) is taken identically without a
/// vote. ``nativeAllReduceSum(_:)`` is plain `MPI_Allreduce` (one collective, but some
/// algorithms may round differently per rank); it is measured by `unlearn-mpi bench`.
///
/// Cost model (latency `alpha`, inverse bandwidth `beta`, `p` ranks, `w` bytes): a replicated
/// sum is about `2 log2(p) alpha + 2 w beta` (binomial reduce + broadcast, or their pipelined
/// variants for large `w`). Docs/Scaling.md uses these numbers.
public struct Communicator: @unchecked Sendable {
  /// The MPI handle (`MPI_Comm`).
  let handle: MPI_Comm
  /// This process's rank, `0..<size`.
  public let rank: Int
  /// The number of ranks.
  public let size: Int

  /// Whether this is rank 0.
  public var isRoot: Bool { rank == 0 }

  /// `MPI_COMM_WORLD`, initialising MPI first if needed (`MPI_Init_thread` with
  /// `MPI_THREAD_FUNNELED`: only the main thread calls MPI; OpenBLAS threads never do).
  /// Switches the communicator's error handler to `MPI_ERRORS_RETURN`.
  ///
  /// Run the program under `mpirun -np P`; started without `mpirun` it is one rank of size 1.
  ///
  /// - Throws: ``MPIError/callFailed(function:code:message:)``.
  public static func world() throws(MPIError) -> Communicator {
    var initialized: Int32 = 0
    try check(MPI_Initialized(&initialized), "MPI_Initialized")
    if initialized == 0 {
      var provided: Int32 = 0
      try check(
        MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided), "MPI_Init_thread")
    }
    guard let world = cmpi_comm_world() else {
      throw .callFailed(function: "MPI_COMM_WORLD", code: -1, message: "no world communicator")
    }
    try check(MPI_Comm_set_errhandler(world, cmpi_errors_return()), "MPI_Comm_set_errhandler")
    var rank: Int32 = 0
    var size: Int32 = 0
    try check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
    try check(MPI_Comm_size(world, &size), "MPI_Comm_size")
    return Communicator(handle: world, rank: Int(rank), size: Int(size))
  }

  /// Finalises MPI (call once, at the end of the program, on every rank). A no-op when MPI
  /// was never initialised or is already finalised.
  public static func finalize() {
    var initialized: Int32 = 0
    var finalized: Int32 = 0
    _ = MPI_Initialized(&initialized)
    _ = MPI_Finalized(&finalized)
    if initialized != 0 && finalized == 0 { _ = MPI_Finalize() }
  }

  /// Terminates every rank of the job with `code` (`MPI_Abort`): for a rank that cannot
  /// continue while others may be blocked in a collective.
  public func abort(code: Int32) -> Never {
    _ = MPI_Abort(handle, code)
    fatalError("MPI_Abort returned")
  }

  /// Seconds on MPI's wall clock (`MPI_Wtime`).
  public static var wallTime: Double { MPI_Wtime() }

  /// Turns an MPI return code into ``MPIError``.
  static func check(_ code: Int32, _ function: String) throws(MPIError) {
    guard code != cmpi_success() else { return }
    var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    var errorClass: Int32 = 0
    _ = MPI_Error_class(code, &errorClass)
    let message: String =
      MPI_Error_string(code, &buffer, &length) == cmpi_success()
      ? String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
      : "unknown MPI error"
    throw .callFailed(function: function, code: code, message: message)
  }

  static func count(_ n: Int) throws(MPIError) -> Int32 {
    guard n <= Int(Int32.max) else { throw .countTooLarge(n) }
    return Int32(n)
  }

  func checkRoot(_ root: Int) throws(MPIError) {
    guard (0..<size).contains(root) else { throw .invalidRoot(root, size: size) }
  }

  /// Blocks until every rank has called it.
  public func barrier() throws(MPIError) {
    try Self.check(MPI_Barrier(handle), "MPI_Barrier")
  }

  // MARK: - Sums

  /// Replaces `values` on every rank by the elementwise sum over ranks, bitwise identical on
  /// every rank (reduce to rank 0, then broadcast). Every rank passes the same count.
  ///
  /// Cost: two collectives of `8 * values.count` bytes; nothing when `size == 1`.
  public func allReduceSum(_ values: inout [Double]) throws(MPIError) {
    guard size > 1, !values.isEmpty else { return }
    let n = try Self.count(values.count)
    let isRoot = isRoot
    let reduced = values.withUnsafeMutableBytes { buffer in
      MPI_Reduce(
        isRoot ? UnsafeRawPointer(cmpi_in_place()) : UnsafeRawPointer(buffer.baseAddress),
        buffer.baseAddress, n, cmpi_double(), cmpi_sum(), 0, handle)
    }
    try Self.check(reduced, "MPI_Reduce")
    let sent = values.withUnsafeMutableBytes { buffer in
      MPI_Bcast(buffer.baseAddress, n, cmpi_double(), 0, handle)
    }
    try Self.check(sent, "MPI_Bcast")
  }

  /// The elementwise sum over ranks of an `r x c` matrix (same shape on every rank), bitwise
  /// identical on every rank: e.g. the local weighted Gram `X_k^T diag(w) X_k` into
  /// `X^T diag(w) X`. Cost: ``allReduceSum(_:)-([Double])`` of `r c` doubles.
  public func allReduceSum(_ matrix: inout Matrix) throws(MPIError) {
    var elements = matrix.elements
    try allReduceSum(&elements)
    matrix = Matrix(rows: matrix.rows, columns: matrix.columns, elements: elements)
  }

  /// The sum over ranks of one number (bitwise identical on every rank).
  public func allReduceSum(_ value: Double) throws(MPIError) -> Double {
    var values = [value]
    try allReduceSum(&values)
    return values[0]
  }

  /// `MPI_Allreduce(MPI_IN_PLACE, ..., MPI_SUM)`: one collective; for benchmarks and for sums
  /// that need not be bitwise replicated.
  public func nativeAllReduceSum(_ values: inout [Double]) throws(MPIError) {
    guard size > 1, !values.isEmpty else { return }
    let n = try Self.count(values.count)
    let code = values.withUnsafeMutableBytes { buffer in
      MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, n, cmpi_double(), cmpi_sum(), handle)
    }
    try Self.check(code, "MPI_Allreduce")
  }

  /// The exact sum over ranks of integers (wrapping on overflow, as `&+`).
  public func allReduceSum(_ values: [UInt64]) throws(MPIError) -> [UInt64] {
    guard size > 1, !values.isEmpty else { return values }
    var out = values
    let n = try Self.count(values.count)
    let code = out.withUnsafeMutableBytes { buffer in
      MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, n, cmpi_uint64(), cmpi_sum(), handle)
    }
    try Self.check(code, "MPI_Allreduce")
    return out
  }

  /// The exact sum over ranks of an integer.
  public func allReduceSum(_ value: Int) throws(MPIError) -> Int {
    Int(truncatingIfNeeded: try allReduceSum([UInt64(truncatingIfNeeded: value)])[0])
  }

  /// The largest value over ranks (exact, identical on every rank).
  public func allReduceMax(_ value: Double) throws(MPIError) -> Double {
    guard size > 1 else { return value }
    var out = value
    let code = MPI_Allreduce(cmpi_in_place(), &out, 1, cmpi_double(), cmpi_max(), handle)
    try Self.check(code, "MPI_Allreduce")
    return out
  }

  // MARK: - Broadcast

  /// `values` of rank `root` on every rank (every rank passes the same count).
  public func broadcast(_ values: inout [Double], root: Int = 0) throws(MPIError) {
    try checkRoot(root)
    guard size > 1, !values.isEmpty else { return }
    let n = try Self.count(values.count)
    let code = values.withUnsafeMutableBytes { buffer in
      MPI_Bcast(buffer.baseAddress, n, cmpi_double(), Int32(root), handle)
    }
    try Self.check(code, "MPI_Bcast")
  }

  /// The bytes of rank `root` on every rank; other ranks' arguments are ignored (their
  /// lengths may differ). Two collectives: the length, then the bytes.
  public func broadcast(_ bytes: [UInt8], root: Int = 0) throws(MPIError) -> [UInt8] {
    try checkRoot(root)
    guard size > 1 else { return bytes }
    var length = Int64(rank == root ? bytes.count : 0)
    try Self.check(MPI_Bcast(&length, 1, cmpi_int64(), Int32(root), handle), "MPI_Bcast")
    let n = try Self.count(Int(length))
    var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
    guard n > 0 else { return buffer }
    let code = buffer.withUnsafeMutableBytes { raw in
      MPI_Bcast(raw.baseAddress, n, cmpi_byte(), Int32(root), handle)
    }
    try Self.check(code, "MPI_Bcast")
    return buffer
  }

  /// The doubles of rank `root` on every rank (other ranks' lengths may differ).
  public func broadcastVector(_ values: [Double], root: Int = 0) throws(MPIError) -> [Double] {
    let bytes = values.withUnsafeBytes { Array($0) }
    let received = try broadcast(bytes, root: root)
    return received.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
  }

  // MARK: - Gather

  /// Every rank's `values` (lengths may differ), in rank order, on rank `root`; `[]` on the
  /// other ranks. `MPI_Gather` of the counts, then `MPI_Gatherv`.
  public func gather(_ values: [Double], root: Int = 0) throws(MPIError) -> [[Double]] {
    try checkRoot(root)
    guard size > 1 else { return [values] }
    var mine = try Self.count(values.count)
    var counts = [Int32](repeating: 0, count: rank == root ? size : 1)
    let gathered = counts.withUnsafeMutableBytes { c in
      MPI_Gather(&mine, 1, cmpi_int32(), c.baseAddress, 1, cmpi_int32(), Int32(root), handle)
    }
    try Self.check(gathered, "MPI_Gather")
    var (displacements, total) = ([Int32](repeating: 0, count: 1), 0)
    if rank == root { (displacements, total) = try Self.displacements(of: counts) }
    var all = [Double](repeating: 0, count: Swift.max(total, 1))
    let code = values.withUnsafeBytes { send in
      all.withUnsafeMutableBytes { receive in
        counts.withUnsafeBufferPointer { c in
          displacements.withUnsafeBufferPointer { o in
            MPI_Gatherv(
              send.baseAddress, mine, cmpi_double(), receive.baseAddress, c.baseAddress,
              o.baseAddress, cmpi_double(), Int32(root), handle)
          }
        }
      }
    }
    try Self.check(code, "MPI_Gatherv")
    guard rank == root else { return [] }
    return Self.split(all, counts: counts, displacements: displacements)
  }

  /// Every rank's `values` (lengths may differ), in rank order, on every rank.
  /// `MPI_Allgather` of the counts, then `MPI_Allgatherv`.
  public func allGather(_ values: [Double]) throws(MPIError) -> [[Double]] {
    guard size > 1 else { return [values] }
    var mine = try Self.count(values.count)
    var counts = [Int32](repeating: 0, count: size)
    let gathered = counts.withUnsafeMutableBytes { c in
      MPI_Allgather(&mine, 1, cmpi_int32(), c.baseAddress, 1, cmpi_int32(), handle)
    }
    try Self.check(gathered, "MPI_Allgather")
    let (displacements, total) = try Self.displacements(of: counts)
    var all = [Double](repeating: 0, count: Swift.max(total, 1))
    let code = values.withUnsafeBytes { send in
      all.withUnsafeMutableBytes { receive in
        counts.withUnsafeBufferPointer { c in
          displacements.withUnsafeBufferPointer { o in
            MPI_Allgatherv(
              send.baseAddress, mine, cmpi_double(), receive.baseAddress, c.baseAddress,
              o.baseAddress, cmpi_double(), handle)
          }
        }
      }
    }
    try Self.check(code, "MPI_Allgatherv")
    return Self.split(all, counts: counts, displacements: displacements)
  }

  /// The offsets of per-rank blocks of `counts` elements laid end to end, and their total
  /// (each checked against the C `int` range).
  static func displacements(of counts: [Int32]) throws(MPIError) -> (
    displacements: [Int32], total: Int
  ) {
    var displacements = [Int32](repeating: 0, count: counts.count)
    var total = 0
    for k in counts.indices {
      displacements[k] = try count(total)
      total += Int(counts[k])
    }
    _ = try count(total)
    return (displacements, total)
  }

  /// The per-rank blocks of a gathered buffer.
  static func split(_ all: [Double], counts: [Int32], displacements: [Int32]) -> [[Double]] {
    counts.indices.map { k in
      Array(all[Int(displacements[k])..<(Int(displacements[k]) + Int(counts[k]))])
    }
  }
}
