extension Scenario {
  /// The built-in default scenario: synthetic hospital patients, diabetic or healthy, described by
  /// age and blood glucose. No data files needed; everything follows from a seed.
  ///
  /// ```swift
  /// let (train, test) = HospitalScenario.make(seed: 42)   // 400 x 2 and 100 x 2
  /// let patients = HospitalScenario.patients(seed: 42)    // raw ages and glucose, for display
  /// ```
  ///
  /// **Population.** Of `patientCount` patients, the first `patientCount / 2` are healthy
  /// (label 0; age ~ N(40, 10) years, glucose ~ N(100, 15) mg/dL) and the rest diabetic (label 1;
  /// age ~ N(55, 12), glucose ~ N(150, 20)). Patient `i` has id `1000 + i`. Draws are not clamped.
  ///
  /// **Scaling.** Features are `((age - 47.5) / 50, (glucose - 125) / 100)`: the centres are the
  /// midpoints of the two stated class means and the scales round figures, all *constants of the
  /// scenario*, never statistics of the data (which would leak the forgotten patients into the
  /// retained model and need refitting after each removal). A scaled row with norm above 1 (about
  /// three standard deviations out) is projected onto the unit circle, a per-patient operation
  /// that leaks nothing, so every row satisfies `||x|| <= 1` as certified removal requires.
  /// Because the centring puts the class boundary near the origin, models need no intercept.
  public enum Hospital {
    /// One synthetic patient, in raw units.
    public struct Patient: Sendable, Hashable, Codable {
      /// The patient's id (`1000 + index`).
      public var id: SampleID
      /// Age in years.
      public var age: Double
      /// Fasting blood glucose in mg/dL.
      public var glucose: Double
      /// 0 = healthy, 1 = diabetic.
      public var label: Int

      /// Creates a patient record.
      public init(id: SampleID, age: Double, glucose: Double, label: Int) {
        self.id = id
        self.age = age
        self.glucose = glucose
        self.label = label
      }

      /// Whether the patient is diabetic (label 1).
      public var isDiabetic: Bool { label == 1 }

      /// The scaled features, ``Scenario/Hospital/scaledFeatures(age:glucose:projectingOntoUnitBall:)``.
      public var scaledFeatures: [Double] {
        Scenario.Hospital.scaledFeatures(age: age, glucose: glucose)
      }
    }

    /// The normal distributions of one class.
    public struct Cohort: Sendable, Hashable {
      /// Mean age in years.
      public var ageMean: Double
      /// Standard deviation of age in years.
      public var ageStandardDeviation: Double
      /// Mean glucose in mg/dL.
      public var glucoseMean: Double
      /// Standard deviation of glucose in mg/dL.
      public var glucoseStandardDeviation: Double
    }

    /// Healthy patients (label 0): age ~ N(40, 10), glucose ~ N(100, 15).
    public static let healthy = Cohort(
      ageMean: 40, ageStandardDeviation: 10, glucoseMean: 100, glucoseStandardDeviation: 15)
    /// Diabetic patients (label 1): age ~ N(55, 12), glucose ~ N(150, 20).
    public static let diabetic = Cohort(
      ageMean: 55, ageStandardDeviation: 12, glucoseMean: 150, glucoseStandardDeviation: 20)

    /// Age subtracted before scaling, in years: the midpoint of the class means (40 and 55).
    public static let ageCenter = 47.5
    /// Age divisor, in years.
    public static let ageScale = 50.0
    /// Glucose subtracted before scaling, in mg/dL: the midpoint of the class means (100, 150).
    public static let glucoseCenter = 125.0
    /// Glucose divisor, in mg/dL.
    public static let glucoseScale = 100.0

    /// The id of patient 0; patient `i` has id `firstPatientID + i`.
    public static let firstPatientID = 1000

    /// The class names: `["healthy", "diabetic"]`.
    public static let classNames = ["healthy", "diabetic"]
    /// The feature names: `["age", "glucose"]` (scaled as described above).
    public static let featureNames = ["age", "glucose"]

    /// Maps raw `(age, glucose)` to the model's feature space:
    /// `((age - 47.5) / 50, (glucose - 125) / 100)`, then, if `projectingOntoUnitBall` and the
    /// norm exceeds 1, divided by its norm. The CLI uses this to draw decision boundaries
    /// (pass `false` for an undistorted plane).
    public static func scaledFeatures(
      age: Double, glucose: Double, projectingOntoUnitBall: Bool = true
    ) -> [Double] {
      let x = [(age - ageCenter) / ageScale, (glucose - glucoseCenter) / glucoseScale]
      let norm = (x[0] * x[0] + x[1] * x[1]).squareRoot()
      guard projectingOntoUnitBall, norm > 1 else { return x }
      return [x[0] / norm, x[1] / norm]
    }

    /// The raw patients drawn from `seed`, in id order (healthy first). The same seed and count
    /// give the same patients as ``make(seed:patientCount:trainCount:)``.
    ///
    /// - Parameters:
    ///   - seed: the seed; each patient draws age then glucose from one `SeededGenerator` stream.
    ///   - patientCount: the number of patients (default 500); `patientCount / 2` are healthy.
    public static func patients(seed: UInt64 = 42, patientCount: Int = 500) -> [Patient] {
      precondition(patientCount >= 0, "Scenario.Hospital: negative patient count")
      var generator = streams(seed: seed).patients
      return (0..<patientCount).map { index in
        let label = index < patientCount / 2 ? 0 : 1
        let cohort = label == 0 ? healthy : diabetic
        let age = generator.nextNormal(
          mean: cohort.ageMean, standardDeviation: cohort.ageStandardDeviation)
        let glucose = generator.nextNormal(
          mean: cohort.glucoseMean, standardDeviation: cohort.glucoseStandardDeviation)
        return Patient(
          id: SampleID(firstPatientID + index), age: age, glucose: glucose, label: label)
      }
    }

    /// The scaled dataset of `patients` (2 features, 2 classes, ids kept).
    ///
    /// - Throws: `DataError.duplicateID` if two patients share an id, `.nonFiniteFeature`, or
    ///   `.labelOutOfRange` for a label other than 0 or 1.
    public static func dataset(of patients: [Patient], name: String = "hospital") throws(DataError)
      -> Dataset
    {
      try Dataset(
        features: Matrix(
          rows: patients.count, columns: 2,
          elements: patients.flatMap { $0.scaledFeatures }),
        labels: patients.map(\.label), ids: patients.map(\.id), classCount: 2,
        classNames: classNames, featureNames: featureNames, name: name)
    }

    /// The scenario's train and test sets: ``patients(seed:patientCount:)`` scaled, then split
    /// at random (seeded) into `trainCount` training and `patientCount - trainCount` test
    /// patients, both in id order.
    ///
    /// - Parameters:
    ///   - seed: one seed for the patients and the split (default 42).
    ///   - patientCount: total patients (default 500).
    ///   - trainCount: training patients, in `0...patientCount` (default 400; a precondition).
    public static func make(seed: UInt64 = 42, patientCount: Int = 500, trainCount: Int = 400)
      -> (train: Dataset, test: Dataset)
    {
      precondition(
        trainCount >= 0 && trainCount <= patientCount,
        "Scenario.Hospital: trainCount \(trainCount) outside 0...\(patientCount)")
      var features = [Double]()
      features.reserveCapacity(2 * patientCount)
      let all = patients(seed: seed, patientCount: patientCount)
      for patient in all { features += patient.scaledFeatures }
      // Valid by construction (finite draws, labels 0/1, distinct ids): no need to re-check.
      let dataset = Dataset(
        validatedFeatures: Matrix(rows: patientCount, columns: 2, elements: features),
        labels: all.map(\.label), ids: all.map(\.id), classCount: 2, classNames: classNames,
        featureNames: featureNames, name: "hospital")
      return dataset.split(testCount: patientCount - trainCount, seed: streams(seed: seed).split)
    }

    /// The independent random streams derived from the scenario's seed.
    private static func streams(seed: UInt64) -> (patients: SeededGenerator, split: UInt64) {
      var root = SeededGenerator(seed: seed)
      let patients = root.split()
      return (patients, root.next())
    }
  }
}
