"""torch runtime: LogPowRising's product m^n (1 + 1/z) ... (1 + (n-1)/z).

Included verbatim (from the marker on) into generated/torch/nbkernels.py; it reads the regimes runtime's _by_count.
"""

# ruff: noqa: F821  (_by_count, _taken and _scattered are the regimes runtime's)
import torch

_SMALL_COUNT = 16  # (the generated module's own value replaces it)


# -- included from here --
def _rising_power(n, m, z):
    """m^n (1 + 1/z) ... (1 + (n-1)/z) for counts 1 <= n < _SMALL_COUNT where it cannot overflow: each factor
    (z + k)/z one division, multiplied in order on prefixes of the count-sorted elements (the regimes runtime's
    _by_count), then m^n one power."""
    order, steps = _by_count(n, 1, _SMALL_COUNT - 1)
    zc = _taken(torch.as_tensor(z, dtype=n.dtype, device=n.device).expand(n.shape), order, n.numel())
    p = torch.ones_like(zc)
    for k, top in steps:
        p[:top] *= (zc[:top] + k) / zc[:top]
    return _scattered(n, order, p, 1.0) * torch.pow(m, n)
