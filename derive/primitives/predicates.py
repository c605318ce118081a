"""Predicates for the conventions (NaN in, NaN out; non-integer counts have probability 0; theta = inf is the
Poisson limit), as Boolean functions so that kernels state them as ordinary Piecewise conditions, and unfold."""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.logic.boolalg import BooleanFunction

from derive.primitives.base import PrimitiveBase


class IsNaN(BooleanFunction):
    """True where the argument is NaN."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr):
        if arg.is_number and arg.is_finite is not None:
            return sp.false
        return None


class IsInf(BooleanFunction):
    """True where the argument is +infinity (theta = +inf is the Poisson limit, a valid input)."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr):
        if arg.is_number:
            return sp.true if arg == sp.oo else sp.false
        return None


class NotCount(BooleanFunction):
    """True where the argument is not a non-negative integer (negative, fractional or infinite)."""

    nargs = 1


PREDICATES = (IsNaN, IsInf, NotCount)


def unfold(expr: sp.Expr) -> sp.Expr:
    """Replace every primitive (and log1p/expm1) by its definition, for proofs and high-precision checks."""
    expr = sp.sympify(expr)
    expr = expr.replace(lambda e: isinstance(e, PrimitiveBase), lambda e: e.unfolded())
    return expr.replace(log1p, lambda a: sp.log(1 + a)).replace(expm1, lambda a: sp.exp(a) - 1)
