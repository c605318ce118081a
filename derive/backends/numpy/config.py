"""The numpy backend: a standalone module that needs only numpy and scipy.special."""

from __future__ import annotations

from pathlib import Path

from derive.backends.base import Backend, double_literal
from derive.backends.numpy.numerics import print_library, print_numerics
from derive.backends.numpy.printer import numpy_code
from derive.backends.numpy.probe import probe

BACKEND = Backend(
    name="numpy",
    position=0,
    folder=Path(__file__).parent,
    printer=numpy_code,
    outputs={"nbkernels.py.j2": "python/nbkernels.py"},
    local_suffix="_",
    hoist=True,
    filters={"double": double_literal("np.nan")},
    numerics=print_numerics,
    library=print_library,
    definition_pattern=r"^def _{}\(",
    natives={"exp": "np.exp", "log1p": "np.log1p", "digamma": "_sc.psi"},
    probe=probe,
    runtime_suffix=".py",
)
