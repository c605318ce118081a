"""The primitive: one unit holding what a kernel computes (its exact definition) and how (its implementation).

A primitive is a SymPy function with an exact ``definition`` in standard functions: the symbolic core sees through
it (derive.primitives.predicates.unfold), so a stable form written with primitives is *proved* equal to the plain
derivation. Its ``implementation(coef)`` is a derive.numerics Function written once in ordered arithmetic from one
precision's coefficients (derive/series.py), which every backend prints; ``error_bound`` and ``domain`` say how
accurate that is and where, and tests/test_primitives.py checks it against mpmath in every backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.numerics.ir import F, Function, IsFinite, select

if TYPE_CHECKING:
    from derive.series import Coefficients


#: The parameter names implementations use (function() builds its parameters by these names).
_T, _Z, _R, _N = sp.symbols("t z r n")


class PrimitiveBase(sp.Function):
    """A function with an exact definition, its derivative, and one stable implementation printed by every backend.

    (The name ends in ``Base`` because SymPy's printers only dispatch on such intermediate classes:
    ``_print_PrimitiveBase`` handles every primitive.)
    """

    #: The name of the native implementation (``nbk_<c_name>`` in C, ``_<c_name>`` in numpy).
    c_name: str = ""
    #: Sums over k < n of their first argument n are empty at n = 0: SymPy folds them to 0 there (x = 0 branches).
    empty_at_zero_count: bool = False
    #: The first ``parts`` arguments are the value's own double-precision parts (a refinement: ScoreTheta), which only
    #: the kernels can give consistently: those primitives are checked through the kernels (tests/test_near_zero.py).
    parts: int = 0
    #: The implementation's error bound, in units of the precision's epsilon (2^-52 in float64) relative to the
    #: result (or to ``error_floor`` where the result is smaller), over ``domain``; tests/test_primitives.py checks it
    #: against mpmath in every backend.
    error_bound: float = 0.0
    error_floor: float = 0.0
    #: Where the bound holds, one entry per argument, each a tuple of ranges (kind, lo, hi) sampled alike: kind
    #: "uniform", "log" (log-uniform on [lo, hi], 0 < lo) or "count" (integers in [lo, hi], log-uniform).
    domain: tuple[tuple[tuple[str, float, float], ...], ...] = ()

    @classmethod
    def eval(cls, *args: sp.Expr):
        if cls.empty_at_zero_count and args[0] == 0:
            return sp.S.Zero
        return None

    @classmethod
    def definition(cls, *args: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function | None:
        """How every backend computes it (derive/numerics), from the coefficients of one precision (every primitive
        defines one; tests/test_numerics.py checks that none is written in a backend instead)."""
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        """The derivative in the ``argindex``-th argument, from the exact definition: SymPy can then differentiate a
        stable form written with primitives (the derivative is in standard functions; tests/test_primitives.py
        checks it against mpmath's numerical derivative of the definition)."""
        dummies = [sp.Dummy(f"a{i}") for i in range(len(self.args))]
        derivative = sp.diff(self.definition(*dummies), dummies[argindex - 1])
        return derivative.xreplace(dict(zip(dummies, self.args, strict=True)))

    def unfolded(self) -> sp.Expr:
        return self.definition(*self.args)

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.unfolded()._eval_evalf(prec)


Primitive = PrimitiveBase


def finite_or(value: F, fallback: F) -> F:
    return select(IsFinite(value.expr), value, fallback)
