import Foundation
import LinearAlgebra
import Unlearning

/// Errors of the distributed layer. Every rank throws the same error for the same input: the
/// checks run on replicated values (after a collective), so no rank is left waiting in a
/// collective another rank skipped.
public enum DistributedError: Error, Equatable, Sendable, CustomStringConvertible {
  /// An MPI call failed.
  case mpi(MPIError)
  /// Rank `rank` of `rankCount` holds no rows (too few rows for this many ranks, or an
  /// unlucky id hash): every rank must hold at least one row.
  case emptyShard(rank: Int, rankCount: Int, rowCount: Int)
  /// The sharded data does not have the fingerprint a model file records.
  case dataMismatch(expected: String, found: String)
  /// An argument is out of range (the text says which).
  case invalidArgument(String)
  /// The operation is not available for this model or state.
  case unsupported(String)
  /// A Hessian could not be factored.
  case notPositiveDefinite(String)
  /// An id is held by more than one rank.
  case idOnSeveralRanks(SampleID)
  /// A request the library refuses (unknown, duplicate or already forgotten id, nothing left).
  case unlearning(UnlearningError)

  /// One line.
  public var description: String {
    switch self {
    case .mpi(let error): return error.description
    case .emptyShard(let rank, let rankCount, let rowCount):
      return "rank \(rank) of \(rankCount) holds no rows of the \(rowCount) training rows:"
        + " use fewer ranks (every rank needs at least one row)"
    case .dataMismatch(let expected, let found):
      return "the sharded data has fingerprint \(found), the model file records \(expected):"
        + " not the data this model was trained on"
    case .invalidArgument(let text): return "invalid argument: \(text)"
    case .unsupported(let text): return "unsupported: \(text)"
    case .notPositiveDefinite(let text): return "not positive definite: \(text)"
    case .idOnSeveralRanks(let id): return "sample id \(id) is held by more than one rank"
    case .unlearning(let error): return error.description
    }
  }
}

/// Runs `body`, turning ``MPIError`` into ``DistributedError/mpi(_:)``.
@inline(__always)
func mpi<T>(_ body: () throws(MPIError) -> T) throws(DistributedError) -> T {
  do {
    return try body()
  } catch {
    throw .mpi(error)
  }
}

/// This rank's shard of a row-partitioned training set, with the global facts every rank
/// agrees on.
///
/// Rows are assigned by sample id, deterministically and independently of row order:
/// ``owner(of:rankCount:)`` hashes the id (SplitMix64) modulo the rank count, so the same
/// data gives the same shards on every run, and a rank can pick its rows out of a stream or a
/// pre-split file without seeing the others. Ids stay global: requests, removed-id lists and
/// model files name the same ids as with one process. Within a shard, rows keep their order
/// in the source.
///
/// The ``fingerprint`` is combined across ranks and does not depend on the rank count or on
/// row order: the wrapping sum over rows of a 64-bit FNV-1a hash of (id, label, feature
/// bits), mixed with `n`, `d` and `K`. (It differs from ``Dataset/fingerprint``, which hashes
/// the rows in order; a model file written by `unlearn-mpi` records this one.)
public struct ShardedData: Sendable {
  /// The communicator the shard belongs to.
  public let communicator: Communicator
  /// This rank's rows (global ids, the full data's class count and names).
  public let local: Dataset
  /// Rows held by each rank, in rank order.
  public let rankCounts: [Int]
  /// The fingerprint of the whole data set (identical on every rank).
  public let fingerprint: String

  /// `n`, the global row count.
  public var globalCount: Int { rankCounts.reduce(0, +) }
  /// `d`.
  public var featureCount: Int { local.featureCount }

  /// The rank that holds `id` when data is split over `rankCount` ranks.
  public static func owner(of id: SampleID, rankCount: Int) -> Int {
    precondition(rankCount >= 1, "rankCount must be >= 1")
    return Int(splitMix64(UInt64(bitPattern: Int64(id.rawValue))) % UInt64(rankCount))
  }

  /// Keeps this rank's rows of `full` (every rank passes the same data set, e.g. each rank
  /// loads the same file; only the shard is kept).
  ///
  /// Cost: `O(n d)` to copy the shard and hash it, two small collectives.
  /// - Throws: ``DistributedError/emptyShard(rank:rankCount:rowCount:)`` on every rank when
  ///   any rank would hold no row; ``DistributedError/mpi(_:)``.
  public init(sharding full: Dataset, communicator: Communicator) throws(DistributedError) {
    let rows = full.ids.indices.filter {
      Self.owner(of: full.ids[$0], rankCount: communicator.size) == communicator.rank
    }
    try self.init(local: full.rows(at: rows), communicator: communicator)
  }

  /// A shard this rank already holds (for example read from its own part of a pre-split
  /// file). Ids must be unique across ranks; the shard need not follow
  /// ``owner(of:rankCount:)``.
  ///
  /// - Throws: ``DistributedError/emptyShard(rank:rankCount:rowCount:)`` on every rank when
  ///   any rank holds no row, ``DistributedError/invalidArgument(_:)`` when ranks disagree on
  ///   the feature or class count; ``DistributedError/mpi(_:)``.
  public init(local: Dataset, communicator: Communicator) throws(DistributedError) {
    self.communicator = communicator
    self.local = local
    let counts = try mpi { () throws(MPIError) in
      try communicator.allGather([
        Double(local.count), Double(local.featureCount), Double(local.classCount),
      ])
    }
    rankCounts = counts.map { Int($0[0]) }
    for k in counts.indices
    where Int(counts[k][1]) != local.featureCount || Int(counts[k][2]) != local.classCount {
      throw .invalidArgument(
        "rank \(k) has \(Int(counts[k][1])) features and \(Int(counts[k][2])) classes,"
          + " rank \(communicator.rank) has \(local.featureCount) and \(local.classCount)")
    }
    if let empty = rankCounts.firstIndex(of: 0) {
      throw .emptyShard(
        rank: empty, rankCount: communicator.size, rowCount: rankCounts.reduce(0, +))
    }
    var sum: UInt64 = 0
    let d = local.featureCount
    local.features.elements.withUnsafeBufferPointer { x in
      for i in 0..<local.count {
        var hash = FNV1a()
        hash.mix(UInt64(bitPattern: Int64(local.ids[i].rawValue)))
        hash.mix(UInt64(bitPattern: Int64(local.labels[i])))
        for j in 0..<d { hash.mix(x[i * d + j].bitPattern) }
        sum = sum &+ hash.value
      }
    }
    let total = try mpi { () throws(MPIError) in try communicator.allReduceSum([sum])[0] }
    var hash = FNV1a()
    hash.mix(UInt64(rankCounts.reduce(0, +)))
    hash.mix(UInt64(d))
    hash.mix(UInt64(local.classCount))
    hash.mix(total)
    let hex = String(hash.value, radix: 16)
    fingerprint = String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// This rank's part of a pre-split data set (for example `data.part-K.csv` read by rank `K`):
  /// the parts together are the training set, in any split over the ranks.
  ///
  /// Ids stay global: either the parts carry them (an id column), or, with
  /// `numberingRowsFromOffset`, row `i` of rank `k`'s part gets id `o_k + i` where `o_k` is the
  /// number of rows of ranks `0..<k` (the ids of the concatenated parts, in rank order). An id
  /// held by two ranks is refused on every rank. The ``fingerprint`` does not depend on the
  /// split: the same rows give the fingerprint of ``init(sharding:communicator:)``.
  ///
  /// - Throws: ``DistributedError/idOnSeveralRanks(_:)`` (the first repeated id in rank order,
  ///   on every rank), as ``init(local:communicator:)``; ``DistributedError/mpi(_:)``.
  /// - Cost: one all-gather of the row counts and one of the `n` ids (every rank holds the `n`
  ///   ids for the check, `8 n` bytes), plus ``init(local:communicator:)``.
  public init(part: Dataset, communicator: Communicator, numberingRowsFromOffset: Bool)
    throws(DistributedError)
  {
    var part = part
    if numberingRowsFromOffset {
      let counts = try mpi { () throws(MPIError) in
        try communicator.allGather([Double(part.count)])
      }
      let offset = counts[0..<communicator.rank].reduce(0) { $0 + Int($1[0]) }
      do {
        part = try Dataset(
          features: part.features, labels: part.labels,
          ids: (offset..<(offset + part.count)).map { SampleID($0) }, classCount: part.classCount,
          classNames: part.classNames, featureNames: part.featureNames, name: part.name)
      } catch {
        throw .invalidArgument(error.description)
      }
    }
    let mine = part.ids.map { Double(bitPattern: UInt64(bitPattern: Int64($0.rawValue))) }
    let all = try mpi { () throws(MPIError) in try communicator.allGather(mine) }
    var seen = Set<Int64>(minimumCapacity: all.reduce(0) { $0 + $1.count })
    for ids in all {
      for bits in ids {
        let id = Int64(bitPattern: bits.bitPattern)
        guard seen.insert(id).inserted else { throw .idOnSeveralRanks(SampleID(Int(id))) }
      }
    }
    try self.init(local: part, communicator: communicator)
  }

  /// Local row positions of the ids this rank holds, keyed by position in `ids`.
  func localRows(of ids: [SampleID]) -> [(request: Int, row: Int)] {
    ids.indices.compactMap { k in local.rowIndex(of: ids[k]).map { (k, $0) } }
  }
}

/// 64-bit FNV-1a over the bytes of 64-bit words.
struct FNV1a {
  var value: UInt64 = 0xcbf2_9ce4_8422_2325

  mutating func mix(_ word: UInt64) {
    var v = word
    for _ in 0..<8 {
      value ^= v & 0xff
      value = value &* 0x0000_0100_0000_01b3
      v >>= 8
    }
  }
}

/// SplitMix64's finaliser: a bijective 64-bit mixer.
func splitMix64(_ x: UInt64) -> UInt64 {
  var z = x &+ 0x9e37_79b9_7f4a_7c15
  z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
  z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
  return z ^ (z >> 31)
}
