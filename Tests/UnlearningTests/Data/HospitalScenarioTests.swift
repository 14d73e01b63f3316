import Testing
import Unlearning

extension DataTests {
  @Suite("Scenario.Hospital")
  struct HospitalScenarioTests {
    static func meanAndStandardDeviation(_ xs: [Double]) -> (mean: Double, sd: Double) {
      let mean = xs.reduce(0, +) / Double(xs.count)
      let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
      return (mean, variance.squareRoot())
    }

    @Test(
      "class means and standard deviations match the stated distributions",
      arguments: [UInt64(1), 2])
    func distributions(seed: UInt64) {
      let n = 40_000
      let patients = Scenario.Hospital.patients(seed: seed, patientCount: n)
      let cohorts = [(0, Scenario.Hospital.healthy), (1, Scenario.Hospital.diabetic)]
      for (label, cohort) in cohorts {
        let group = patients.filter { $0.label == label }
        #expect(group.count == n / 2)
        let age = Self.meanAndStandardDeviation(group.map(\.age))
        let glucose = Self.meanAndStandardDeviation(group.map(\.glucose))
        // Standard error of the mean with 20000 samples is sd / 141; allow ~5 standard errors.
        #expect(abs(age.mean - cohort.ageMean) < 5 * cohort.ageStandardDeviation / 141)
        #expect(abs(glucose.mean - cohort.glucoseMean) < 5 * cohort.glucoseStandardDeviation / 141)
        #expect(abs(age.sd / cohort.ageStandardDeviation - 1) < 0.03)
        #expect(abs(glucose.sd / cohort.glucoseStandardDeviation - 1) < 0.03)
      }
      #expect(
        Scenario.Hospital.healthy.ageMean == 40
          && Scenario.Hospital.healthy.glucoseStandardDeviation == 15)
      #expect(
        Scenario.Hospital.diabetic.ageStandardDeviation == 12
          && Scenario.Hospital.diabetic.glucoseMean == 150)
    }

    @Test("the default scenario: 400/100 split, readable unique ids, both classes, ||x|| <= 1")
    func defaultScenario() throws {
      let (train, test) = Scenario.Hospital.make()
      #expect(train.count == 400 && test.count == 100)
      #expect(train.featureCount == 2 && train.classCount == 2)
      #expect(
        train.classNames == ["healthy", "diabetic"] && train.featureNames == ["age", "glucose"])
      let ids = train.ids + test.ids
      #expect(Set(ids).count == 500)
      #expect(Set(ids) == Set((1000..<1500).map { SampleID($0) }))
      #expect(train.labelCounts.allSatisfy { $0 > 150 })
      #expect(train.maximumRowNorm <= 1 + 1e-12 && test.maximumRowNorm <= 1 + 1e-12)
      // Rows agree with the raw patients through the documented constants.
      let patients = Scenario.Hospital.patients()
      for (row, id) in train.ids.enumerated() {
        let patient = patients[id.rawValue - Scenario.Hospital.firstPatientID]
        #expect(patient.id == id && patient.label == train.labels[row])
        var expected = [(patient.age - 47.5) / 50, (patient.glucose - 125) / 100]
        let norm = (expected[0] * expected[0] + expected[1] * expected[1]).squareRoot()
        if norm > 1 { expected = expected.map { $0 / norm } }
        #expect(train.features.row(row) == expected)
      }
    }

    @Test("identical seeds give identical data, different seeds different data")
    func determinism() {
      let a = Scenario.Hospital.make(seed: 3)
      let b = Scenario.Hospital.make(seed: 3)
      let c = Scenario.Hospital.make(seed: 4)
      #expect(a.train == b.train && a.test == b.test)
      #expect(a.train.features != c.train.features)
      #expect(a.test.ids != c.test.ids)
      #expect(Scenario.Hospital.patients(seed: 3) == Scenario.Hospital.patients(seed: 3))
    }

    @Test("scaling constants and the unit-ball projection")
    func scaling() {
      #expect(Scenario.Hospital.ageCenter == 47.5 && Scenario.Hospital.glucoseCenter == 125)
      #expect(Scenario.Hospital.ageScale == 50 && Scenario.Hospital.glucoseScale == 100)
      #expect(Scenario.Hospital.scaledFeatures(age: 47.5, glucose: 125) == [0, 0])
      #expect(Scenario.Hospital.scaledFeatures(age: 72.5, glucose: 75) == [0.5, -0.5])
      // (97.5, 225) scales to (1, 1): norm sqrt(2), projected to (1/sqrt 2, 1/sqrt 2).
      let projected = Scenario.Hospital.scaledFeatures(age: 97.5, glucose: 225)
      #expect(
        abs(projected[0] - 0.5.squareRoot()) < 1e-15 && abs(projected[1] - 0.5.squareRoot()) < 1e-15
      )
      #expect(
        Scenario.Hospital.scaledFeatures(age: 97.5, glucose: 225, projectingOntoUnitBall: false)
          == [
            1, 1,
          ])
    }

    @Test("large scenarios keep all rows inside the unit ball", arguments: [2000, 10_001])
    func largeScenario(patientCount: Int) {
      let (train, test) = Scenario.Hospital.make(
        seed: 11, patientCount: patientCount, trainCount: patientCount / 2)
      #expect(train.count + test.count == patientCount)
      #expect(max(train.maximumRowNorm, test.maximumRowNorm) <= 1 + 1e-12)
      #expect(train.labelCounts[0] + test.labelCounts[0] == patientCount / 2)
    }
  }
}
