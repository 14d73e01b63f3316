// The Unlearning library re-exports the linear-algebra layer, so `import Unlearning` is enough.
@_exported import LinearAlgebra
