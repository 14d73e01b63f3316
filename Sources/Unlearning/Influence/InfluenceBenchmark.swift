extension Influence {
  /// Times the influence of every training sample on one test point, per IHVP solver, for the
  /// CLI's `bench` (build with `-c release`).
  ///
  /// The model (binary logistic regression, no intercept) is trained once by Newton to a
  /// sum-form gradient norm of `1e-9 n`; then, for each solver, ``InfluenceFunctions`` is built
  /// (the solver's fit) and ``InfluenceFunctions/influences(on:)`` is called once. Each row
  /// splits the time into fit, IHVP and scoring pass, and reports the agreement of the scores
  /// with the first solver's (the reference, normally ``Influence/IHVPSolver/direct``).
  public enum Benchmark {
    /// One measured solver.
    public struct Row: Sendable, Codable, Equatable {
      /// ``Influence/IHVPSolver/name``.
      public var solver: String
      /// Solver fit (dense Hessian + Cholesky, Jacobi diagonal, LiSSA scale), seconds.
      public var fitSeconds: Double
      /// The IHVP `s_test` (test gradient + solve), seconds.
      public var ihvpSeconds: Double
      /// The scoring pass over all training samples, seconds.
      public var scoringSeconds: Double
      /// IHVP iterations (0 for direct).
      public var iterations: Int
      /// True relative residual of `s_test`.
      public var relativeResidual: Double?
      /// `||scores - reference|| / ||reference||` against the first solver.
      public var relativeDeviationFromReference: Double
      /// Notes from the fit (e.g. the LiSSA scale and how it was chosen).
      public var notes: [String]

      /// Creates a row.
      public init(
        solver: String, fitSeconds: Double, ihvpSeconds: Double, scoringSeconds: Double,
        iterations: Int,
        relativeResidual: Double?, relativeDeviationFromReference: Double, notes: [String]
      ) {
        self.solver = solver
        self.fitSeconds = fitSeconds
        self.ihvpSeconds = ihvpSeconds
        self.scoringSeconds = scoringSeconds
        self.iterations = iterations
        self.relativeResidual = relativeResidual
        self.relativeDeviationFromReference = relativeDeviationFromReference
        self.notes = notes
      }
    }

    /// The solvers timed by default: direct, CG, CG with Jacobi, and mini-batch LiSSA
    /// (batch 1000, depth 2000, exact-eigenvalue scale).
    public static let defaultSolvers: [Influence.IHVPSolver] = [
      .direct,
      .conjugateGradient(.init(tolerance: 1e-10)),
      .conjugateGradient(.init(tolerance: 1e-10, preconditioner: .jacobi)),
      .lissa(.init(depth: 2000, batchSize: 1000, seed: 1)),
    ]

    /// Trains binary logistic regression on `train` and times the influences of all its samples
    /// on `testPoint` for each solver.
    ///
    /// - Parameters:
    ///   - train: a binary dataset (labels 0/1), e.g. Fashion-MNIST 0 vs 6 (12,000 x 784).
    ///   - testPoint: the test example.
    ///   - regularization: `lambda` (mean form), e.g. `1e-3`.
    ///   - solvers: the solvers; the first is the reference for the deviation column.
    /// - Throws: ``UnlearningError`` from any solver (e.g. LiSSA divergence).
    public static func run(
      train: Dataset, testPoint: Influence.TestPoint, regularization: Double,
      solvers: [Influence.IHVPSolver] = defaultSolvers
    ) throws(UnlearningError) -> [Row] {
      let model = LogisticRegression(featureCount: train.featureCount)
      let objective = Objective(
        model: model, features: train.features, targets: train.targets,
        regularization: regularization
      )
      let theta = Training.Newton(gradientTolerance: 1e-9).train(objective).parameters
      var rows: [Row] = []
      var reference: [Double]?
      for solver in solvers {
        let influence = try InfluenceFunctions(
          model: model, parameters: theta, dataset: train, regularization: regularization,
          solver: solver)
        let scores = try influence.influences(on: testPoint)
        let base = reference ?? scores.values
        if reference == nil { reference = scores.values }
        let deviation = scores.values.subtracting(base).norm() / Swift.max(base.norm(), 1e-300)
        rows.append(
          Row(
            solver: solver.name, fitSeconds: scores.timing.fitSeconds,
            ihvpSeconds: scores.timing.ihvpSeconds,
            scoringSeconds: scores.timing.scoringSeconds, iterations: scores.ihvp.iterations,
            relativeResidual: scores.ihvp.relativeResidual,
            relativeDeviationFromReference: deviation,
            notes: influence.fittedSolver.notes))
      }
      return rows
    }
  }
}
