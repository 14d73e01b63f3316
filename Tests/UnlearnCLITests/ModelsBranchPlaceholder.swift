// Placeholder so the `UnlearnCLITests` target has a source file on the `models` branch, whose
// checkout does not carry that target's tests. Delete when merging if the real tests exist.
import Testing
