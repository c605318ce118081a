"""Which generated functions a backend prints, callee first: the primitives' implementations and their helpers.

A backend that computes a primitive natively (numpy's ``np.log1p`` for Log1p) lists it in its config's ``natives``;
that primitive's implementation is then not printed for it (nor what only it calls).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from derive.numerics.ir import Function, Polynomial, nodes


def primitive_calls(fn: Function) -> list[type]:
    """The primitive classes ``fn``'s expressions call, in order of first appearance."""
    from derive.primitives import PrimitiveBase

    return list(dict.fromkeys(type(node) for node in nodes(fn) if isinstance(node, PrimitiveBase)))


def polynomials(functions: Iterable[Function]) -> list[tuple[str, int, int]]:
    """(table, start, stop) of every Polynomial the functions evaluate, in order of first appearance."""
    return list(dict.fromkeys((node.table, *node.bounds) for fn in functions for node in nodes(fn)
                              if isinstance(node, Polynomial)))


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
        for primitive in primitive_calls(fn):
            add(primitive)
        visiting.discard(fn.name)
        ordered.append(fn)

    def add(primitive: type) -> None:
        implementation = primitive.implementation(coef)
        if implementation is not None and primitive.c_name not in natives:
            visit(implementation)

    for primitive in PRIMITIVES:
        add(primitive)
    return ordered
