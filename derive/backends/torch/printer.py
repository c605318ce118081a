"""SymPy -> PyTorch source, for the generated module: the numpy printer with torch's names (a Piecewise inside an
output is a nested torch.where). One module holds the float64 and the float32 kernels: a printer for a precision
other than float64 appends its ``suffix`` (derive.precision.Precision.suffix) to every generated name it calls."""

from __future__ import annotations

import sympy as sp

from derive.backends.numpy.printer import NumpyKernelPrinter

_ALIASES = {"numpy.": "torch.", "scipy.special.": "torch.special.", "scipy.constants.": "torch."}


class TorchKernelPrinter(NumpyKernelPrinter):
    #: Appended to the names of the generated functions printed calls reach ("_f32" in float32 kernels).
    suffix = ""

    def _module_format(self, fqn: str, register: bool = True) -> str:
        for long, short in _ALIASES.items():
            if fqn.startswith(long):
                return short + fqn[len(long):]
        return fqn

    def _print_Pi(self, expr: sp.Expr) -> str:
        return "math.pi"

    def _print_Infinity(self, expr: sp.Expr) -> str:
        return "math.inf"

    def _print_NegativeInfinity(self, expr: sp.Expr) -> str:
        return "-math.inf"

    def _print_NaN(self, expr: sp.Expr) -> str:
        return "math.nan"

    def _print_loggamma(self, expr: sp.Expr) -> str:
        return f"torch.lgamma({self._print(expr.args[0])})"

    def _print_polygamma(self, expr: sp.Expr) -> str:
        order, arg = expr.args
        if order != 0:
            raise NotImplementedError("the torch kernels need only the digamma function")
        return f"_digamma{self.suffix}({self._print(arg)})"

    def _print_PrimitiveBase(self, expr: sp.Function) -> str:
        native = getattr(self, "natives", {}).get(expr.c_name)
        return f"{native or f'_{expr.c_name}{self.suffix}'}({', '.join(self._print(a) for a in expr.args)})"

    def _print_LogPowRising(self, expr: sp.Function) -> str:
        return f"_lpowrising{self.suffix}({', '.join(self._print(a) for a in expr.args)})"

    def _print_IsNaN(self, expr: sp.Expr) -> str:
        return f"torch.isnan({self._print(expr.args[0])})"

    def _print_IsInf(self, expr: sp.Expr) -> str:
        return f"torch.isposinf({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """Nested torch.where, the last piece innermost (every piece evaluated: what one gives where another
        applies, even inf or NaN, is discarded)."""
        *pieces, (last, _) = expr.args
        text = self._print(last)
        for value, condition in reversed(pieces):
            text = f"torch.where({self._print(condition)}, {self._print(value)}, {text})"
        return text


def torch_code(expr: sp.Expr, suffix: str = "") -> str:
    """``expr`` as torch source, calling the generated functions whose names end with ``suffix``."""
    printer = TorchKernelPrinter()
    printer.suffix = suffix
    return printer.doprint(expr)
