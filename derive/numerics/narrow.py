"""What a precision whose refinements are a wider one's kernels prints (float32, refined by float64: see
derive/precision.py): each implementation either in its own arithmetic, or as a call of the wider precision's
implementation of the same name on the exactly widened arguments, its result rounded back.

An implementation runs in the narrow precision where every value it binds is a real of that precision. One whose
parts are double-double pairs (or any refinement, ``cold``) is delegated instead: a double-double of floats would be
less precise than float64 and needs its own error-free products (derive/precision.py), and float64's version of it is
printed anyway. What takes or returns pairs (the double-double elementary functions) is then called only from
delegated implementations, so the narrow precision prints none of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.numerics.ir import REAL, Call, Function, nodes


@dataclass(frozen=True)
class NarrowFunctions:
    """The implementations of one narrow precision: ``native`` printed in its arithmetic, ``delegated`` printed as
    calls of the wider precision's functions of the same names."""

    native: tuple[Function, ...]
    delegated: tuple[Function, ...]


def _real_signature(fn: Function) -> bool:
    return fn.result == REAL and all(fn.type_of_param(i) == REAL for i in range(len(fn.params)))


def _delegated(fn: Function) -> bool:
    return fn.cold or any(kind != REAL for kind in fn.types().values())


def narrow_functions(functions: list[Function], wider: list[Function]) -> NarrowFunctions:
    """Split ``functions`` (a narrow precision's, callee first) into native and delegated ones; ``wider`` are the wider
    precision's printed functions, which the delegated ones call. Raises where a native function would call a pair
    function, or a delegated one has no wider twin: the split would print a call of nothing."""
    wider_names = {fn.name for fn in wider}
    native = [fn for fn in functions if _real_signature(fn) and not _delegated(fn)]
    delegated = [fn for fn in functions if _real_signature(fn) and _delegated(fn)]
    printed = {fn.name for fn in (*native, *delegated)}
    for fn in native:
        missing = {n.callee for n in nodes(fn) if isinstance(n, Call)} - printed
        if missing:
            raise ValueError(f"{fn.name} runs in the narrow precision but calls {sorted(missing)}, which it lacks")
    for fn in delegated:
        if fn.name not in wider_names:
            raise ValueError(f"{fn.name} is delegated to the wider precision, which does not print it")
    return NarrowFunctions(tuple(native), tuple(delegated))


__all__ = ["NarrowFunctions", "narrow_functions"]
