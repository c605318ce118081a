"""The numpy backend: a standalone module that needs only numpy and scipy.special."""

from __future__ import annotations

import math
from pathlib import Path

from derive.backends.base import Backend
from derive.backends.numpy.printer import numpy_code


def _double(value: float) -> str:
    if math.isnan(value):
        return "np.nan"
    return repr(float(value))


BACKEND = Backend(
    name="numpy",
    folder=Path(__file__).parent,
    printer=numpy_code,
    outputs={"nbkernels.py.j2": "python/nbkernels.py"},
    local_suffix="_",
    filters={"double": _double},
)
