"""torch runtime: powers of two (frexp and ldexp, not expressions), for the double-double logarithm's reduction.

Included verbatim (from the marker on) into generated/torch/nbkernels.py; importable on its own for its tests.
"""

import torch


# -- included from here --
def _binary_exponent(x):
    """e with x 2^-e in [1/sqrt 2, sqrt 2), for finite x > 0: frexp's exponent (its mantissa is in [1/2, 1)), one
    less where the mantissa is below 1/sqrt 2."""
    mantissa, e = torch.frexp(x)
    return torch.where(mantissa < 0.70710678118654752, e - 1, e).to(x.dtype)


def _times_pow2(x, e):
    """x 2^e for an integer-valued e, exact where the result is normal: two factors 2^(e/2), each a normal number
    (2^e alone overflows beyond e = 1023, and torch.ldexp forms it)."""
    half = torch.floor(e * 0.5)
    return x * torch.exp2(half) * torch.exp2(e - half)
