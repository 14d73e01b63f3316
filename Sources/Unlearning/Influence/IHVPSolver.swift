extension Influence {
  /// How to compute inverse-Hessian-vector products `x = (H_J + damping I)^{-1} v` for influence
  /// functions (Docs/Math.md section 5).
  ///
  /// `H_J` is the **mean-form** Hessian `(1/n_eff) sum_i w_i hess loss_i(theta) + lambda I`
  /// (`n_eff = sum_i w_i`); the sum-form Hessian of ``Objective`` is `H_sum = n_eff H_J`. Every
  /// solver inverts the **full-data** `H_J`: LiSSA's mini-batch products are unbiased estimates of
  /// the full-data product (scaled by `n_active / batchSize`), never inverses of batch Hessians.
  ///
  /// The pyDVL shape: the configuration is stored, ``fit(_:at:damping:)`` precomputes once
  /// (Cholesky factor, Jacobi diagonal, LiSSA scale) and returns a ``Influence/IHVPSolver/Fitted`` whose
  /// `solve(_:)` is called for as many right-hand sides as needed.
  ///
  /// | solver | fit | per solve |
  /// |---|---|---|
  /// | ``direct`` | dense `H_J` (`O(n p^2)` for linear models, `p` HVPs otherwise) + Cholesky `O(p^3/3)` | `O(p^2)` |
  /// | ``conjugateGradient(_:)`` | nothing (Jacobi: `O(n p)`) | iterations x one exact HVP (`O(n p)`) |
  /// | ``lissa(_:)`` | the scale (see ``LiSSAConfiguration/ScaleRule``) | `depth x repeats` batch HVPs |
  public enum IHVPSolver: Sendable, Codable, Hashable {
    /// Dense `H_J + damping I`, factored once by Cholesky; each solve is two triangular solves.
    /// If the factorisation fails, ``fit(_:at:damping:)`` throws
    /// ``UnlearningError/notPositiveDefinite(_:)``
    /// with the inertia and a damping that works.
    case direct
    /// Conjugate gradient on exact Hessian-vector products (matrix-free).
    case conjugateGradient(ConjugateGradientConfiguration)
    /// LiSSA: a stochastic Neumann series on (mini-batch) Hessian-vector products.
    case lissa(LiSSAConfiguration)

    /// A short name: `"direct"`, `"cg"`, `"cg-jacobi"` or `"lissa"`.
    public var name: String {
      switch self {
      case .direct: return "direct"
      case .conjugateGradient(let c): return c.preconditioner == .jacobi ? "cg-jacobi" : "cg"
      case .lissa: return "lissa"
      }
    }

    /// Settings of the conjugate-gradient solver.
    public struct ConjugateGradientConfiguration: Sendable, Codable, Hashable {
      /// Stop at relative residual `||(H_J + damping I) x - v|| / ||v|| <= tolerance`.
      public var tolerance: Double
      /// Iteration cap; `nil` means `2 p + 10`.
      public var maximumIterations: Int?
      /// The preconditioner.
      public var preconditioner: Preconditioning

      /// Creates a CG configuration.
      ///
      /// - Parameters:
      ///   - tolerance: relative residual target (default `1e-10`: far below the first-order
      ///     error of influence functions, and cheap for well-conditioned `H_J`).
      ///   - maximumIterations: a cap (`nil`: `2 p + 10`, CG's finite termination plus slack).
      ///   - preconditioner: `.none` or `.jacobi` (the diagonal of `H_J + damping I`).
      public init(
        tolerance: Double = 1e-10, maximumIterations: Int? = nil,
        preconditioner: Preconditioning = .none
      ) {
        self.tolerance = tolerance
        self.maximumIterations = maximumIterations
        self.preconditioner = preconditioner
      }
    }

    /// The conjugate-gradient preconditioner.
    public enum Preconditioning: String, Sendable, Codable, Hashable, CaseIterable {
      /// Plain CG.
      case none
      /// `diag(H_J + damping I)^{-1}`. Linear models: `O(n p)` once (a weighted column sum of
      /// the squared features); other models: `p` Hessian-vector products once.
      case jacobi
    }

    /// Settings of the LiSSA solver (Agarwal, Bullins & Hazan 2017; Docs/Math.md section 5).
    ///
    /// Recursion `h_0 = v`, `h_j = v + (1 - mu) h_{j-1} - (H_batch h_{j-1}) / scale`, estimate
    /// `h_depth / scale` averaged over `repeats`. It converges to
    /// `(H_J + damping I + mu scale I)^{-1} v` when `scale > lambda_max / 2`: the LiSSA damping
    /// `mu` adds an effective Tikhonov term `mu * scale` (reported by the fitted solver).
    public struct LiSSAConfiguration: Sendable, Codable, Hashable {
      /// How the scale is chosen.
      public var scale: ScaleRule
      /// LiSSA's own damping `mu` in `[0, 1)` (default 0: no bias).
      public var damping: Double
      /// Recursion depth per repeat. The error contracts like `(1 - lambda_min / scale)^depth`,
      /// so depth should be a few times the condition number `scale / lambda_min`.
      public var depth: Int
      /// Independent repeats averaged.
      public var repeats: Int
      /// Samples per stochastic Hessian-vector product (drawn uniformly with replacement from
      /// the samples with non-zero weight; the product is rescaled by `n_active / batchSize`
      /// so that it is an unbiased estimate of the full-data `H_J v`). `nil`: the exact
      /// full-data product (deterministic).
      public var batchSize: Int?
      /// Seed of the mini-batch draws.
      public var seed: UInt64

      /// Creates a LiSSA configuration.
      ///
      /// - Parameters:
      ///   - scale: ``ScaleRule/automatic`` by default.
      ///   - damping: `mu` in `[0, 1)`.
      ///   - depth: recursion depth (default 1000).
      ///   - repeats: independent runs averaged (default 1).
      ///   - batchSize: mini-batch size, or `nil` for full-batch products.
      ///   - seed: seed of the mini-batch draws.
      public init(
        scale: ScaleRule = .automatic, damping: Double = 0, depth: Int = 1000, repeats: Int = 1,
        batchSize: Int? = nil, seed: UInt64 = 0
      ) {
        self.scale = scale
        self.damping = damping
        self.depth = depth
        self.repeats = repeats
        self.batchSize = batchSize
        self.seed = seed
      }

      /// How LiSSA's scale is chosen from `lambda_max(H_J + damping I)`; the chosen value is
      /// `LiSSA.recommendedScale(largestEigenvalue:)` (`1.1 lambda_max`) of an **upper bound**
      /// (or the exact value) of `lambda_max`, never of a power-iteration estimate (which
      /// approaches `lambda_max` from below and so can make LiSSA diverge).
      public enum ScaleRule: Sendable, Codable, Hashable {
        /// ``exactEigenvalue`` when `p <= 2000`, else ``traceBound`` for linear models;
        /// other models with `p > 2000` need ``fixed(_:)``.
        case automatic
        /// `lambda_max` exactly: the dense `H_J` (`O(n p^2)` for linear models, `p` HVPs
        /// otherwise) and LAPACK `dsyevr` for its top eigenvalue.
        case exactEigenvalue
        /// Linear models only, `O(n p)`: `lambda_max(H_J) <= (1/n_eff) sum_i w_i ell''(z_i)
        /// ||x~_i||^2 + lambda + damping` (the trace of the PSD data part bounds its largest
        /// eigenvalue; it is at most `max_i ell''(z_i) ||x~_i||^2 + lambda + damping`, the
        /// mean-form version of `max_i ||x_i||^2 sup ell'' n + lambda n`). Safe but can exceed
        /// `lambda_max` by up to a factor `p`, which slows convergence.
        case traceBound
        /// A scale given by the caller (must exceed `lambda_max / 2` or LiSSA diverges; the
        /// divergence is detected and reported).
        case fixed(Double)
      }
    }
  }
}
