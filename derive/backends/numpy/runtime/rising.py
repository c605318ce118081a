"""numpy runtime: LogPowRising's product over prefixes of the count-sorted elements, or from a per-gene table.

Included verbatim (from the marker on) into generated/python/nbkernels.py; it reads the generated module's
_SMALL_COUNT and the regimes runtime's _by_count, hence no standalone import (tests/test_runtime.py checks it through
the generated module).
"""
# ruff: noqa: F821  (_SMALL_COUNT and _by_count are the generated module's)

import numpy as np


# -- included from here --
def _rising_power(n, m, z, columns=None):
    """m^n (1 + 1/z) ... (1 + (n-1)/z) for counts 1 <= n < _SMALL_COUNT where it cannot overflow: m^n one power
    (within 1 ulp), each factor (z + k)/z one division.

    The factors' product depends on z and the count alone. With z one value per gene (``columns``: the block's
    column structure of z, and these elements' positions in the block; ignored where the positions are not these
    elements') it is a table per gene and count; otherwise a loop over k on prefixes of the count-sorted elements.
    Both multiply in the same order: the same bits."""
    if columns is not None and columns[0] is not None:
        (values, index, memo), where = columns
        index = index if where is None else index[where]
        if index.size == n.size:
            table = memo.get("rising_power")
            if table is None:
                table = memo["rising_power"] = np.ones((values.size, _SMALL_COUNT))
                for k in range(1, _SMALL_COUNT - 1):
                    table[:, k + 1] = table[:, k] * ((values + k) / values)
            p = table.reshape(-1)[index * _SMALL_COUNT + n.astype(np.intp)]
            p *= np.power(m, n)
            return p
    chosen, above = _by_count(n)
    zc = z[chosen]
    p = np.ones_like(zc)
    for k, top in enumerate(above[1:], 1):
        p[:top] *= (zc[:top] + k) / zc[:top]
    p *= np.power(m[chosen], n[chosen])
    out = np.ones(n.shape)
    out[chosen] = p
    return out
