"""LaTeX as a textbook writes it, and unambiguous enough for ``parse_latex`` to read back.

SymPy's own printer writes ``\\operatorname{loggamma}`` and ``\\operatorname{polygamma}(0, x)``; a reader wants
``\\log\\Gamma(x)`` and ``\\psi(x)``. Products whose next factor opens a parenthesis get an explicit ``\\cdot``:
``\\theta \\left(...\\right)`` would otherwise read back as a function call.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.symbols import BY_NAME, LATEX_NAMES

_MARK = r"\MULMARK"
_PAREN_AFTER_MARK = re.compile(re.escape(_MARK) + r"(?=\\left\(|\(|\\left\[)")


class NBLatexPrinter(LatexPrinter):
    """The project's LaTeX printer (``_print_<Class>`` overrides only where a textbook differs)."""

    def __init__(self, settings: dict | None = None):
        merged = {
            "symbol_names": {BY_NAME[name]: tex for name, tex in LATEX_NAMES.items()},
            "mul_symbol": _MARK,
            "ln_notation": False,
        }
        merged.update(settings or {})
        super().__init__(merged)

    # -- products: explicit \cdot only in front of a parenthesis -------------------------------------------
    def _print_Mul(self, expr: sp.Mul) -> str:
        text = super()._print_Mul(expr)
        text = _PAREN_AFTER_MARK.sub(r" \\cdot ", text)
        return text.replace(_MARK, " ")

    # -- special functions ---------------------------------------------------------------------------------
    def _print_loggamma(self, expr: sp.Expr, exp: str | None = None) -> str:
        body = rf"\log \Gamma\left({self._print(expr.args[0])}\right)"
        return rf"\left({body}\right)^{{{exp}}}" if exp else body

    def _print_gamma(self, expr: sp.Expr, exp: str | None = None) -> str:
        body = rf"\Gamma\left({self._print(expr.args[0])}\right)"
        return rf"{body}^{{{exp}}}" if exp else body

    def _print_polygamma(self, expr: sp.Expr, exp: str | None = None) -> str:
        order, arg = expr.args
        if order == 0:
            body = rf"\psi\left({self._print(arg)}\right)"
        else:
            body = rf"\psi^{{({self._print(order)})}}\left({self._print(arg)}\right)"
        return rf"{body}^{{{exp}}}" if exp else body

    _print_digamma = _print_polygamma

    def _print_log(self, expr: sp.Expr, exp: str | None = None) -> str:
        body = rf"\log\left({self._print(expr.args[0])}\right)"
        return rf"\left({body}\right)^{{{exp}}}" if exp else body

    def _print_log1p(self, expr: sp.Expr, exp: str | None = None) -> str:
        return self._print_log(sp.log(1 + expr.args[0], evaluate=False), exp)

    def _print_factorial(self, expr: sp.Expr, exp: str | None = None) -> str:
        arg = expr.args[0]
        inner = self._print(arg)
        if not (arg.is_Symbol or arg.is_Indexed or arg.is_Integer):
            inner = rf"\left({inner}\right)"
        body = f"{inner}!"
        return rf"\left({body}\right)^{{{exp}}}" if exp else body

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        base = self._print(expr.base.label)
        indices = ",".join(self._print(i) for i in expr.indices)
        if base.endswith("^{2}"):  # sigma2 indexed: sigma_g^2
            return f"{base[:-4]}_{{{indices}}}^{{2}}"
        return f"{base}_{{{indices}}}"


def latex(expr: sp.Expr, **settings) -> str:
    """The project's LaTeX for ``expr`` (an Eq prints as ``lhs = rhs``)."""
    return NBLatexPrinter(settings).doprint(expr)
