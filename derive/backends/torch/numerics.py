"""The primitives' implementations (derive/numerics) as PyTorch: one function each, its regimes as nested functions
that the runtime's ``_select`` runs on the elements each takes (gathered, as numpy's does).

The numpy backend's printer is the base: the same Python for ordered nodes, pairs and calls, torch's functions for
the library, tables as tuples of Python floats (they keep the tensors' dtype and device). torch has no long double:
the long-double stage is off (its regimes are dropped, and what only they call is not printed), so the refinements
go to double-double directly, as C's do where long double is double.
"""

from __future__ import annotations

import sympy as sp

from derive.backends.base import double_literal
from derive.backends.numpy.numerics import NumpyNumericsPrinter
from derive.backends.torch.printer import TorchKernelPrinter
from derive.numerics.collect import WIDE_COEFFICIENTS, WIDE_SCALAR, tables
from derive.numerics.ir import PAIR, WIDE, Function, type_of
from derive.numerics.narrow import narrow_functions
from derive.numerics.no_long_double import printed_functions
from derive.precision import precision as find_precision
from derive.series import coefficients

_LIBRARY = {"exp": "torch.exp", "log": "torch.log", "log1p": "torch.log1p", "lgamma": "torch.lgamma",
            "fabs": "torch.abs", "ceil": "torch.ceil", "rint": "torch.round"}
_double = double_literal("math.nan")


class TorchNumericsPrinter(NumpyNumericsPrinter, TorchKernelPrinter):
    """numpy's numerics printer on torch's kernel printer (torch's names for what both print)."""

    def _print_Libm(self, expr: sp.Basic) -> str:
        return f"{_LIBRARY[expr.name]}({', '.join(self._print(a) for a in expr.args[1:])})"

    def _print_Lookup(self, expr: sp.Basic) -> str:
        return f"_lookup(_{expr.table.upper()}{self.suffix}, {self._print(expr.args[1])})"

    _print_PrimitiveBase = TorchKernelPrinter._print_PrimitiveBase

    def _print_Polynomial(self, expr: sp.Basic) -> str:
        start, stop = expr.bounds
        return f"_polyval_w(_{expr.table.upper()}{self.suffix}[{start}:{stop}], {self._print(expr.args[0])})"

    def _print_Call(self, expr: sp.Basic) -> str:
        return f"_{expr.callee}{self.suffix}({', '.join(self._print(a) for a in expr.arguments)})"

    def _print_Runtime(self, expr: sp.Basic) -> str:
        return f"_{expr.callee}({', '.join(self._print(a) for a in expr.arguments)})"

    def _print_Select(self, expr: sp.Basic) -> str:
        condition, a, b = (self._print(arg) for arg in expr.args)
        return f"{'_pick' if type_of(expr, self.types) == PAIR else 'torch.where'}({condition}, {a}, {b})"

    def _print_IsFinite(self, expr: sp.Basic) -> str:
        return f"torch.isfinite({self._print(expr.args[0])})"

    def _print_Abs(self, expr: sp.Basic) -> str:
        """Python's abs: an argument may be a constant, not a tensor."""
        return f"abs({self._print(expr.args[0])})"

    def _print_IsInf(self, expr: sp.Basic) -> str:
        return f"torch.isposinf({self._print(expr.args[0])})"

    def _print_ToWide(self, expr: sp.Basic) -> str:
        raise TypeError("torch has no long double: a long-double stage reached the torch backend")

    _print_ToReal = _print_WideConstant = _print_LongDoubleStage = _print_ToWide


def _lines(lets, value: sp.Basic, printer: TorchNumericsPrinter, indent: str) -> list[str]:
    p = printer.doprint
    return [*(f"{indent}{s} = {p(v)}" for s, v in lets), f"{indent}return {p(value)}"]


def torch_function(fn: Function, printer: TorchNumericsPrinter) -> str:
    printer.types = fn.types()
    params = ", ".join(str(s) for s in fn.params)
    header = [f"def _{fn.name}{printer.suffix}({params}):", f'    """{" ".join(fn.doc.split())}"""']
    if not fn.regimes:
        return "\n".join([*header, *_lines((*fn.lets, *fn.default_lets), fn.default, printer, "    ")])
    lines = [*header, *(f"    {s} = {printer.doprint(v)}" for s, v in fn.lets), ""]
    every = ", ".join([*(str(s) for s in fn.params), *(str(s) for s, _ in fn.lets)])
    choices = []
    for k, regime in enumerate(fn.regimes):
        name = regime.name or f"regime_{k}"
        lines += [f"    def {name}({every}):", *_lines(regime.lets, regime.value, printer, "        "), ""]
        choices.append(f"(lambda {every}: {printer.doprint(regime.condition)}, {name})")
    lines += [f"    def {fn.default_name}({every}):", *_lines(fn.default_lets, fn.default, printer, "        "), ""]
    lines.append(f'    return _select(({every},), ({", ".join(choices)},), {fn.default_name}, "{fn.result}")')
    return "\n".join(lines)


def torch_table(coef, name: str, kind: str, suffix: str = "") -> str:
    values = getattr(coef, name)
    if kind in (WIDE_COEFFICIENTS, WIDE_SCALAR):
        raise TypeError(f"torch has no long double: table {name!r} reached the torch backend")
    rows = "".join("\n    " + " ".join(f"{_double(v)}," for v in values[i:i + 4]) for i in range(0, len(values), 4))
    return f"_{name.upper()}{suffix} = ({rows}\n)"


def print_numerics(coef, natives: dict[str, str]) -> str:
    """The implementations of ``coef``'s precision, after the tables they read: float64's in its own arithmetic;
    float32's (whose refinements are float64's, derive/numerics/narrow.py) in float32 where they can be, else as
    calls of float64's on the widened arguments. The names of a precision other than float64 end with its suffix."""
    printer = TorchNumericsPrinter(natives)
    printer.suffix = find_precision(coef.precision).suffix
    functions = printed_functions(coef, natives)
    if any(WIDE in fn.types().values() or fn.result == WIDE for fn in functions):
        raise TypeError("torch has no long double: a long-double function reached the torch backend")
    delegated: tuple[Function, ...] = ()
    if coef.wider:
        split = narrow_functions(functions, printed_functions(coefficients(find_precision(coef.wider)), natives))
        functions, delegated = list(split.native), split.delegated
    declared = "\n".join(torch_table(coef, name, kind, printer.suffix) for name, kind in tables(functions).items())
    return "\n\n\n".join(["# Coefficients derived by SymPy (derive/series.py).\n" + declared,
                          *(torch_function(fn, printer) for fn in functions),
                          *(widened_function(fn, printer.suffix, coef.wider) for fn in delegated)])


def widened_function(fn: Function, suffix: str, wider: str) -> str:
    """``fn`` of a narrow precision as its ``wider`` twin on the exactly widened arguments, rounded back (the
    runtime's ``_widened``)."""
    params = ", ".join(str(s) for s in fn.params)
    return (f"def _{fn.name}{suffix}({params}):\n"
            f'    """{fn.name} in {wider} (a refinement, or built on double-double pairs), rounded back."""\n'
            f"    return _widened(_{fn.name}, {params})")


def print_library() -> str:
    """The double-double arithmetic (derive/numerics/dd.py): plain arithmetic on (hi, lo) tuples of tensors."""
    from derive.numerics.dd import LIBRARY

    printer = TorchNumericsPrinter({})
    return "\n\n\n".join(torch_function(fn, printer) for fn in LIBRARY)
