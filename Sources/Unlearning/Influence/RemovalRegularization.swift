extension Influence {
  /// What happens to the L2 term when a sample is removed, which fixes the per-sample gradient
  /// `r_z` that influence functions use.
  ///
  /// In sum form (``Objective``) the regulariser is `(lambda / 2) * c * ||theta||^2`:
  /// - ``fixed``: `c` stays the training-time `n_eff`; removing `z` deletes only `w_z loss_z`, so
  ///   `r_z = grad loss_z`. This is Koh & Liang's formula and Docs/Math.md section 4 literally:
  ///   `theta_{-z} - theta ~= (1/n) H_J^{-1} grad loss_z`. Its exact retrain is the weighted
  ///   objective with `lambda` rescaled by `n_eff / n_eff'` (ridge: the classical leave-one-out
  ///   identity holds with this one).
  /// - ``rescaled``: `c = sum_i w_i` follows the sample count, as in ``Objective/with(weights:)``,
  ///   the library's retrain reference and Newton removal (Docs/Math.md section 3); removing `z`
  ///   deletes `w_z (loss_z + (lambda / 2)||theta||^2)`, so `r_z = grad loss_z + lambda theta`.
  ///
  /// The two differ by `lambda theta` in every `r_z`, a common shift: test-loss influences move by
  /// the same constant for every sample, so rankings are identical.
  public enum Regularization: String, Sendable, Codable, Hashable, CaseIterable {
    /// The regulariser keeps its training-time weight (Koh & Liang; the default).
    case fixed
    /// The regulariser scales with the remaining effective sample count (``Objective`` weights).
    case rescaled
  }
}
