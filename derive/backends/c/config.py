"""The C99 backend: kernels that need only libm (OpenMP optional), plus a header."""

from __future__ import annotations

from pathlib import Path

from derive.backends.base import Backend, double_literal
from derive.backends.c.numerics import print_library, print_numerics
from derive.backends.c.plan import dense_plan
from derive.backends.c.printer import c_code, estrin
from derive.backends.c.probe import probe

BACKEND = Backend(
    name="c",
    position=1,
    folder=Path(__file__).parent,
    printer=c_code,
    outputs={"nbkernels.h.j2": "c/nbkernels.h", "nbkernels.c.j2": "c/nbkernels.c"},
    plan=dense_plan,
    filters={"double": double_literal("NAN"), "estrin": estrin,
             "carry_param": lambda carry: carry[0] + "_hint" if carry[2] else carry[0]},
    numerics=print_numerics,
    library=print_library,
    definition_pattern=r"^static[^\n(]*\bnbk_{}\(",
    probe=probe,
    runtime_suffix=".c",
)
