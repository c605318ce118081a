"""The implementation language: ordered arithmetic, polynomials, table lookups, and functions made of regimes.

SymPy's ``Add`` and ``Mul`` sort and flatten their arguments (even with ``evaluate=False``), which is right for
algebra and wrong for floating point, where ``(a * b) * c`` and ``a * (b * c)`` round differently. Implementations are
therefore built from binary nodes that keep their operands in order (:class:`Plus`, :class:`Minus`, :class:`Times`,
:class:`Over`, :class:`Negate`), through the wrapper :class:`F` whose Python operators build them. Each node means
the Python operator it stands for, and every printer writes it with the fewest parentheses that keep
the order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sympy as sp
from sympy.logic.boolalg import BooleanFunction


class Name(sp.Symbol):
    """A name an implementation refers to that is not a value: a runtime or library function, a table (so that the
    variables an expression reads are its free symbols that are no Name)."""


class OrderedBase(sp.Function):
    """A binary (or unary) floating-point operation whose operands keep their order."""

    #: Python's operator precedence of the node (used by every printer to decide on parentheses).
    precedence: int = 0
    symbol: str = ""



class Plus(OrderedBase):
    nargs, precedence, symbol = 2, 1, "+"



class Minus(OrderedBase):
    nargs, precedence, symbol = 2, 1, "-"



class Times(OrderedBase):
    nargs, precedence, symbol = 2, 2, "*"



class Over(OrderedBase):
    nargs, precedence, symbol = 2, 2, "/"



class Negate(OrderedBase):
    nargs, precedence, symbol = 1, 3, "-"



def operand(printed: str, node: sp.Basic, parent: int, right: bool) -> str:
    """``printed`` (the text of ``node``) as an operand of an operation of precedence ``parent``: in parentheses
    where it binds more loosely, and on the right also where it binds as tightly (``a - (b - c)``, ``a * (b * c)``)."""
    own = node.precedence if isinstance(node, OrderedBase) else 4
    if own < parent or (right and own == parent):
        return f"({printed})"
    return printed


def infix(node: OrderedBase, print_arg: Callable[[sp.Basic], str]) -> str:
    """The text of an ordered node, its operands printed by ``print_arg`` (the backend's printer)."""
    if isinstance(node, Negate):
        return f"-{operand(print_arg(node.args[0]), node.args[0], node.precedence, True)}"
    left, right = node.args
    return (f"{operand(print_arg(left), left, node.precedence, False)} {node.symbol} "
            f"{operand(print_arg(right), right, node.precedence, True)}")


def _expr(value: F | sp.Basic | float | int) -> sp.Basic:
    if isinstance(value, F):
        return value.expr
    if isinstance(value, float):
        return sp.Float(value)
    return sp.sympify(value)


class F:
    """An expression under construction whose operators build ordered nodes: ``F(a) * b * c`` is ``(a * b) * c``.

    Comparisons build SymPy relationals (conditions of regimes); ``F.expr`` is the finished SymPy expression.
    """

    __slots__ = ("expr",)

    def __init__(self, value: F | sp.Basic | float | int):
        self.expr = _expr(value)

    def __add__(self, other): return F(Plus(self.expr, _expr(other)))
    def __radd__(self, other): return F(Plus(_expr(other), self.expr))
    def __sub__(self, other): return F(Minus(self.expr, _expr(other)))
    def __rsub__(self, other): return F(Minus(_expr(other), self.expr))
    def __mul__(self, other): return F(Times(self.expr, _expr(other)))
    def __rmul__(self, other): return F(Times(_expr(other), self.expr))
    def __truediv__(self, other): return F(Over(self.expr, _expr(other)))
    def __rtruediv__(self, other): return F(Over(_expr(other), self.expr))
    def __neg__(self): return F(Negate(self.expr))
    def __abs__(self): return F(sp.Abs(self.expr, evaluate=False))
    def __lt__(self, other): return sp.StrictLessThan(self.expr, _expr(other), evaluate=False)
    def __le__(self, other): return sp.LessThan(self.expr, _expr(other), evaluate=False)
    def __gt__(self, other): return sp.StrictGreaterThan(self.expr, _expr(other), evaluate=False)
    def __ge__(self, other): return sp.GreaterThan(self.expr, _expr(other), evaluate=False)

    def eq(self, other) -> sp.Basic:
        return sp.Eq(self.expr, _expr(other), evaluate=False)


def apply(function: Callable[..., sp.Basic], *args: F | sp.Basic | float) -> F:
    """``function`` (a SymPy function class, or a primitive) of ordered arguments."""
    return F(function(*(_expr(a) for a in args), evaluate=False))


class Libm(sp.Function):
    """A function the target's standard library provides (C's libm, numpy's ufuncs): the name says which.

    Kernels print SymPy's ``exp`` as the generated file's own e^x; an implementation that means the library's
    writes ``libm("exp", x)``."""

    @property
    def name(self) -> str:
        return str(self.args[0])


def libm(name: str, *args: F | sp.Basic | float) -> F:
    return F(Libm(Name(name), *(_expr(a) for a in args)))


class Polynomial(sp.Function):
    """sum_j c[start + j] var^(j+1) for j < stop - start, c the coefficient table ``table`` (derive/series.py).

    A node of its own so that each backend writes it its way: Estrin's scheme in C (a short chain of dependent
    operations), Horner's rule in place in numpy (fewest temporaries)."""

    @property
    def table(self) -> str:
        return str(self.args[1])

    @property
    def bounds(self) -> tuple[int, int]:
        return int(self.args[2]), int(self.args[3])


def polynomial(var: F | sp.Basic, table: str, start: int, stop: int) -> F:
    return F(Polynomial(_expr(var), Name(table), sp.Integer(start), sp.Integer(stop)))


class Lookup(sp.Function):
    """table[index] for an integer-valued index below the table's size (a count)."""

    @property
    def table(self) -> str:
        return str(self.args[0])


def lookup(table: str, index: F | sp.Basic) -> F:
    return F(Lookup(Name(table), _expr(index)))


#: Value types: a double (float in float32 kernels), a double-double pair (hi, lo), the x87 long double.
REAL, PAIR, WIDE = "real", "pair", "wide"
#: Coefficient tables held in long double (their values are not doubles).
WIDE_TABLES = frozenset({"ld_atanh", "ld_digamma"})


@dataclass(frozen=True)
class Regime:
    """``value`` where ``condition`` holds (and no earlier regime's), after ``lets`` (name, value) in order."""

    condition: sp.Basic
    value: sp.Basic
    lets: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()
    #: Numpy hint: the common case, cheap and finite almost everywhere, so it may run on every element first (the
    #: others are then overwritten) instead of gathering its elements.
    dense: bool = False
    name: str = ""


@dataclass(frozen=True)
class Function:
    """A generated function: parameters, lets computed for every element, regimes tried in order, a default."""

    name: str
    params: tuple[sp.Symbol, ...]
    default: sp.Basic
    regimes: tuple[Regime, ...] = ()
    lets: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()
    doc: str = ""
    #: What the default is called (numpy names its regimes' forms).
    default_name: str = "otherwise"
    #: Lets computed only where the default applies.
    default_lets: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()
    #: The other generated functions (not primitives) that this one calls (:func:`call`): printed before it.
    helpers: tuple[Function, ...] = ()
    #: Parameter types (default: all REAL) and the result's.
    param_types: tuple[str, ...] = ()
    result: str = REAL
    #: Rarely entered (a refinement): C keeps it out of line, so that inlining it does not cost the common path.
    cold: bool = False

    def type_of_param(self, index: int) -> str:
        return self.param_types[index] if self.param_types else REAL

    def types(self) -> dict[str, str]:
        """The type of every name the function binds: parameters, then lets in order (inferred from their values)."""
        env = {str(s): self.type_of_param(i) for i, s in enumerate(self.params)}
        for symbol, value in (*self.lets, *(let for r in self.regimes for let in r.lets), *self.default_lets):
            env[str(symbol)] = type_of(value, env)
        return env


def regime(condition: sp.Basic, value: F | sp.Basic, lets: dict | None = None, dense: bool = False,
           name: str = "") -> Regime:
    pairs = tuple((_expr(s), _expr(v)) for s, v in (lets or {}).items())
    return Regime(condition, _expr(value), pairs, dense, name)


def function(name: str, params: str, default: Callable[..., F], doc: str = "", *,
             regimes: Callable[..., list[Regime]] | None = None, lets: Callable[..., dict] | None = None,
             default_name: str = "otherwise",
             helpers: tuple[Function, ...] = (), default_lets: dict | None = None,
             types: dict[str, str] | None = None, result: str = REAL, cold: bool = False) -> Function:
    """A Function from builders that take the parameters (then the lets) as ordered values:
    ``function("square", "t", lambda t: t * t)``. Symbols carry no assumptions, so that no condition is folded."""
    symbols = sp.symbols(params, seq=True)
    ordered = [F(s) for s in symbols]
    let_items = tuple((sp.Symbol(n), _expr(v)) for n, v in (lets(*ordered) if lets else {}).items())
    let_values = [F(s) for s, _ in let_items]
    return Function(name, tuple(symbols), _expr(default(*ordered, *let_values)),
                    tuple(regimes(*ordered, *let_values)) if regimes else (), let_items, doc,
                    default_name,
                    tuple((_expr(k), _expr(v)) for k, v in (default_lets or {}).items()), helpers,
                    tuple((types or {}).get(str(s), REAL) for s in symbols), result, cold)


def let_symbols(*names: str) -> list[F]:
    """Ordered values standing for a regime's lets (declare them, then use them in the regime's value)."""
    return [F(sp.Symbol(n)) for n in names]


class Call(sp.Function):
    """A call of another generated function (a helper that is not a primitive), by name."""

    @property
    def callee(self) -> str:
        return str(self.args[0])


    @property
    def result(self) -> str:
        return str(self.args[1])

    @property
    def arguments(self) -> tuple[sp.Basic, ...]:
        return self.args[2:]


def call(fn: Function, *args: F | sp.Basic | float) -> F:
    return F(Call(Name(fn.name), Name(fn.result), *(_expr(a) for a in args)))


def nodes(fn: Function) -> Iterator[sp.Basic]:
    """Every node of every expression in ``fn``, preorder."""
    for expr in expressions(fn):
        yield from sp.preorder_traversal(expr)


def expressions(fn: Function) -> Iterator[sp.Basic]:
    """Every expression in ``fn``: lets, conditions, regime lets and values, the default."""
    for _, value in fn.lets:
        yield value
    for r in fn.regimes:
        yield r.condition
        for _, value in r.lets:
            yield value
        yield r.value
    for _, value in fn.default_lets:
        yield value
    yield fn.default


class Runtime(sp.Function):
    """A call of a runtime function (derive/backends/<name>/runtime/): code that is no expression (bit
    manipulation, error-free arithmetic, short loops), written once per backend under the same name."""

    @property
    def callee(self) -> str:
        return str(self.args[0])


    @property
    def arguments(self) -> tuple[sp.Basic, ...]:
        return self.args[1:]


@dataclass(frozen=True)
class RuntimeFunction:
    """A runtime function's signature: every backend's runtime defines it under this name (tests check)."""

    name: str
    params: tuple[str, ...]
    result: str
    doc: str
    #: A per-call hint a backend may pass along (numpy: ``columns``, a block's per-gene structure of an argument);
    #: a generated function calling it takes the hint as an optional parameter and hands it on.
    context: str = ""


#: The runtime functions implementations may call, by name (derive/numerics/runtime.py declares them).
RUNTIME: dict[str, RuntimeFunction] = {}


def declare(name: str, params: str, result: str, doc: str, context: str = "") -> None:
    """Declare a runtime function: ``params`` its parameter types separated by spaces (real, pair, wide)."""
    if name in RUNTIME:
        raise ValueError(f"runtime function {name!r} declared twice")
    RUNTIME[name] = RuntimeFunction(name, tuple(params.split()), result, doc, context)


def runtime(name: str, *args: F | sp.Basic | float) -> F:
    declared = RUNTIME.get(name)
    if declared is None:
        raise KeyError(f"no runtime function {name!r} (declare it in derive/numerics/runtime.py)")
    if len(args) != len(declared.params):
        raise TypeError(f"runtime {name} takes {len(declared.params)} arguments, got {len(args)}")
    return F(Runtime(Name(name), *(_expr(a) for a in args)))


class Hi(sp.Function):
    """The leading double of a pair."""


class Lo(sp.Function):
    """The trailing double of a pair."""


class ToWide(sp.Function):
    """A double widened to long double (exact)."""


class ToReal(sp.Function):
    """A long double rounded to double."""


class LongDoubleStage(BooleanFunction):
    """True where the platform's long double is x87 extended precision (a cheap first refinement stage)."""

    nargs = 0


def hi(value: F) -> F:
    return F(Hi(_expr(value)))


def lo(value: F) -> F:
    return F(Lo(_expr(value)))


def wide(value: F | sp.Basic | float) -> F:
    return F(ToWide(_expr(value)))


def narrow(value: F | sp.Basic) -> F:
    return F(ToReal(_expr(value)))


def type_of(expr: sp.Basic, env: dict[str, str]) -> str:
    """The value type of an implementation expression, given the types of the names it reads."""
    if isinstance(expr, sp.Symbol):
        return env.get(expr.name, REAL)
    if isinstance(expr, (Hi, Lo, ToReal, Lookup)):
        return REAL
    if isinstance(expr, ToWide):
        return WIDE
    if isinstance(expr, Runtime):
        return RUNTIME[expr.callee].result
    if isinstance(expr, Call):
        return expr.result
    if isinstance(expr, Polynomial):
        return WIDE if expr.table in WIDE_TABLES else type_of(expr.args[0], env)
    if isinstance(expr, SumBelow):
        return type_of(expr.args[2], env)
    if isinstance(expr, PairConstant):
        return PAIR
    if isinstance(expr, WideConstant):
        return WIDE
    if isinstance(expr, Select):
        return type_of(expr.args[1], env)
    if isinstance(expr, (OrderedBase, Libm, sp.Abs)):
        operands = expr.args[1:] if isinstance(expr, Libm) else expr.args
        kinds = {type_of(a, env) for a in operands}
        if PAIR in kinds:
            raise TypeError(f"plain arithmetic on a pair: {expr} (use D, derive/numerics/dd.py)")
        return WIDE if WIDE in kinds else REAL
    return REAL


class SumBelow(sp.Function):
    """acc = 0, then acc = acc + term for k = lo, lo + 1, ..., count - 1: a short sum over k < n whose term may read
    the running sum (the excess of a product over 1: acc + (1 + acc) k/z). The count is a small integer (below
    SMALL_COUNT: the regime that uses it says so), k an integer. C prints a loop, numpy a loop over k on prefixes of
    the count-sorted elements (its runtime's _accumulate): the same additions in the same order."""

    @property
    def parts(self) -> tuple[sp.Symbol, sp.Symbol, sp.Basic, int, sp.Basic]:
        acc, k, term, lo, count, _, _ = self.args
        return acc, k, term, int(lo), count

    @property
    def bound(self) -> int:
        """The counts are below this (numpy sorts them into this many prefixes)."""
        return int(self.args[6])

    @property
    def add(self) -> str:
        """The runtime function that accumulates a pair-valued term."""
        return str(self.args[5])

    def free(self) -> list[sp.Symbol]:
        """The variables the term reads besides the running sum and k, in a fixed order."""
        acc, k, term, _, _ = self.parts
        return sorted((s for s in term.free_symbols - {acc, k} if not isinstance(s, Name)), key=lambda s: s.name)


def sum_below(count: F | sp.Basic, term: Callable[[F, F], F], lo: int = 0, add: str = "dd_add",
              bound: int = 16) -> F:
    """``SumBelow`` from ``term(k, acc)``, a builder of the term from the ordered values k and the running sum. A
    pair-valued term is accumulated by the runtime's ``add`` (dd_add, or dd_add_plain where nothing cancels). The
    count is below ``bound`` wherever the sum is used (SMALL_COUNT for counts; the callers that sum more say so)."""
    acc, k = sp.Symbol("acc"), sp.Symbol("k")
    value = term(F(k), F(acc))
    node = SumBelow(acc, k, _expr(value), sp.Integer(lo), _expr(count), Name(add), sp.Integer(bound))
    return D(node) if isinstance(value, D) else F(node)


class D(F):
    """A double-double value under construction: its operators call the runtime's error-free arithmetic (dd_add,
    dd_sub, dd_mul, dd_div, dd_neg), so that a refinement reads like the formula it computes."""

    __slots__ = ()

    def __add__(self, other): return dd("dd_add", self, other)
    def __sub__(self, other): return dd("dd_sub", self, other)
    def __mul__(self, other): return dd("dd_mul", self, other)
    def __truediv__(self, other): return dd("dd_div", self, other)
    def __neg__(self): return dd("dd_neg", self)

    @property
    def hi(self) -> F:
        return hi(self)

    @property
    def lo(self) -> F:
        return lo(self)


def dd(name: str, *args: F | sp.Basic | float) -> D:
    """A double-double function's value as a D: the arithmetic (derive/numerics/dd.py) or an elementary function
    (derive/numerics/dd_functions.py, built per precision: the call names it, derive/numerics/collect.py prints it)."""
    from derive.numerics.dd import BY_NAME
    from derive.numerics.dd_functions import ELEMENTARY

    if name in BY_NAME:
        return D(call(BY_NAME[name], *args))
    if name in ELEMENTARY:
        return D(Call(Name(name), Name(PAIR), *(_expr(a) for a in args)))
    raise KeyError(f"no double-double function {name!r} (derive/numerics/dd.py, dd_functions.py)")


class PairConstant(sp.Function):
    """A pair (hi, lo) made of two doubles (a double-double constant from derive/series.py, or the two results of an
    error-free transformation)."""


def pair_constant(value: tuple[float, float]) -> D:
    return D(PairConstant(sp.Float(value[0]), sp.Float(value[1])))


def pair(hi_part: F | sp.Basic | float, lo_part: F | sp.Basic | float) -> D:
    return D(PairConstant(_expr(hi_part), _expr(lo_part)))


class WideConstant(sp.Function):
    """A long double constant of the generated file, by name (its value is no double)."""

    @property
    def constant(self) -> str:
        return str(self.args[0])


def wide_constant(name: str) -> F:
    return F(WideConstant(Name(name)))


class Select(sp.Function):
    """``a`` where ``condition`` holds, else ``b``, elementwise, both evaluated (C's ?:, numpy's where)."""


def select(condition: sp.Basic, a: F | sp.Basic | float, b: F | sp.Basic | float) -> F:
    kind = D if isinstance(a, D) else F
    return kind(Select(condition, _expr(a), _expr(b)))


class IsFinite(BooleanFunction):
    """True where the argument is finite (not NaN, not infinite)."""

    nargs = 1


def unless(condition: sp.Basic) -> sp.Basic:
    """The negation, kept as a negation: !(a < b) is true at NaN, where SymPy's a >= b would not be."""
    return sp.Not(condition, evaluate=False)
