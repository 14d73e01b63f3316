/// Namespace for the trainers that fit a ``TwiceDifferentiableModel`` to a ``Dataset``:
/// ``Training/Newton`` (exact Newton with a Cholesky solve, for small parameter counts),
/// ``Training/LBFGS`` (the default for everything larger), ``Training/GradientDescent``
/// and ``Training/Adam`` (mini-batch, for networks), the serialisable ``Training/Settings``
/// that wraps them, and the ``Training/Result`` every trainer returns.
///
/// Every trainer conforms to ``Trainer`` and is deterministic given its settings, seed
/// included.
public enum Training {}
