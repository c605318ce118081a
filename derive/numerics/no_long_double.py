"""The primitives' implementations for a backend without long double (torch, JAX): the long-double stage's regimes
dropped, so that refinements go to double-double directly (as C's do where long double is double), and only the
functions the primitives still reach.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.numerics.collect import generated_functions
from derive.numerics.ir import Call, Function, LongDoubleStage, nodes


def without_long_double(fn: Function) -> Function:
    """``fn`` without the regimes that only the long-double stage enters (their condition requires it)."""
    def needs_it(condition: sp.Basic) -> bool:
        return isinstance(condition, LongDoubleStage) or (
            isinstance(condition, sp.And) and any(isinstance(a, LongDoubleStage) for a in condition.args))

    kept = replace(fn, regimes=tuple(r for r in fn.regimes if not needs_it(r.condition)))
    return replace(kept, lets=_live(kept.lets, kept))


def _live(lets, fn: Function) -> tuple:
    """The lets that the rest of ``fn`` (or a later live let) reads."""
    read = set().union(*(sp.sympify(e).free_symbols for e in (
        *(r.condition for r in fn.regimes), *(v for r in fn.regimes for _, v in r.lets),
        *(r.value for r in fn.regimes), *(v for _, v in fn.default_lets), fn.default)))
    live = []
    for symbol, value in reversed(lets):
        if symbol in read:
            live.append((symbol, value))
            read |= sp.sympify(value).free_symbols
    return tuple(reversed(live))


def reachable(functions: list[Function], roots: set[str]) -> list[Function]:
    """The functions that the ``roots`` (by name) call, directly or not, in the given order."""
    by_name = {fn.name: fn for fn in functions}
    keep: set[str] = set()
    pending = [name for name in roots if name in by_name]
    while pending:
        name = pending.pop()
        if name not in keep:
            keep.add(name)
            fn = by_name[name]
            pending += [n.callee for n in nodes(fn) if isinstance(n, Call) and n.callee in by_name]
    return [fn for fn in functions if fn.name in keep]


def printed_functions(coef, natives: dict[str, str]) -> list[Function]:
    """The implementations torch prints: the long-double stage dropped, then what the primitives still call."""
    from derive.primitives import PRIMITIVES

    functions = [without_long_double(fn) for fn in generated_functions(coef, natives)]
    roots = {impl.name for p in PRIMITIVES if p.c_name not in natives and (impl := p.implementation(coef))}
    return reachable(functions, roots)
