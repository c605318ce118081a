"""C's plan of a kernel's array loops: two passes, the dense branch first (derive/backends/common.py prints the
branches every backend shares; this is what only a backend that loops element by element needs).

The prepared forms it may print (``nbk_<c_name>_prepared``) are C's own: ``prepare`` lists them, and the primitives
that may run on SIMD lanes are found from their implementations (no regime, nothing but arithmetic and
polynomials).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import sympy as sp

from derive.backends.common import PrintedBranch, calls, print_branch
from derive.spec import Branch, KernelSpec

#: Primitive (c_name) -> the argument the two-pass loops may prepare once per gene (nbk_<c_name>_prepare, written in
#: the C template: 1/b for Log1pDiv, so that pass 1 multiplies instead of dividing).
PREPARED = {"log1pdiv": 1}


@cache
def vector_safe() -> frozenset[str]:
    """Primitives whose C implementation is inline arithmetic alone (no regime, no library call, no loop): a dense
    pass that calls nothing else may be compiled for SIMD."""
    from derive.numerics.ir import Call, Libm, Runtime, SumBelow, nodes
    from derive.primitives import PRIMITIVES, PrimitiveBase
    from derive.series import coefficients

    safe = set()
    for primitive in PRIMITIVES:
        fn = primitive.implementation(coefficients())
        if not fn.regimes and not any(isinstance(n, (Call, Libm, Runtime, SumBelow, PrimitiveBase)) for n in nodes(fn)):
            safe.add(primitive.c_name)
    return frozenset(safe)


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


def dense_plan(spec: KernelSpec, printer: Callable[[sp.Expr], str], known: set[str]) -> DensePlan | None:
    """The two-pass plan of a kernel whose first regime is dense and pins the count (see :class:`DensePlan`)."""
    prepared, safe = PREPARED, vector_safe()
    index = next((i for i, b in enumerate(spec.branches) if b.dense), None)
    if index is None or index != spec.edges or not spec.domain or spec.domain[0][1] != "count":
        return None
    dense, later = spec.branches[index], spec.branches[index + 1:]
    used_later = set().union(*(calls(e) for b in later for e in (*b.outputs, *(v for _, v in b.lets))))
    # (A call the dense branch makes in only one piece of a Piecewise is not carried: pass 1 would then make it for
    # every element.)
    shared = calls(sp.Add(*dense.outputs, evaluate=False), unconditional=True) & used_later
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

    printed_dense = print_branch(with_carries(dense), printer, False, known, {})
    rest = tuple(print_branch(with_carries(b), printer, i == len(later), known, {})
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
        sweep = print_branch(later[0], printer, False, known, {})
    let_values = {symbol.name: value for symbol, value in spec.lets}
    early = tuple(name for name in dense_lets if name in one_input and calls(let_values[name]))
    # SIMD: pass 1 then reads inputs and early lets alone and calls nothing but inline arithmetic.
    in_loop = [let_values[name] for name in dense_lets if name not in early]
    called = calls(sp.Add(*dense.outputs, *(v for _, v in dense.lets), *in_loop, evaluate=False))
    vector = (not carries and all(entry[0] in early for entry in per_gene) and all(n in early for n in rest_lets)
              and all(getattr(call, "c_name", None) in safe for call in called))
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


