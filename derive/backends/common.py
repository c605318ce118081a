"""What every code backend shares: the per-branch preparation of a kernel for printing.

A backend's printer turns SymPy into its language; this module decides *what* is printed for each branch
(the branch's lets, one common-subexpression elimination over all of its outputs, the outputs), so the numpy
and C templates print the same computation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from derive.spec import Branch, KernelSpec


@dataclass(frozen=True)
class PrintedBranch:
    condition: str | None
    """The condition in the target language, None for the final catch-all branch."""
    assignments: tuple[tuple[str, str], ...]
    """(name, value) in order: the branch's lets, then the shared temporaries."""
    outputs: tuple[str, ...]
    note: str
    free: tuple[str, ...]
    """Names of kernel inputs/lets the branch reads (the numpy backend gathers only these)."""
    dense: bool = False
    hoisted: tuple[tuple[str, int, str, str], ...] = ()
    """(name, input position, value on the branch's elements, value on the input's distinct values): functions of
    one input alone, which a backend may evaluate once per distinct value (per gene) instead of per element."""

    def reads(self, name: str) -> bool:
        """Whether the printed code mentions ``name`` (a backend's helper variable, e.g. cols_of_theta_)."""
        return any(re.search(rf"\b{re.escape(name)}\b", text)
                   for text in (*self.outputs, *(value for _, value in self.assignments)))


@dataclass(frozen=True)
class PrintedKernel:
    spec: KernelSpec
    lets: tuple[tuple[str, str], ...]
    branches: tuple[PrintedBranch, ...]
    #: The backend's own plan of the kernel's array loops, if it makes one (C: derive/backends/c/plan.py).
    dense: object | None = None

    @property
    def name(self) -> str:
        return self.spec.name


def _cse(exprs: list[sp.Expr], prefix: str) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    symbols = sp.numbered_symbols(prefix)
    replacements, reduced = sp.cse(exprs, symbols=symbols, order="none")
    return replacements, reduced


def print_kernel(spec: KernelSpec, printer: Callable[[sp.Expr], str], local_suffix: str = "",
                 hoist: bool = False, plan: Callable | None = None) -> PrintedKernel:
    """Print every branch of ``spec`` with ``printer`` (a function from SymPy to target-language text).

    Inside a branch, inputs and lets are renamed with ``local_suffix`` (numpy evaluates a branch on the
    gathered subset ``x_ = x[m]``); conditions keep the full names. ``plan`` is the backend's planner of the array
    loops, ``plan(spec, printer, known)`` (C's two passes), if it has one.
    """
    known_symbols = [*spec.inputs, *(s for s, _ in spec.lets)]
    known = {s.name for s in known_symbols}
    rename = {s: sp.Symbol(s.name + local_suffix) for s in known_symbols} if local_suffix else {}
    inputs = spec.inputs if hoist else ()
    branches = []
    for index, branch in enumerate(spec.branches):
        hoistable = inputs if not branch.dense else ()
        branches.append(print_branch(branch, printer, index == len(spec.branches) - 1, known, rename, hoistable))
    lets = tuple((symbol.name, printer(value)) for symbol, value in spec.lets)
    return PrintedKernel(spec, lets, tuple(branches), plan(spec, printer, known) if plan else None)


def calls(e: sp.Basic, unconditional: bool = False) -> set[sp.Basic]:
    """Function applications in ``e`` (log, exp, primitives; not the Piecewise that selects between them).

    ``unconditional``: only those evaluated whatever the data (not inside a Piecewise's pieces).
    """
    found: set[sp.Basic] = set()
    pending = [sp.sympify(e)]
    while pending:
        node = pending.pop()
        if isinstance(node, sp.Piecewise):
            if unconditional:
                continue
        elif isinstance(node, sp.Function):
            found.add(node)
        pending.extend(node.args)
    return found


def _hoist(outputs: list[sp.Expr], inputs: tuple[sp.Symbol, ...], printer: Callable[[sp.Expr], str],
           rename: dict) -> tuple[list[sp.Expr], tuple[tuple[str, int, str, str], ...]]:
    """Replace every function applied to one input alone (e.g. Stirlerr(theta)) by a name ``h<k>``."""
    found: dict[sp.Expr, sp.Symbol] = {}
    for output in outputs:
        for node in sp.preorder_traversal(output):
            if isinstance(node, sp.Function) and len(node.free_symbols) == 1 and node.free_symbols <= set(inputs):
                found.setdefault(node, sp.Symbol(f"h{len(found)}"))
    hoisted = []
    for node, name in found.items():
        (symbol,) = node.free_symbols
        unique = sp.Symbol(symbol.name + "__u")
        hoisted.append((name.name, inputs.index(symbol), printer(node.xreplace(rename)),
                        printer(node.xreplace({symbol: unique}))))
    return [o.xreplace(found) for o in outputs], tuple(hoisted)


def _in_dependency_order(assignments: list[tuple[sp.Symbol, sp.Expr]]) -> list[tuple[sp.Symbol, sp.Expr]]:
    """The assignments, each after those whose names it reads, otherwise in the given order."""
    pending = list(assignments)
    names = {symbol for symbol, _ in pending}
    done: set[sp.Symbol] = set()
    ordered = []
    while pending:
        for i, (symbol, value) in enumerate(pending):
            if (sp.sympify(value).free_symbols & names) <= done:
                ordered.append(pending.pop(i))
                done.add(symbol)
                break
        else:
            raise ValueError(f"assignments that read each other: {[s.name for s, _ in pending]}")
    return ordered


def print_branch(branch: Branch, printer: Callable[[sp.Expr], str], last: bool, known: set[str],
                  rename: dict, hoistable: tuple[sp.Symbol, ...] = ()) -> PrintedBranch:
    outputs = [sp.sympify(o) for o in branch.outputs]
    free_before = set().union(*(o.free_symbols for o in outputs))
    outputs, hoisted = _hoist(outputs, hoistable, printer, rename) if hoistable else (outputs, ())
    replacements, reduced = _cse(outputs, "t")
    # The lets read the outputs' common subexpressions where they contain them (q = (theta + x)/(mu + theta) reads
    # t0 = theta + x), and every assignment comes after those it reads. Not a lone reciprocal: a/b stays a division
    # (one rounding) rather than a times 1/b.
    shared = {value: symbol for symbol, value in replacements if not (value.is_Pow and value.exp == -1)}
    lets = [(symbol, sp.sympify(value).xreplace(shared)) for symbol, value in branch.lets]
    assignments = [(symbol.name, printer(sp.sympify(value).xreplace(rename)))
                   for symbol, value in _in_dependency_order(lets + list(replacements))]
    condition = None if (last and branch.condition == sp.true) else printer(branch.condition)
    if last and branch.condition != sp.true:
        raise ValueError("the last branch of a kernel must be the catch-all (condition True)")
    used = {s.name for s in free_before}
    for e in [*outputs, *(v for _, v in branch.lets)]:
        used |= {s.name for s in sp.sympify(e).free_symbols}
    free = tuple(sorted(used & known))
    printed = tuple(printer(sp.sympify(o).xreplace(rename)) for o in reduced)
    return PrintedBranch(condition, tuple(assignments), printed, branch.note, free, branch.dense, hoisted)
