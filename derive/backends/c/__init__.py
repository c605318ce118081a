"""The C99 backend: kernels that need only libm (OpenMP optional), plus a header."""

from __future__ import annotations

from pathlib import Path

from derive.backends.base import Backend, double_literal
from derive.backends.c.printer import c_code


def estrin(coefficients: list[float], var: str = "w") -> str:
    """C statements computing sum_j c_j var^(j+1) into ``acc``, unrolled by Estrin's scheme.

    A loop (or Horner's rule) is a chain of dependent multiply-adds as long as the polynomial; pairing terms with
    the powers var^2, var^4, ... makes the chain logarithmic in the degree, which matters where a series is
    evaluated for every element (the x = 0 theta-gradient).
    """
    literal = double_literal("NAN")
    terms = [f"{literal(c)}" for c in coefficients]
    lines, power, level = [], var, 0
    while len(terms) > 1:
        if level:
            lines.append(f"const double {var}{2 ** level} = {power} * {power};")
            power = f"{var}{2 ** level}"
        pairs = [terms[i:i + 2] for i in range(0, len(terms), 2)]
        terms = [f"({a} + {b} * {power})" if b else a for a, b in ((p[0], p[1] if len(p) > 1 else None)
                                                                      for p in pairs)]
        level += 1
    lines.append(f"return {terms[0]} * {var};")
    return "\n    ".join(lines)


BACKEND = Backend(
    name="c",
    folder=Path(__file__).parent,
    printer=c_code,
    outputs={"nbkernels.h.j2": "c/nbkernels.h", "nbkernels.c.j2": "c/nbkernels.c"},
    two_pass=True,
    prepared={"log1pdiv": 1},
    filters={"double": double_literal("NAN"), "estrin": estrin,
             "carry_param": lambda carry: carry[0] + "_hint" if carry[2] else carry[0]},
)
