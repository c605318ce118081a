"""Calls of the C backend's generated functions one by one (for the tests of the primitives, the double-double
functions and the runtime): they are static in nbkernels.c, so each gets an exported wrapper, compiled with the file.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence

import numpy as np

from derive.numerics.ir import PAIR

Signature = tuple[str, Sequence[str], str]


def _wrapper(name: str, params: Sequence[str], result: str) -> str:
    """void nbk_probe_<name>(double a0, [double a0_lo,] ..., double *out): pairs as two doubles in and out."""
    declared, passed = [], []
    for i, kind in enumerate(params):
        if kind == PAIR:
            declared += [f"double a{i}", f"double a{i}_lo"]
            passed.append(f"((nbk_dd){{a{i}, a{i}_lo}})")
        else:
            declared.append(f"double a{i}")
            passed.append(f"a{i}")
    value = f"nbk_{name}({', '.join(passed)})"
    store = (f"nbk_dd r = {value}; out[0] = r.hi; out[1] = r.lo;" if result == PAIR else f"out[0] = {value};")
    return f"void nbk_probe_{name}({', '.join([*declared, 'double *out'])}) {{ {store} }}"


def probe(signatures: Sequence[Signature]) -> dict[str, Callable]:
    """name -> f(*args): each real argument a 1-D array, each pair a (hi, lo) of them; an array or (hi, lo) back."""
    from derive import kernels
    from derive.backends.c.loader import compile_c_source

    source = kernels.generated_text("c/nbkernels.c") + "\n" + "\n".join(_wrapper(*s) for s in signatures) + "\n"
    lib = compile_c_source(source, "probe", kernels.generated_text("c/nbkernels.h"))
    return {name: _caller(getattr(lib, f"nbk_probe_{name}"), params, result) for name, params, result in signatures}


def _caller(function, params: Sequence[str], result: str) -> Callable:
    def call(*args):
        columns = [part for kind, a in zip(params, args, strict=True)
                   for part in ((a[0], a[1]) if kind == PAIR else (a,))]
        columns = np.broadcast_arrays(*(np.asarray(c, dtype=float).ravel() for c in columns))
        out = np.empty((columns[0].size, 2))
        cell = (ctypes.c_double * 2)()
        for i in range(columns[0].size):
            function(*(ctypes.c_double(float(c[i])) for c in columns), cell)
            out[i] = cell[0], cell[1]
        return (out[:, 0], out[:, 1]) if result == PAIR else out[:, 0]

    return call
