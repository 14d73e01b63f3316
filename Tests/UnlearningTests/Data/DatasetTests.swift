import Testing
import Unlearning

extension DataTests {
  @Suite("Dataset")
  struct DatasetTests {
    /// `n` rows; row `i` is `[i, -2i, 0.5]` with label `i % 3` and id `1000 + 7 * i`
    /// (so ids are unrelated to positions), which lets every test recompute what a row must hold.
    static func sample(_ n: Int = 12) throws -> Dataset {
      try Dataset(
        features: Matrix(rows: n, columns: 3) { i, j in [Double(i), -2 * Double(i), 0.5][j] },
        labels: (0..<n).map { $0 % 3 }, ids: (0..<n).map { SampleID(1000 + 7 * $0) },
        classCount: 3, name: "sample")
    }

    /// Checks that each row's features and label are those of the original row with its id.
    static func expectAligned(_ d: Dataset, sourceLocation: SourceLocation = #_sourceLocation) {
      for row in 0..<d.count {
        let i = (d.ids[row].rawValue - 1000) / 7
        #expect(
          d.features.row(row) == [Double(i), -2 * Double(i), 0.5], sourceLocation: sourceLocation)
        #expect(d.labels[row] == i % 3, sourceLocation: sourceLocation)
      }
    }

    @Test("basic properties")
    func properties() throws {
      let d = try Self.sample()
      #expect(d.count == 12 && d.featureCount == 3 && d.classCount == 3)
      #expect(d.classNames == ["0", "1", "2"])
      #expect(d.targets == d.labels.map(Double.init))
      #expect(d.labelCounts == [4, 4, 4])
      #expect(d.rowIndex(of: 1035) == 5)
      #expect(d.rowIndex(of: 1001) == nil)
    }

    @Test(
      "subset keeps the requested order and alignment",
      arguments: [[SampleID]([1035, 1000, 1077]), [], [1014]])
    func subset(ids: [SampleID]) throws {
      let d = try Self.sample()
      let s = try d.subset(ids: ids)
      #expect(s.ids == ids)
      #expect(s.count == ids.count && s.featureCount == 3)
      Self.expectAligned(s)
    }

    @Test(
      "removing keeps every other sample in order",
      arguments: [[SampleID]([1035, 1000]), [], [1077, 1007, 1014]])
    func removing(ids: [SampleID]) throws {
      let d = try Self.sample()
      let r = try d.removing(ids: ids)
      #expect(r.ids == d.ids.filter { !ids.contains($0) })
      Self.expectAligned(r)
      let weights = try d.weights(removing: ids)
      #expect(weights == d.ids.map { ids.contains($0) ? 0 : 1 })
    }

    @Test("unknown and repeated ids throw naming the id")
    func badRequests() throws {
      let d = try Self.sample()
      #expect(dataError { try d.subset(ids: [1000, 1001]) } == .unknownID(1001))
      #expect(
        dataError { try d.removing(ids: [1007, 1014, 1007]) } == .duplicateID(1007, location: nil))
      #expect(dataError { try d.weights(removing: [5]) } == .unknownID(5))
      #expect(
        dataError { try d.rowIndices(of: [1000, 1000]) }?.description == "duplicate sample id 1000")
      #expect(DataError.unknownID(1001).description == "unknown sample id 1001")
    }

    @Test("the initializer validates shapes, values, labels and ids")
    func validation() {
      let m = Matrix(rows: 2, columns: 2, elements: [0, 1, 2, 3])
      #expect(
        dataError { try Dataset(features: m, labels: [0]) }
          == .shapeMismatch("1 labels for 2 feature rows"))
      #expect(
        dataError { try Dataset(features: m, labels: [0, 1], ids: [4]) }
          == .shapeMismatch("1 ids for 2 feature rows"))
      #expect(
        dataError { try Dataset(features: m, labels: [0, 1], ids: [4, 4]) }
          == .duplicateID(4, location: nil))
      #expect(
        dataError { try Dataset(features: m, labels: [0, 2], classCount: 2) }
          == .labelOutOfRange(row: 1, label: 2, classCount: 2))
      #expect(
        dataError { try Dataset(features: m, labels: [-1, 0]) }
          == .labelOutOfRange(row: 0, label: -1, classCount: 1))
      let bad = Matrix(rows: 2, columns: 2, elements: [0, 1, .infinity, 3])
      #expect(
        dataError { try Dataset(features: bad, labels: [0, 1]) }
          == .nonFiniteFeature(row: 1, column: 0))
      let nan = Matrix(rows: 2, columns: 2, elements: [0, .nan, 1, 3])
      #expect(
        dataError { try Dataset(features: nan, labels: [0, 1]) }
          == .nonFiniteFeature(row: 0, column: 1))
      #expect(dataError { try Dataset(features: m, labels: [0, 1], classNames: ["a"]) } != nil)
      #expect(dataError { try Dataset(features: m, labels: [0, 1], featureNames: ["x"]) } != nil)
    }

    @Test(
      "split partitions the ids, is deterministic per seed and varies across seeds",
      arguments: [0, 1, 5, 40])
    func split(testCount: Int) throws {
      let d = try Self.sample(40)
      let (train, test) = d.split(testCount: testCount, seed: 7)
      #expect(test.count == testCount && train.count == 40 - testCount)
      #expect(Set(train.ids).isDisjoint(with: test.ids))
      #expect(Set(train.ids).union(test.ids) == Set(d.ids))
      #expect(train.ids == train.ids.sorted() && test.ids == test.ids.sorted())
      Self.expectAligned(train)
      Self.expectAligned(test)
      let again = d.split(testCount: testCount, seed: 7)
      #expect(again.train == train && again.test == test)
      if testCount == 5 {
        let others = (8..<13).map { d.split(testCount: 5, seed: UInt64($0)).test.ids }
        #expect(others.contains { $0 != test.ids })
      }
    }

    @Test("row normalisation gives unit norms and keeps zero rows zero")
    func normalization() throws {
      let m = Matrix(rows: 3, columns: 2, elements: [3, 4, 0, 0, -0.5, 0])
      let d = try Dataset(features: m, labels: [0, 1, 0], ids: [9, 8, 7])
      #expect(d.maximumRowNorm == 5)
      let n = d.normalizingRows()
      #expect(
        n.features.elements.isApproximatelyEqual(
          to: [0.6, 0.8, 0, 0, -1, 0], relativeTolerance: 1e-15))
      #expect(n.features.row(1) == [0, 0])
      #expect(n.ids == [9, 8, 7] && n.labels == [0, 1, 0])
      #expect(n.maximumRowNorm == 1)
      #expect(try n.subset(ids: [7]).features.elements == [-1, 0])
    }

    @Test("appending a constant feature")
    func constantFeature() throws {
      let m = Matrix(rows: 2, columns: 2, elements: [1, 2, 3, 4])
      let d = try Dataset(features: m, labels: [0, 1], featureNames: ["a", "b"])
      let a = d.appendingConstantFeature()
      #expect(a.features == Matrix(rows: 2, columns: 3, elements: [1, 2, 1, 3, 4, 1]))
      #expect(a.featureNames == ["a", "b", "intercept"])
      #expect(a.rowIndex(of: 1) == 1)
    }
  }
}
