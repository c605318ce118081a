"""The primitives' implementations (derive/numerics) as numpy: one function each, its regimes as nested functions.

A function with regimes hands them to the runtime's ``_select``, which runs each on the elements where it holds (or,
for the dense common case, on all of them first); polynomials call the runtime's in-place Horner ``_polyval_w``;
library calls are numpy's and scipy.special's ufuncs.
"""

from __future__ import annotations

import sympy as sp

from derive.backends.numpy.printer import NumpyKernelPrinter
from derive.numerics.collect import generated_functions
from derive.numerics.ir import Function, infix

_LIBRARY = {"exp": "np.exp", "log": "np.log", "log1p": "np.log1p", "lgamma": "_sc.gammaln", "fabs": "np.abs",
            "ceil": "np.ceil"}


class NumpyNumericsPrinter(NumpyKernelPrinter):
    """The kernel printer, plus the implementation language's nodes; natives print as numpy's own functions."""

    def __init__(self, natives: dict[str, str]):
        super().__init__()
        self.natives = natives

    def _print_OrderedBase(self, expr: sp.Basic) -> str:
        return infix(expr, self._print)

    def _print_Libm(self, expr: sp.Basic) -> str:
        return f"{_LIBRARY[expr.name]}({', '.join(self._print(a) for a in expr.args[1:])})"

    def _print_PrimitiveBase(self, expr: sp.Function) -> str:
        name = self.natives.get(expr.c_name, f"_{expr.c_name}")
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Polynomial(self, expr: sp.Basic) -> str:
        start, stop = expr.bounds
        return f"_polyval_w(_{expr.table.upper()}[{start}:{stop}], {self._print(expr.args[0])})"

    def _print_Lookup(self, expr: sp.Basic) -> str:
        return f'np.take(_{expr.table.upper()}, {self._print(expr.args[1])}.astype(np.intp), mode="clip")'

    def _print_Call(self, expr: sp.Basic) -> str:
        return f"_{expr.callee}({', '.join(self._print(a) for a in expr.args[1:])})"

    _print_Runtime = _print_Call

    def _print_SumBelow(self, expr: sp.Basic) -> str:
        acc, k, term, lo, count = expr.parts
        free = [str(v) for v in expr.free()]
        return (f"_accumulate({self._print(count)}, {lo}, lambda {', '.join([str(k), str(acc), *free])}: "
                f"{self._print(term)}{''.join(', ' + v for v in free)})")

    def _print_IsInf(self, expr: sp.Basic) -> str:
        """One comparison (np.isposinf is a Python function around two ufuncs)."""
        return f"({self._print(expr.args[0])} == np.inf)"

    def _print_Abs(self, expr: sp.Basic) -> str:
        return f"np.abs({self._print(expr.args[0])})"


def _form(name: str, params: str, lets, value: sp.Basic, p) -> list[str]:
    lines = [f"    def {name}({params}):"]
    lines += [f"        {s} = {p(v)}" for s, v in lets]
    return [*lines, f"        return {p(value)}", ""]


def numpy_function(fn: Function, printer: NumpyNumericsPrinter) -> str:
    p = printer.doprint
    names = ", ".join(str(s) for s in fn.params)
    arrays = ", ".join(f"np.asarray({s}, dtype=np.float64)" for s in fn.params)
    lines = [f"def _{fn.name}({names}):", f'    """{" ".join(fn.doc.split())}"""']
    if len(fn.params) == 1:
        lines.append(f"    {names} = {arrays}")
    else:
        lines.append(f"    {names} = np.broadcast_arrays({arrays})")
    lines += [f"    {s} = {p(v)}" for s, v in fn.lets]
    if not fn.regimes:
        lines += [f"    {s} = {p(v)}" for s, v in fn.default_lets]
        return "\n".join([*lines, f"    return {p(fn.default)}"])
    every = ", ".join([*(str(s) for s in fn.params), *(str(s) for s, _ in fn.lets)])
    lines.append("")
    choices = []
    for k, regime in enumerate(fn.regimes):
        name = regime.name or f"regime_{k}"
        lines += _form(name, every, regime.lets, regime.value, p)
        choices.append(f"(lambda: {p(regime.condition)}, {name}, {regime.dense})")
    lines += _form(fn.default_name, every, fn.default_lets, fn.default, p)
    lines.append(f"    return _select(({every},), ({', '.join(choices)},), {fn.default_name}, {fn.default_dense})")
    return "\n".join(lines)


def print_numerics(coef, natives: dict[str, str]) -> str:
    """Every generated function for numpy (callee first, though Python resolves names at call time)."""
    printer = NumpyNumericsPrinter(natives)
    return "\n\n\n".join(numpy_function(fn, printer) for fn in generated_functions(coef, frozenset(natives)))
