"""The primitives' implementations (derive/numerics) as numpy: one function each, its regimes as nested functions.

A function with regimes hands them to the runtime's ``_select``, which runs each on the elements where it holds (or,
for the dense common case, on all of them first); polynomials call the runtime's in-place Horner ``_polyval_w``;
short sums its ``_accumulate`` over prefixes of the count-sorted elements; library calls are numpy's and
scipy.special's ufuncs; pairs are (hi, lo) tuples of arrays, long doubles numpy's longdouble.
"""

from __future__ import annotations

import sympy as sp

from derive.backends.base import double_literal
from derive.backends.numpy.inplace import statements
from derive.backends.numpy.printer import NumpyKernelPrinter
from derive.numerics.collect import WIDE_COEFFICIENTS, WIDE_SCALAR, generated_functions, tables
from derive.numerics.ir import PAIR, REAL, RUNTIME, WIDE, Function, Runtime, infix, nodes, type_of

_LIBRARY = {"exp": "np.exp", "log": "np.log", "log1p": "np.log1p", "lgamma": "_sc.gammaln", "fabs": "np.abs",
            "ceil": "np.ceil", "rint": "np.rint"}
_DTYPES = {REAL: "np.float64", WIDE: "np.longdouble"}
_double = double_literal("np.nan")


class NumpyNumericsPrinter(NumpyKernelPrinter):
    """The kernel printer, plus the implementation language's nodes; natives print as numpy's own functions."""

    def __init__(self, natives: dict[str, str]):
        super().__init__()
        self.natives = natives
        self.types: dict[str, str] = {}
        #: Numbering of the in-place statements' temporaries (unique names within a generated function).
        self.temporaries = 0

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
        index = self._print(expr.args[1])
        index = index if isinstance(expr.args[1], sp.Symbol) else f"({index})"
        return f'np.take(_{expr.table.upper()}, {index}.astype(np.intp), mode="clip")'

    def _print_Call(self, expr: sp.Basic) -> str:
        return f"_{expr.callee}({', '.join(self._print(a) for a in expr.arguments)})"

    def _print_Runtime(self, expr: sp.Basic) -> str:
        context = RUNTIME[expr.callee].context
        args = [self._print(a) for a in expr.arguments] + ([context] if context else [])
        return f"_{expr.callee}({', '.join(args)})"

    def _print_Hi(self, expr: sp.Basic) -> str:
        return f"{self._print(expr.args[0])}[0]"

    def _print_Lo(self, expr: sp.Basic) -> str:
        return f"{self._print(expr.args[0])}[1]"

    def _print_PairConstant(self, expr: sp.Basic) -> str:
        return f"({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_WideConstant(self, expr: sp.Basic) -> str:
        return f"_{expr.constant.upper()}"

    def _print_ToWide(self, expr: sp.Basic) -> str:
        return f"np.asarray({self._print(expr.args[0])}, dtype=np.longdouble)"

    def _print_ToReal(self, expr: sp.Basic) -> str:
        return f"np.asarray({self._print(expr.args[0])}, dtype=np.float64)"

    def _print_Select(self, expr: sp.Basic) -> str:
        condition, a, b = (self._print(arg) for arg in expr.args)
        pick = "_pick" if type_of(expr, self.types) == PAIR else "np.where"
        return f"{pick}({condition}, {a}, {b})"

    def _print_IsFinite(self, expr: sp.Basic) -> str:
        return f"np.isfinite({self._print(expr.args[0])})"

    def _print_LongDoubleStage(self, expr: sp.Basic) -> str:
        return "_LONG_DOUBLE_STAGE"

    def _print_Not(self, expr: sp.Basic) -> str:
        return f"~({self._print(expr.args[0])})"

    def _print_SumBelow(self, expr: sp.Basic) -> str:
        acc, k, term, lo, count = expr.parts
        free = [str(v) for v in expr.free()]
        pair = type_of(term, self.types) == PAIR
        name = "_accumulate_pair" if pair else "_accumulate"
        head = f"{name}({self._print(count)}, {lo}, {expr.bound}, "
        tail = f", _{expr.add}" if pair else ""
        return (f"{head}lambda {', '.join([str(k), str(acc), *free])}: {self._print(term)}{tail}"
                f"{''.join(', ' + v for v in free)})")

    def _print_IsInf(self, expr: sp.Basic) -> str:
        """One comparison (np.isposinf is a Python function around two ufuncs)."""
        return f"({self._print(expr.args[0])} == np.inf)"

    def _print_Abs(self, expr: sp.Basic) -> str:
        return f"np.abs({self._print(expr.args[0])})"


def _assign(target: str, value: sp.Basic, printer: NumpyNumericsPrinter, indent: str) -> list[str]:
    """``target = value``: doubles by statements that reuse their own temporaries (derive/backends/numpy/inplace.py),
    pairs and long doubles as one expression."""
    if type_of(value, printer.types) != REAL:
        return [f"{indent}{'return ' if target == 'return' else target + ' = '}{printer.doprint(value)}"]
    printer.temporaries += 1
    return statements(target, value, printer.doprint, indent, f"_t{printer.temporaries}_")


def _form(name: str, params: str, lets, value: sp.Basic, printer: NumpyNumericsPrinter) -> list[str]:
    lines = [f"    def {name}({params}):"]
    for s, v in lets:
        lines += _assign(str(s), v, printer, "        ")
    return [*lines, *_assign("return", value, printer, "        "), ""]


def _arguments(fn: Function) -> list[str]:
    """The parameters as arrays of their dtype (pairs as given), broadcast together where there are several."""
    arrays = [s for i, s in enumerate(fn.params) if fn.type_of_param(i) != PAIR]
    if not arrays:
        return []
    converted = ", ".join(f"np.asarray({s}, dtype={_DTYPES[fn.type_of_param(fn.params.index(s))]})" for s in arrays)
    names = ", ".join(str(s) for s in arrays)
    if len(arrays) == 1:
        return [f"    {names} = {converted}"]
    return [f"    {names} = np.broadcast_arrays({converted})"]


def _contexts(fn: Function) -> list[str]:
    """The per-call hints of the runtime functions ``fn`` calls (optional parameters it hands on)."""
    found = {RUNTIME[node.callee].context for node in nodes(fn)
             if isinstance(node, Runtime) and RUNTIME[node.callee].context}
    return sorted(found)


def numpy_function(fn: Function, printer: NumpyNumericsPrinter) -> str:
    printer.types = fn.types()
    p = printer.doprint
    params = [str(s) for s in fn.params] + [f"{c}=None" for c in _contexts(fn)]
    lines = [f"def _{fn.name}({', '.join(params)}):", f'    """{" ".join(fn.doc.split())}"""']
    if not fn.regimes:
        # (one expression per value: elementwise operations broadcast by themselves, and a function without regimes
        # is mostly the double-double arithmetic, called many times on a few elements, where converting the
        # arguments and in-place statements would cost more Python than they save)
        lines += [f"    {s} = {p(v)}" for s, v in (*fn.lets, *fn.default_lets)]
        return "\n".join([*lines, f"    return {p(fn.default)}"])
    lines += _arguments(fn)
    lines += [f"    {s} = {p(v)}" for s, v in fn.lets]
    every = ", ".join([*(str(s) for s in fn.params), *(str(s) for s, _ in fn.lets)])
    lines.append("")
    choices = []
    for k, regime in enumerate(fn.regimes):
        name = regime.name or f"regime_{k}"
        lines += _form(name, every, regime.lets, regime.value, printer)
        choices.append(f"(lambda {every}: {p(regime.condition)}, {name}, {regime.dense})")
    lines += _form(fn.default_name, every, fn.default_lets, fn.default, printer)
    kind = "" if fn.result == REAL else f', "{fn.result}"'
    chosen = f"({', '.join(choices)},)"
    lines.append(f"    return _select(({every},), {chosen}, {fn.default_name}{kind})")
    return "\n".join(lines)


def numpy_table(coef, name: str, kind: str) -> str:
    """The module-level array (or longdouble) of a table the functions read."""
    values = getattr(coef, name)
    if kind == WIDE_SCALAR:
        return f'_{name.upper()} = np.longdouble("{values}")'
    if kind == WIDE_COEFFICIENTS:
        texts = ", ".join(f'"{v}"' for v in values)
        return f"_{name.upper()} = np.array([{texts}], dtype=np.longdouble)"
    rows = "".join("\n    " + " ".join(f"{_double(v)}," for v in values[i:i + 4]) for i in range(0, len(values), 4))
    return f"_{name.upper()} = np.array([{rows}\n])"


def print_numerics(coef, natives: dict[str, str]) -> str:
    """Every generated function for numpy (callee first, though Python resolves names at call time), after the tables
    they read."""
    printer = NumpyNumericsPrinter(natives)
    functions = generated_functions(coef, natives)
    declared = "\n".join(numpy_table(coef, name, kind) for name, kind in tables(functions).items())
    return "\n\n\n".join(["# Coefficients derived by SymPy (derive/series.py).\n" + declared,
                           *(numpy_function(fn, printer) for fn in functions)])


def print_library() -> str:
    """The double-double arithmetic (derive/numerics/dd.py), which the runtime's elementary functions build on."""
    from derive.numerics.dd import LIBRARY

    printer = NumpyNumericsPrinter({})
    return "\n\n\n".join(numpy_function(fn, printer) for fn in LIBRARY)
