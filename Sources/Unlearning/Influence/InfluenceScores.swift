extension Influence {
  /// Predicted changes of one test point's loss if each training sample is removed, from
  /// ``InfluenceFunctions/influences(on:)`` or ``InfluenceFunctions/testLossChanges(testFeatures:testTargets:)``.
  ///
  /// **Sign and scale convention.** `values[i]` is the predicted change in test loss if sample
  /// `ids[i]` is removed, `loss_test(theta_{-i}) - loss_test(theta)`, to first order:
  /// `(w_i / n_eff) grad loss_test^T H_J^{-1} r_i` with the mean-form Hessian `H_J`
  /// (see ``InfluenceFunctions`` for `r_i`). Positive: the sample was **helping** that test point
  /// (removing it raises the loss); negative: it was hurting. Removed rows (weight 0) score 0.
  public struct Scores: Sendable, Codable, Equatable {
    /// The training sample ids, aligned with ``values`` (all `n` rows, in dataset order).
    public var ids: [SampleID]
    /// Predicted change in test loss if each sample is removed (length `n`).
    public var values: [Double]
    /// The IHVP `s_test = (H_J + damping I)^{-1} grad loss_test` that produced the scores
    /// (iterations, true relative residual, convergence).
    public var ihvp: Influence.IHVPSolver.Diagnostics
    /// Time split: IHVP and scoring pass.
    public var timing: Influence.Timing

    /// Creates scores (filled by ``InfluenceFunctions``).
    public init(
      ids: [SampleID], values: [Double], ihvp: Influence.IHVPSolver.Diagnostics,
      timing: Influence.Timing
    ) {
      self.ids = ids
      self.values = values
      self.ihvp = ihvp
      self.timing = timing
    }
  }
}

extension Influence.IHVPSolver {
  /// How an inverse-Hessian-vector product went: the solver, its damping, iterations and the
  /// true relative residual `||(H_J + damping I) x - v|| / ||v||`.
  public struct Diagnostics: Sendable, Codable, Equatable {
    /// ``Influence/IHVPSolver/name`` of the solver.
    public var solver: String
    /// The damping `mu` added to the mean-form Hessian `H_J` (0 for convex models by default).
    public var damping: Double
    /// Iterations (0 for the direct solver).
    public var iterations: Int
    /// The true relative residual (`nil` if not computed).
    public var relativeResidual: Double?
    /// Whether the solver reached its tolerance.
    public var converged: Bool

    /// Creates diagnostics.
    public init(
      solver: String, damping: Double, iterations: Int, relativeResidual: Double?, converged: Bool
    ) {
      self.solver = solver
      self.damping = damping
      self.iterations = iterations
      self.relativeResidual = relativeResidual
      self.converged = converged
    }
  }
}

extension Influence {
  /// Wall-clock seconds of an influence computation, split as the benchmark reports them.
  public struct Timing: Sendable, Codable, Equatable {
    /// One-time solver fit (dense Hessian, Cholesky, Jacobi diagonal, LiSSA scale), paid when the
    /// ``InfluenceFunctions`` was created and shared by all its queries.
    public var fitSeconds: Double
    /// The inverse-Hessian-vector product(s) of this query.
    public var ihvpSeconds: Double
    /// The pass over the training data (per-sample gradients times the IHVP).
    public var scoringSeconds: Double

    /// Creates a timing record.
    public init(fitSeconds: Double, ihvpSeconds: Double, scoringSeconds: Double) {
      self.fitSeconds = fitSeconds
      self.ihvpSeconds = ihvpSeconds
      self.scoringSeconds = scoringSeconds
    }
  }
}

extension Influence {
  /// The predicted parameter change from removing a group of samples,
  /// ``InfluenceFunctions/parameterChange(removing:)``.
  public struct ParameterChange: Sendable, Codable, Equatable {
    /// The removed ids.
    public var removed: [SampleID]
    /// `theta_{-F} - theta ~= (1/n_eff) (H_J + damping I)^{-1} sum_{z in F} w_z r_z` (length `p`).
    public var change: [Double]
    /// The IHVP diagnostics.
    public var ihvp: Influence.IHVPSolver.Diagnostics
    /// Time split (the scoring part is forming the gradient sum).
    public var timing: Influence.Timing

    /// Creates a prediction (filled by ``InfluenceFunctions``).
    public init(
      removed: [SampleID], change: [Double], ihvp: Influence.IHVPSolver.Diagnostics,
      timing: Influence.Timing
    ) {
      self.removed = removed
      self.change = change
      self.ihvp = ihvp
      self.timing = timing
    }
  }
}

extension Influence {
  /// The most helpful and most harmful training samples for one test point,
  /// ``InfluenceFunctions/topInfluences(on:count:)``.
  public struct Ranking: Sendable, Codable, Equatable {
    /// One training sample and its predicted change in test loss if removed.
    public struct Entry: Sendable, Codable, Equatable {
      /// The training sample.
      public var id: SampleID
      /// Predicted change in test loss if it is removed (positive = it was helping).
      public var value: Double

      /// Creates an entry.
      public init(id: SampleID, value: Double) {
        self.id = id
        self.value = value
      }
    }

    /// Samples with positive values, largest first: removing them increases the test loss most.
    public var helpful: [Entry]
    /// Samples with negative values, most negative first: removing them decreases it most.
    public var harmful: [Entry]
    /// The full scores they were ranked from.
    public var scores: Influence.Scores

    /// Creates a ranking.
    public init(helpful: [Entry], harmful: [Entry], scores: Influence.Scores) {
      self.helpful = helpful
      self.harmful = harmful
      self.scores = scores
    }
  }
}
