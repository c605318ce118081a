"""SymPy -> C99, for the generated kernels.

C99CodePrinter is the base; overridden: pi as a literal (M_PI is not C99), exp, digamma and every primitive call the
generated file's own static functions, predicates print as isnan/isinf tests.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.c import C99CodePrinter


class CKernelPrinter(C99CodePrinter):
    """Prints right-hand sides only; the templates write declarations and control flow."""

    def _print_Float(self, expr: sp.Float) -> str:
        """The double nearest to the constant, written so that it reads back exactly (1e+150, not 150 digits)."""
        return repr(float(expr))

    def _print_Pi(self, expr: sp.Expr) -> str:
        return repr(float(sp.pi.evalf(20)))

    def _print_PrimitiveBase(self, expr: sp.Function) -> str:
        return f"nbk_{expr.c_name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_polygamma(self, expr: sp.Expr) -> str:
        order, arg = expr.args
        if order != 0:
            raise NotImplementedError("only digamma (polygamma order 0) has a C implementation")
        return f"nbk_digamma({self._print(arg)})"

    def _print_exp(self, expr: sp.Expr) -> str:
        """The generated file's own e^x (inline arithmetic in the ordinary range, so that loops of it vectorise)."""
        return f"nbk_exp({self._print(expr.args[0])})"

    def _print_loggamma(self, expr: sp.Expr) -> str:
        return f"lgamma({self._print(expr.args[0])})"

    def _print_IsNaN(self, expr: sp.Expr) -> str:
        return f"isnan({self._print(expr.args[0])})"

    def _print_IsInf(self, expr: sp.Expr) -> str:
        arg = self._print(expr.args[0])
        return f"(isinf({arg}) && {arg} > 0)"

    def _print_NotCount(self, expr: sp.Expr) -> str:
        return f"nbk_notcount({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """Nested ternaries on one line (lazy: only the chosen branch is evaluated)."""
        *pieces, (last_value, last_cond) = expr.args
        if last_cond != sp.true:
            raise ValueError("a Piecewise printed as an expression needs a final True branch")
        text = self._print(last_value)
        for value, cond in reversed(pieces):
            text = f"(({self._print(cond)}) ? ({self._print(value)}) : ({text}))"
        return text

    def _print_And(self, expr: sp.Expr) -> str:
        return " && ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr: sp.Expr) -> str:
        return " || ".join(f"({self._print(a)})" for a in expr.args)

    def _print_NaN(self, expr: sp.Expr) -> str:
        return "NAN"

    def _print_Infinity(self, expr: sp.Expr) -> str:
        return "INFINITY"

    def _print_NegativeInfinity(self, expr: sp.Expr) -> str:
        return "(-INFINITY)"


def c_code(expr: sp.Expr) -> str:
    return CKernelPrinter().doprint(expr)


def estrin(coefficients: list[float], var: str = "w") -> str:
    """C statements returning sum_j c_j var^(j+1), unrolled by Estrin's scheme.

    A loop (or Horner's rule) is a chain of dependent multiply-adds as long as the polynomial; pairing terms with
    the powers var^2, var^4, ... makes the chain logarithmic in the degree, which matters where a series is
    evaluated for every element (the x = 0 theta-gradient).
    """
    terms = [repr(float(c)) for c in coefficients]
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
