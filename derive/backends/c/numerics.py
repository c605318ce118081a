"""The primitives' implementations (derive/numerics) as C: one static inline function each, callee first.

Ordered nodes print with the parentheses that keep their order; polynomials become functions of their own written
by Estrin's scheme; library calls are libm's; table lookups index the generated tables.
"""

from __future__ import annotations

import textwrap

import sympy as sp

from derive.backends.c.printer import CKernelPrinter, estrin
from derive.numerics.collect import generated_functions, polynomials
from derive.numerics.ir import Function, SumBelow, expressions, infix


class CNumericsPrinter(CKernelPrinter):
    """The kernel printer, plus the implementation language's nodes."""

    #: The loop function printed for each short sum of the function being printed (c_function fills it in).
    sums: dict[sp.Basic, str] = {}

    def _print_OrderedBase(self, expr: sp.Basic) -> str:
        return infix(expr, self._print)

    def _print_Libm(self, expr: sp.Basic) -> str:
        return f"{expr.name}({', '.join(self._print(a) for a in expr.args[1:])})"

    def _print_Polynomial(self, expr: sp.Basic) -> str:
        return f"{polynomial_name(expr.table, *expr.bounds)}({self._print(expr.args[0])})"

    def _print_Lookup(self, expr: sp.Basic) -> str:
        return f"NBK_{expr.table.upper()}[(int){self._print(expr.args[1])}]"

    def _print_Call(self, expr: sp.Basic) -> str:
        return f"nbk_{expr.callee}({', '.join(self._print(a) for a in expr.args[1:])})"

    _print_Runtime = _print_Call

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
    """A short sum as a loop of its own (k an int, as the counts are small)."""
    acc, k, term, lo, _ = node.parts
    params = ", ".join(["double count", *(f"double {v}" for v in node.free())])
    return (f"static inline double {name}({params}) {{\n    double {acc} = 0.0;\n"
            f"    for (int {k} = {lo}; {k} < (int)count; ++{k}) {acc} += {printer.doprint(term)};\n"
            f"    return {acc};\n}}")


def c_function(fn: Function, printer: CNumericsPrinter) -> str:
    sums = [node for expr in expressions(fn) for node in sp.preorder_traversal(expr) if isinstance(node, SumBelow)]
    printer.sums = {node: f"nbk_{fn.name}_sum{i}" for i, node in enumerate(dict.fromkeys(sums))}
    loops = [c_sum_below(name, node, printer) + "\n\n" for node, name in printer.sums.items()]
    return "".join(loops) + _c_body(fn, printer)


def _c_body(fn: Function, printer: CNumericsPrinter) -> str:
    p = printer.doprint
    params = ", ".join(f"double {s}" for s in fn.params)
    lines = [*_comment(fn.doc), f"static inline double nbk_{fn.name}({params}) {{"]
    lines += [f"    const double {s} = {p(v)};" for s, v in fn.lets]
    for regime in fn.regimes:
        if regime.lets:
            lines.append(f"    if ({p(regime.condition)}) {{")
            lines += [f"        const double {s} = {p(v)};" for s, v in regime.lets]
            lines += [f"        return {p(regime.value)};", "    }"]
        else:
            lines.append(f"    if ({p(regime.condition)}) return {p(regime.value)};")
    lines += [f"    const double {s} = {p(v)};" for s, v in fn.default_lets]
    lines += [f"    return {p(fn.default)};", "}"]
    return "\n".join(lines)


def c_polynomial(coef, table: str, start: int, stop: int) -> str:
    values = getattr(coef, table)[start:stop]
    return (f"/* sum_j c[{start} + j] w^(j+1), c = {table} (derive/series.py), by Estrin's scheme. */\n"
            f"static inline double {polynomial_name(table, start, stop)}(double w) {{\n"
            f"    {estrin(list(values))}\n}}")


def print_numerics(coef, natives: frozenset[str]) -> str:
    """Every generated function for C, polynomials first, each function after the ones it calls."""
    functions = generated_functions(coef, natives)
    printer = CNumericsPrinter()
    parts = [c_polynomial(coef, *unit) for unit in polynomials(functions)]
    parts += [c_function(fn, printer) for fn in functions]
    return "\n\n".join(parts)
