"""numpy runtime: powers of two (frexp and ldexp, not expressions), for the double-double logarithm's reduction.

Included verbatim (from the marker on) into generated/python/nbkernels.py; importable on its own for its tests.
"""

import numpy as np


# -- included from here --
def _binary_exponent(x):
    """e with x 2^-e in [1/sqrt 2, sqrt 2), for finite x > 0: frexp's exponent (its mantissa is in [1/2, 1)), one
    less where the mantissa is below 1/sqrt 2."""
    mantissa, e = np.frexp(x)
    return np.where(mantissa < 0.70710678118654752, e - 1, e).astype(np.float64)


def _times_pow2(x, e):
    """x 2^e for an integer-valued e (exact where the result is normal)."""
    return np.ldexp(x, np.asarray(e).astype(np.int32))
