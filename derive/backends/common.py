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
class DensePlan:
    """A kernel's array loop in two passes, for backends that loop element by element (C).

    Pass 1 evaluates the dense branch (x = 0) on every element of a row segment, with no branch on the data,
    and lists the elements it does not cover; pass 2 evaluates the regimes on those alone. Values that
    both passes need are computed once: the kernel's lets and ``carries`` (function calls of the dense branch
    that later branches also make, e.g. log1p(mu/theta)) are kept per element for pass 2, and lets of a single
    input (theta = e^log_theta) are evaluated once per gene when that input is constant down the columns.

    Three refinements, each where the spec allows it: lets that call a function go first, in a loop of their own
    (``early``); a second common case right after the dense one gets a loop of its own over the elements pass 1
    lists for it (``sweep``); and a pass 1 of arithmetic alone writes a class per element instead of appending to
    the lists, so that the compiler can run it on SIMD lanes (``vector``).
    """

    branch: PrintedBranch
    """The dense branch, reading the carries by name."""
    carries: tuple[tuple[str, str, str | None], ...]
    """(name, value, exact): computed in pass 1 for every element, passed to pass 2. ``exact`` is set where the value
    is the backend's prepared (faster) form, which may be non-finite where its preparation does not apply: pass 1
    then leaves the element to pass 2, and pass 2 uses ``exact`` wherever the value it is handed is not finite."""
    rest: tuple[PrintedBranch, ...]
    """The dense branch again (for the elements pass 1 could not finish) and those after it, reading the carries and
    lets by name."""
    rest_lets: tuple[str, ...]
    """Kernel lets the rest branches read (passed to pass 2 rather than recomputed)."""
    lets: tuple[str, ...]
    """Kernel lets pass 1 computes: those the dense branch or the rest read."""
    per_gene: tuple[tuple[str, str, str, str], ...]
    """(name, input, value, fallback): values of one input alone, computed once per gene when that input is the same
    in every row, else ``fallback`` per element. They are the lets of one input (theta = e^log_theta), and the
    per-gene preparation of a carried primitive's argument when the backend has one (1/theta for log1p(mu/theta):
    a multiplication per element instead of a division)."""
    test: str = ""
    """The dense branch's condition for pass 1's flags: its conjuncts joined by a bitwise and (a short-circuit and
    branches on each, and x = 0 versus a count is a coin toss the predictor loses)."""
    sweep_test: str = ""
    """The same for the sweep branch's condition."""
    sweep: PrintedBranch | None = None
    """The branch after the dense one when the spec marks it ``sweep``: pass 1 lists the elements it covers apart,
    and a loop of its own computes it there (no dispatch through the regimes, no branch between its elements and the
    rest). It reads inputs, and the lets pass 1 keeps for pass 2 (not carries: none needs them yet)."""
    early: tuple[str, ...] = ()
    """Lets of one input that call a function (mu = e^log_mu), computed in a loop of their own before pass 1 (and
    passed to pass 2 from there): every floating-point register is caller-saved (x86-64), so a call in the middle
    of pass 1's arithmetic spills what is live across it."""
    early_exp: tuple[str, ...] = ()
    """The early lets that are e^(an input): on contiguous rows a vectorised e^x computes them (nbk_exp_many)."""
    vector: bool = False
    """Whether pass 1 (on contiguous rows) is a loop of arithmetic alone: it then writes a class per element (done,
    sweep, rest) instead of appending to the lists, so that the compiler can run it on SIMD lanes, and a second loop
    turns the classes into the lists."""


@dataclass(frozen=True)
class PrintedKernel:
    spec: KernelSpec
    lets: tuple[tuple[str, str], ...]
    branches: tuple[PrintedBranch, ...]
    dense: DensePlan | None = None

    @property
    def name(self) -> str:
        return self.spec.name


def _cse(exprs: list[sp.Expr], prefix: str) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    symbols = sp.numbered_symbols(prefix)
    replacements, reduced = sp.cse(exprs, symbols=symbols, order="none")
    return replacements, reduced


def print_kernel(spec: KernelSpec, printer: Callable[[sp.Expr], str], local_suffix: str = "",
                 hoist: bool = False, two_pass: bool = False, prepared: dict[str, int] | None = None,
                 vector_safe: frozenset[str] = frozenset()) -> PrintedKernel:
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
    plan = _dense_plan(spec, printer, known, prepared or {}, vector_safe) if two_pass else None
    return PrintedKernel(spec, lets, tuple(branches), plan)


def _calls(e: sp.Basic, unconditional: bool = False) -> set[sp.Basic]:
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


def _dense_plan(spec: KernelSpec, printer: Callable[[sp.Expr], str], known: set[str],
                prepared: dict[str, int], vector_safe: frozenset[str] = frozenset()) -> DensePlan | None:
    """The two-pass plan of a kernel whose first regime is dense and pins the count (see :class:`DensePlan`)."""
    index = next((i for i, b in enumerate(spec.branches) if b.dense), None)
    if index is None or index != spec.edges or not spec.domain or spec.domain[0][1] != "count":
        return None
    dense, later = spec.branches[index], spec.branches[index + 1:]
    used_later = set().union(*(_calls(e) for b in later for e in (*b.outputs, *(v for _, v in b.lets))))
    # (A call the dense branch makes in only one piece of a Piecewise is not carried: pass 1 would then make it for
    # every element.)
    shared = _calls(sp.Add(*dense.outputs, evaluate=False), unconditional=True) & used_later
    # The outermost shared calls only (an argument of a carried call need not be carried too).
    outer = [c for c in shared if not any(c != other and other.has(c) for other in shared)]
    outer.sort(key=sp.default_sort_key)
    names = {call: sp.Symbol(f"c{k}") for k, call in enumerate(outer)}
    inputs = set(spec.inputs)
    one_input = {symbol.name: (symbol.name, next(iter(value.free_symbols)).name, printer(value), printer(value))
                 for symbol, value in spec.lets if len(value.free_symbols) == 1 and value.free_symbols <= inputs}
    preparations: dict[str, tuple[str, str, str, str]] = {}
    carries = []
    for call in outer:
        position = prepared.get(getattr(call, "c_name", ""))
        if position is not None and (call.args[position] in inputs or call.args[position].name in one_input):
            # The backend's nbk_<name>_prepared(args..., prep) reads a preparation of that argument (an input, or a
            # let of one input): once per gene where it can, else per element (the same value either way: results
            # do not depend on the layout).
            argument = call.args[position].name
            prep = f"{argument}_{call.c_name}_prep"
            fallback = f"nbk_{call.c_name}_prepare({argument})"
            if argument in one_input:  # a let of one input: once per gene from that input, else from the let
                _, source, let_value, _ = one_input[argument]
                value = f"nbk_{call.c_name}_prepare({let_value})"
            else:
                source, value = argument, fallback
            preparations[prep] = (prep, source, value, fallback)
            args = ", ".join(printer(a) for i, a in enumerate(call.args) if i != position)
            carries.append((names[call].name, f"nbk_{call.c_name}_prepared({args}, {prep})", printer(call)))
        else:
            carries.append((names[call].name, printer(call), None))

    def with_carries(branch: Branch) -> Branch:
        return Branch(branch.condition, tuple(sp.sympify(o).xreplace(names) for o in branch.outputs), branch.note,
                      tuple((n, sp.sympify(v).xreplace(names)) for n, v in branch.lets), branch.dense, branch.sweep)

    printed_dense = _print_branch(with_carries(dense), printer, False, known, {})
    rest = tuple(_print_branch(with_carries(b), printer, i == len(later), known, {})
                 for i, b in enumerate((dense, *later)))

    def reads(branches: tuple[Branch, ...], extra: tuple[sp.Basic, ...] = ()) -> set[sp.Basic]:
        exprs = [*extra, *(e for b in branches for e in (b.condition, *b.outputs, *(v for _, v in b.lets)))]
        return set().union(*(sp.sympify(e).free_symbols for e in exprs))

    rest_reads = reads((dense, *later))
    rest_lets = tuple(symbol.name for symbol, _ in spec.lets if symbol in rest_reads)
    dense_reads = reads((dense,), tuple(outer)) | rest_reads
    dense_lets = tuple(symbol.name for symbol, _ in spec.lets if symbol in dense_reads)
    per_gene = (*(entry for name, entry in one_input.items() if name in dense_lets), *preparations.values())
    sweep = None
    if later and later[0].sweep:
        if set(names.values()) & reads((with_carries(later[0]),)):
            raise ValueError(f"{spec.name}: the sweep branch reads a carry, which its loop does not pass")
        sweep = _print_branch(later[0], printer, False, known, {})
    let_values = {symbol.name: value for symbol, value in spec.lets}
    early = tuple(name for name in dense_lets if name in one_input and _calls(let_values[name]))
    # SIMD: pass 1 then reads inputs and early lets alone and calls nothing but inline arithmetic.
    in_loop = [let_values[name] for name in dense_lets if name not in early]
    calls = _calls(sp.Add(*dense.outputs, *(v for _, v in dense.lets), *in_loop, evaluate=False))
    vector = (not carries and all(entry[0] in early for entry in per_gene) and all(n in early for n in rest_lets)
              and all(getattr(call, "c_name", None) in vector_safe for call in calls))
    early_exp = tuple(name for name in early
                      if isinstance(let_values[name], sp.exp) and let_values[name].args[0] in inputs)
    return DensePlan(printed_dense, tuple(carries), rest, rest_lets, dense_lets, per_gene,
                     _bits(dense.condition, printer), _bits(later[0].condition, printer) if sweep else "", sweep, early,
                     early_exp, vector)


def _bits(condition: sp.Basic, printer: Callable[[sp.Expr], str]) -> str:
    """A condition with its top-level conjuncts joined by "&": evaluated whole, without a branch per term."""
    if isinstance(condition, sp.And):
        return " & ".join(f"({printer(term)})" for term in condition.args)
    return f"({printer(condition)})"


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


def _print_branch(branch: Branch, printer: Callable[[sp.Expr], str], last: bool, known: set[str],
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
