/// A convex model with the curvature constants that certified removal (Guo et al. 2020) needs.
///
/// With the loss a function `ell(z)` of a linear predictor and every feature vector bounded by
/// `||x~|| <= 1` (rows L2-normalised; see the conformer for how an intercept changes this):
/// - ``curvatureLipschitzConstant`` `gamma`: `ell''` is `gamma`-Lipschitz in `z`, so the data
///   Hessian is `gamma ||x||`-Lipschitz per sample;
/// - ``gradientNormBound`` `C`: `||grad loss_i|| <= C`;
/// - ``thirdDerivativeBound`` `g3 = sup |ell'''|` for the tight Taylor bound (MATH.md §6).
public protocol CertifiableModel: GeneralizedLinearModel {
  /// `gamma`, the Lipschitz constant of `ell''` (logistic: 1/4 by default, as in the paper).
  var curvatureLipschitzConstant: Double { get }
  /// `C`, a bound on every per-sample gradient norm when `||x|| <= 1`.
  var gradientNormBound: Double { get }
  /// `g3 = sup_z |ell'''(z)|` (logistic: `1 / (6 sqrt 3)`).
  var thirdDerivativeBound: Double { get }
}
