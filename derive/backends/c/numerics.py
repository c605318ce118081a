"""The primitives' implementations (derive/numerics) as C: one static function each, callee first.

Ordered nodes print with the parentheses that keep their order; polynomials become functions of their own (Estrin's
scheme for doubles, Horner's for the long double tables); short sums become loops; library calls are libm's (with
the l suffix on long doubles); pairs are the runtime's nbk_dd; table lookups index the generated tables.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection

import sympy as sp

from derive.backends.base import double_literal
from derive.backends.c.printer import CKernelPrinter, estrin
from derive.numerics.collect import LOOKUP, WIDE_COEFFICIENTS, WIDE_SCALAR, generated_functions, polynomials, tables
from derive.numerics.ir import PAIR, REAL, WIDE, WIDE_TABLES, Function, SumBelow, infix, nodes, type_of

C_TYPES = {REAL: "double", PAIR: "nbk_dd", WIDE: "long double"}
_double = double_literal("NAN")


class CNumericsPrinter(CKernelPrinter):
    """The kernel printer, plus the implementation language's nodes."""

    def __init__(self) -> None:
        super().__init__()
        #: The types of the names of the function being printed, and the loop function of each of its short sums.
        self.types: dict[str, str] = {}
        self.sums: dict[sp.Basic, str] = {}

    def _print_OrderedBase(self, expr: sp.Basic) -> str:
        return infix(expr, self._print)

    def _print_Libm(self, expr: sp.Basic) -> str:
        suffix = "l" if type_of(expr, self.types) == WIDE else ""
        return f"{expr.name}{suffix}({', '.join(self._print(a) for a in expr.args[1:])})"

    def _print_Abs(self, expr: sp.Basic) -> str:
        suffix = "l" if type_of(expr.args[0], self.types) == WIDE else ""
        return f"fabs{suffix}({self._print(expr.args[0])})"

    def _print_Polynomial(self, expr: sp.Basic) -> str:
        return f"{polynomial_name(expr.table, *expr.bounds)}({self._print(expr.args[0])})"

    def _print_Lookup(self, expr: sp.Basic) -> str:
        return f"NBK_{expr.table.upper()}[(int)({self._print(expr.args[1])})]"

    def _print_Call(self, expr: sp.Basic) -> str:
        return f"nbk_{expr.callee}({', '.join(self._print(a) for a in expr.arguments)})"

    _print_Runtime = _print_Call

    def _print_Hi(self, expr: sp.Basic) -> str:
        return f"{self._print(expr.args[0])}.hi"

    def _print_Lo(self, expr: sp.Basic) -> str:
        return f"{self._print(expr.args[0])}.lo"

    def _print_PairConstant(self, expr: sp.Basic) -> str:
        return f"((nbk_dd){{{self._print(expr.args[0])}, {self._print(expr.args[1])}}})"

    def _print_WideConstant(self, expr: sp.Basic) -> str:
        return f"NBK_{expr.constant.upper()}"

    def _print_ToWide(self, expr: sp.Basic) -> str:
        return f"(long double){self._print(expr.args[0])}"

    def _print_ToReal(self, expr: sp.Basic) -> str:
        return f"(double){self._print(expr.args[0])}"

    def _print_Select(self, expr: sp.Basic) -> str:
        condition, a, b = (self._print(arg) for arg in expr.args)
        return f"(({condition}) ? {a} : {b})"

    def _print_IsFinite(self, expr: sp.Basic) -> str:
        return f"isfinite({self._print(expr.args[0])})"

    def _print_LongDoubleStage(self, expr: sp.Basic) -> str:
        return "NBK_LONG_DOUBLE_STAGE"

    def _print_Not(self, expr: sp.Basic) -> str:
        return f"!({self._print(expr.args[0])})"

    def _print_SumBelow(self, expr: sp.Basic) -> str:
        count = self._print(expr.parts[4])
        return f"{self.sums[expr]}({', '.join([count, *(self._print(v) for v in expr.free())])})"

    def _print_exp(self, expr: sp.Basic) -> str:
        raise TypeError("an implementation says which e^x it means: libm('exp', x) or the primitive Exp")


def polynomial_name(table: str, start: int, stop: int) -> str:
    return f"nbk_poly_{table}_{start}_{stop}"


def _comment(text: str) -> list[str]:
    lines = textwrap.wrap(" ".join(text.split()), 112)
    if len(lines) == 1:
        return [f"/* {lines[0]} */"]
    return [f"/* {lines[0]}", *(f" * {line}" for line in lines[1:]), " */"]


def c_sum_below(name: str, node: SumBelow, printer: CNumericsPrinter) -> str:
    """A short sum as a loop of its own (k an int, as the counts are small); pairs accumulate by the runtime."""
    acc, k, term, lo, _ = node.parts
    kind = type_of(term, printer.types)
    params = ", ".join(["double count", *(f"{C_TYPES[printer.types.get(str(v), REAL)]} {v}" for v in node.free())])
    zero = "{0.0, 0.0}" if kind == PAIR else "0.0"
    step = f"{acc} = nbk_{node.add}({acc}, {printer.doprint(term)})" if kind == PAIR else \
        f"{acc} += {printer.doprint(term)}"
    return (f"static inline {C_TYPES[kind]} {name}({params}) {{\n    {C_TYPES[kind]} {acc} = {zero};\n"
            f"    for (int {k} = {lo}; {k} < (int)count; ++{k}) {step};\n    return {acc};\n}}")


def c_function(fn: Function, printer: CNumericsPrinter) -> str:
    printer.types = fn.types()
    sums = [node for node in nodes(fn) if isinstance(node, SumBelow)]
    printer.sums = {node: f"nbk_{fn.name}_sum{i}" for i, node in enumerate(dict.fromkeys(sums))}
    loops = [c_sum_below(name, node, printer) + "\n\n" for node, name in printer.sums.items()]
    return "".join(loops) + _c_body(fn, printer)


def _declarations(lets, printer: CNumericsPrinter, indent: str) -> list[str]:
    return [f"{indent}const {C_TYPES[printer.types[str(s)]]} {s} = {printer.doprint(v)};" for s, v in lets]


def _c_body(fn: Function, printer: CNumericsPrinter) -> str:
    p = printer.doprint
    params = ", ".join(f"{C_TYPES[fn.type_of_param(i)]} {s}" for i, s in enumerate(fn.params))
    storage = "static NBK_RARE" if fn.cold else "static inline"
    lines = [*_comment(fn.doc), f"{storage} {C_TYPES[fn.result]} nbk_{fn.name}({params}) {{"]
    lines += _declarations(fn.lets, printer, "    ")
    for regime in fn.regimes:
        if regime.lets:
            lines.append(f"    if ({p(regime.condition)}) {{")
            lines += _declarations(regime.lets, printer, "        ")
            lines += [f"        return {p(regime.value)};", "    }"]
        else:
            lines.append(f"    if ({p(regime.condition)}) return {p(regime.value)};")
    lines += _declarations(fn.default_lets, printer, "    ")
    lines += [f"    return {p(fn.default)};", "}"]
    return "\n".join(lines)


def c_polynomial(coef, table: str, start: int, stop: int) -> str:
    """Estrin's scheme for double coefficients (a short chain of dependent operations); Horner's for the long double
    tables (their refinements are rare, and Horner's order is what the long double stage was measured with)."""
    name = polynomial_name(table, start, stop)
    head = f"/* sum_j c[{start} + j] w^(j+1), c = {table} (derive/series.py). */\n"
    if table in WIDE_TABLES:
        return (f"{head}static inline long double {name}(long double w) {{\n    long double acc = 0.0L;\n"
                f"    for (int j = {stop - 1}; j >= {start}; --j) acc = (acc + NBK_{table.upper()}[j]) * w;\n"
                f"    return acc;\n}}")
    values = getattr(coef, table)[start:stop]
    return f"{head}static inline double {name}(double w) {{\n    {estrin(list(values))}\n}}"


def c_table(coef, name: str, kind: str) -> str | None:
    """The declaration of a table the functions read (double coefficients are written into the polynomials)."""
    values = getattr(coef, name)
    if kind == WIDE_SCALAR:
        return f"static const long double NBK_{name.upper()} = {values}L;"
    if kind == LOOKUP:
        rows = [", ".join(_double(v) for v in values[i:i + 4]) for i in range(0, len(values), 4)]
        body = "".join(f"\n    {row}," for row in rows)
        return f"static const double NBK_{name.upper()}[{len(values)}] = {{{body}\n}};"
    if kind == WIDE_COEFFICIENTS:
        return f"static const long double NBK_{name.upper()}[{len(values)}] = {{{', '.join(f'{v}L' for v in values)}}};"
    return None


def print_numerics(coef, natives: Collection[str]) -> str:
    """Every generated function for C, the tables and polynomials they read first, each function after the ones it
    calls."""
    functions = generated_functions(coef, natives)
    printer = CNumericsPrinter()
    declared = (c_table(coef, name, kind) for name, kind in tables(functions).items())
    parts = ["/* Coefficients derived by SymPy (derive/series.py). */\n" + "\n".join(d for d in declared if d)]
    parts += [c_polynomial(coef, *unit) for unit in polynomials(functions)]
    parts += [c_function(fn, printer) for fn in functions]
    return "\n\n".join(parts)


def print_library() -> str:
    """The double-double arithmetic (derive/numerics/dd.py), printed before the runtime that builds on it."""
    from derive.numerics.dd import LIBRARY

    printer = CNumericsPrinter()
    return "\n\n".join(c_function(fn, printer) for fn in LIBRARY)
