"""Which generated functions a backend prints, callee first: the primitives' implementations, their helpers and the
double-double elementary functions they call.

A backend that computes a primitive natively (numpy's ``np.log1p`` for Log1p) lists it in its config's ``natives``;
that primitive's implementation is then not printed for it (nor what only it calls).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from functools import cache

from derive.numerics.dd_functions import ELEMENTARY, stage_coefficients
from derive.numerics.ir import WIDE_TABLES, Call, Function, Lookup, Polynomial, WideConstant, nodes


def primitive_calls(fn: Function) -> list[type]:
    """The primitive classes ``fn``'s expressions call, in order of first appearance."""
    from derive.primitives import PrimitiveBase

    return list(dict.fromkeys(type(node) for node in nodes(fn) if isinstance(node, PrimitiveBase)))


def polynomials(functions: Iterable[Function]) -> list[tuple[str, int, int]]:
    """(table, start, stop) of every Polynomial the functions evaluate, in order of first appearance."""
    return list(dict.fromkeys((node.table, *node.bounds) for fn in functions for node in nodes(fn)
                              if isinstance(node, Polynomial)))


#: What a table read by the functions holds: doubles indexed by a count or table point (LOOKUP), a polynomial's
#: double coefficients (COEFFICIENTS, which a backend may instead write into its code), long double coefficients
#: (WIDE_COEFFICIENTS, decimal text) or one long double constant (WIDE_SCALAR).
LOOKUP, COEFFICIENTS, WIDE_COEFFICIENTS, WIDE_SCALAR = "lookup", "coefficients", "wide coefficients", "wide scalar"


def tables(functions: Iterable[Function]) -> dict[str, str]:
    """Every coefficient table (a field of derive/series.py's Coefficients, by name) the functions read, with what
    it holds, in order of first appearance: each backend declares these and no others."""
    found: dict[str, str] = {}
    for fn in functions:
        for node in nodes(fn):
            if isinstance(node, Lookup):
                found.setdefault(node.table, LOOKUP)
            elif isinstance(node, Polynomial):
                found.setdefault(node.table, WIDE_COEFFICIENTS if node.table in WIDE_TABLES else COEFFICIENTS)
            elif isinstance(node, WideConstant):
                found.setdefault(node.constant, WIDE_SCALAR)
    return found


def generated_functions(coef, natives: Collection[str]) -> list[Function]:
    """Every implementation to print for a backend (primitives not in ``natives``), each after what it calls."""
    from derive.primitives import PRIMITIVES

    ordered: list[Function] = []
    visiting: set[str] = set()

    def visit(fn: Function) -> None:
        if fn in ordered:
            return
        if fn.name in visiting:
            raise ValueError(f"implementation {fn.name!r} calls itself")
        visiting.add(fn.name)
        for helper in fn.helpers:
            visit(helper)
        visit_elementary(fn)
        for primitive in primitive_calls(fn):
            add(primitive)
        visiting.discard(fn.name)
        ordered.append(fn)

    def add(primitive: type) -> None:
        implementation = primitive.implementation(coef)
        if implementation is not None and primitive.c_name not in natives:
            visit(implementation)

    def visit_elementary(fn: Function) -> None:
        for callee in dict.fromkeys(node.callee for node in nodes(fn) if isinstance(node, Call)):
            if callee in ELEMENTARY:
                visit(elementary(callee))

    @cache
    def elementary(name: str) -> Function:
        return ELEMENTARY[name](stage_coefficients(coef))

    for primitive in PRIMITIVES:
        add(primitive)
    return ordered
