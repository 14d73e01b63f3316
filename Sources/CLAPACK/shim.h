// BLAS (OpenBLAS's CBLAS) and LAPACKE. Only the LinearAlgebra module includes this.
#include <cblas.h>
#include <lapacke.h>
