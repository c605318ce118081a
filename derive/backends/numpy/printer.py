"""SymPy -> numpy source, for the generated standalone module.

SciPyPrinter is the base (it maps loggamma to ``gammaln``); what it gets wrong for us is overridden:
digamma goes to ``psi`` (not the slow ``polygamma(0, .)``), module names are the short aliases the generated
module imports, logic uses ``&``/``|``, and primitives call the module's own stable implementations.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import SciPyPrinter

_ALIASES = {"numpy.": "np.", "scipy.special.": "_sc.", "scipy.constants.": "np."}


class NumpyKernelPrinter(SciPyPrinter):
    """Prints right-hand sides only (SymPy's assignment printing is broken: sympy/sympy#30395)."""

    def __init__(self, settings: dict | None = None):
        super().__init__({"fully_qualified_modules": True, **(settings or {})})

    def _module_format(self, fqn: str, register: bool = True) -> str:
        for long, short in _ALIASES.items():
            if fqn.startswith(long):
                return short + fqn[len(long):]
        return fqn

    def _print_Float(self, expr: sp.Float) -> str:
        """The double nearest to the constant, written so that it reads back exactly (1e+150, not 150 digits)."""
        return repr(float(expr))

    def _print_Pi(self, expr: sp.Expr) -> str:
        return "np.pi"

    def _print_PrimitiveBase(self, expr: sp.Function) -> str:
        return f"_{expr.c_name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_LogPowRising(self, expr: sp.Function) -> str:
        """With the dispersion a plain name (theta), the call also gets ``cols_of_<name>``, the block's column
        structure of it (None unless it is one value per gene): the primitive then tabulates per gene instead of
        sorting the counts."""
        n, m, z = (self._print(a) for a in expr.args)
        if isinstance(expr.args[2], sp.Symbol):
            return f"_lpowrising({n}, {m}, {z}, cols_of_{z})"
        return f"_lpowrising({n}, {m}, {z})"

    def _print_polygamma(self, expr: sp.Expr) -> str:
        order, arg = expr.args
        if order == 0:
            return f"_sc.psi({self._print(arg)})"
        return f"_sc.polygamma({self._print(order)}, {self._print(arg)})"

    def _print_IsNaN(self, expr: sp.Expr) -> str:
        return f"np.isnan({self._print(expr.args[0])})"

    def _print_IsInf(self, expr: sp.Expr) -> str:
        return f"np.isposinf({self._print(expr.args[0])})"

    def _print_NotCount(self, expr: sp.Expr) -> str:
        return f"_notcount({self._print(expr.args[0])})"

    def _print_And(self, expr: sp.Expr) -> str:
        return " & ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr: sp.Expr) -> str:
        return " | ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Relational(self, expr: sp.Expr) -> str:
        return f"{self.parenthesize(expr.lhs, 0)} {expr.rel_op} {self.parenthesize(expr.rhs, 0)}"

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"{expr.p}/{expr.q}" if expr.q != 1 else str(expr.p)

    def _print_Half(self, expr: sp.Expr) -> str:
        return "0.5"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp == -1:
            return f"1/{self.parenthesize(expr.base, sp.printing.precedence.PRECEDENCE['Pow'])}"
        return super()._print_Pow(expr, rational=rational)


def numpy_code(expr: sp.Expr) -> str:
    return NumpyKernelPrinter().doprint(expr)
