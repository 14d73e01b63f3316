/// Namespace for the results and settings of influence functions: the test point an
/// influence is taken against, the scores, their ranking, the predicted parameter change,
/// timings, the regulariser convention and the IHVP solver benchmark.
///
/// The computations themselves live in ``InfluenceFunctions``, which is generic over the
/// model; the types here do not depend on the model type.
public enum Influence {}
