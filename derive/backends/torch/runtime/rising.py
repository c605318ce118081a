"""torch runtime: LogPowRising's product m^n (1 + 1/z) ... (1 + (n-1)/z).

Included verbatim (from the marker on) into generated/torch/nbkernels.py; it reads the regimes runtime's _top.
"""

# ruff: noqa: F821  (_top is the regimes runtime's)
import torch

_SMALL_COUNT = 16  # (the generated module's own value replaces it)


# -- included from here --
def _rising_power(n, m, z):
    """m^n (1 + 1/z) ... (1 + (n-1)/z) for counts 1 <= n < _SMALL_COUNT where it cannot overflow: each factor
    (z + k)/z one division, kept where k < n, then m^n one power."""
    p = torch.ones_like(z)
    for k in range(1, _top(n, 1, _SMALL_COUNT - 1)):
        p = torch.where(k < n, p * ((z + k) / z), p)
    return p * torch.pow(m, n)
