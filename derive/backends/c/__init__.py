"""The C99 backend: kernels that need only libm (OpenMP optional), plus a header."""
