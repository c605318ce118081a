"""What every code backend shares: the per-branch preparation of a kernel for printing.

A backend's printer turns SymPy into its language; this module decides *what* is printed for each branch
(the branch's lets, one common-subexpression elimination over all of its outputs, the outputs), so the numpy
and C templates print the same computation.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class PrintedKernel:
    spec: KernelSpec
    lets: tuple[tuple[str, str], ...]
    branches: tuple[PrintedBranch, ...]

    @property
    def name(self) -> str:
        return self.spec.name


def _cse(exprs: list[sp.Expr], prefix: str) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    symbols = sp.numbered_symbols(prefix)
    replacements, reduced = sp.cse(exprs, symbols=symbols, order="none")
    return replacements, reduced


def print_kernel(spec: KernelSpec, printer: Callable[[sp.Expr], str], local_suffix: str = "",
                 hoist: bool = False) -> PrintedKernel:
    """Print every branch of ``spec`` with ``printer`` (a function from SymPy to target-language text).

    Inside a branch, inputs and lets are renamed with ``local_suffix`` (numpy evaluates a branch on the
    gathered subset ``x_ = x[m]``); conditions keep the full names.
    """
    known_symbols = [*spec.inputs, *(s for s, _ in spec.lets)]
    known = {s.name for s in known_symbols}
    rename = {s: sp.Symbol(s.name + local_suffix) for s in known_symbols} if local_suffix else {}
    inputs = spec.inputs if hoist else ()
    branches = []
    for index, branch in enumerate(spec.branches):
        hoistable = inputs if not branch.dense else ()
        branches.append(_print_branch(branch, printer, index == len(spec.branches) - 1, known, rename, hoistable))
    lets = tuple((symbol.name, printer(value)) for symbol, value in spec.lets)
    return PrintedKernel(spec, lets, tuple(branches))


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


def _print_branch(branch: Branch, printer: Callable[[sp.Expr], str], last: bool, known: set[str],
                  rename: dict, hoistable: tuple[sp.Symbol, ...] = ()) -> PrintedBranch:
    outputs = [sp.sympify(o) for o in branch.outputs]
    free_before = set().union(*(o.free_symbols for o in outputs))
    outputs, hoisted = _hoist(outputs, hoistable, printer, rename) if hoistable else (outputs, ())
    replacements, reduced = _cse(outputs, "t")
    assignments = [(symbol.name, printer(sp.sympify(value).xreplace(rename))) for symbol, value in branch.lets]
    assignments += [(symbol.name, printer(value.xreplace(rename))) for symbol, value in replacements]
    condition = None if (last and branch.condition == sp.true) else printer(branch.condition)
    if last and branch.condition != sp.true:
        raise ValueError("the last branch of a kernel must be the catch-all (condition True)")
    used = {s.name for s in free_before}
    for e in [*outputs, *(v for _, v in branch.lets)]:
        used |= {s.name for s in sp.sympify(e).free_symbols}
    free = tuple(sorted(used & known))
    printed = tuple(printer(sp.sympify(o).xreplace(rename)) for o in reduced)
    return PrintedBranch(condition, tuple(assignments), printed, branch.note, free, branch.dense, hoisted)
