"""A derivation is a chain of steps; each step is checked against the one before it.

A step does not just state an expression: it states an *operation* on the previous step ("take the log",
"differentiate w.r.t. mu", "substitute p = ...", "rewrite") and the expression it claims that operation gives.
The claim is verified when the chain is built: symbolically when SymPy can prove the difference is zero,
otherwise numerically (at >= 30 random points, 40 significant digits, with mpmath). A claim that fails raises
:class:`VerificationError`; nothing unproven is ever kept.
"""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from derive.primitives import unfold

NUMERIC_POINTS = 30
NUMERIC_DIGITS = 40
#: Working precision of the numeric check: twice the digits compared, so that a form which cancels (log(e^a + e^b)
#: at a >> b) still has NUMERIC_DIGITS correct digits to compare.
WORKING_DIGITS = 2 * NUMERIC_DIGITS
#: Relative tolerance of the numeric check: far above 40-digit rounding, far below any real discrepancy.
NUMERIC_RTOL = sp.Float("1e-30", NUMERIC_DIGITS)


class VerificationError(AssertionError):
    """A step's claimed expression does not equal what its operation gives."""


@dataclass(frozen=True)
class Step:
    """One link of a chain.

    ``expr`` is what the step shows; ``why`` is the justification in the document's words; ``method`` is how
    ``expr`` was established: ``definition`` (a starting point), ``computed`` (SymPy's operation produced it),
    ``symbolic`` (proved equal by simplification), ``numeric`` (checked at random points with mpmath) or
    ``asymptotic`` (a truncated expansion, checked against the exact form where it is used).
    """

    expr: sp.Expr
    why: str
    method: str
    detail: str = ""
    #: What relates this step to the previous one (None for a definition): ``expr == operation(previous)``.
    operation: Callable[[sp.Expr], sp.Expr] | None = field(default=None, compare=False, repr=False)
    #: Applied to ``expr`` before the comparison: a step that introduces a new symbol (p = theta/(theta+mu))
    #: is checked after substituting the symbol's definition back.
    unfold: Callable[[sp.Expr], sp.Expr] | None = field(default=None, compare=False, repr=False)
    #: For an asymptotic step: re-runs its check against the previous expression (raises if it fails).
    check: Callable[[sp.Expr], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Derivation:
    """A named, verified chain of steps; the last step is the result."""

    name: str
    title: str
    steps: tuple[Step, ...]
    lhs: sp.Expr | None = None
    section: str = ""
    numeric_extra: dict | None = field(default=None, compare=False, repr=False)

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1].expr

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(step.method for step in self.steps)

    def reverify(self) -> None:
        """Check every step again from scratch: ``step.expr == step.operation(previous.expr)``."""
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            if after.check is not None:
                after.check(before.expr)
            if after.operation is None:
                continue
            shown = after.unfold(after.expr) if after.unfold else after.expr
            try:
                prove_equal(shown, after.operation(before.expr), extra=self.numeric_extra)
            except VerificationError as error:
                raise VerificationError(f"{self.name}: step '{after.why}' no longer holds: {error}") from None


# --------------------------------------------------------------------------------------------------------
# Proving two expressions equal.

def _unloggamma(expr: sp.Expr) -> sp.Expr:
    """log Gamma(z) = log(Gamma(z)) for the positive arguments every derivation here uses."""
    return expr.replace(sp.loggamma, lambda z: sp.log(sp.gamma(z)))


_SIMPLIFIERS: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    lambda e: e,
    sp.expand,
    lambda e: sp.expand(sp.expand_log(_unloggamma(e), force=True)),
    lambda e: sp.simplify(sp.gammasimp(e)),
    lambda e: sp.simplify(sp.expand_log(sp.expand_func(e), force=True)),
    sp.simplify,
)


#: Seconds one simplification may take before the next (or the numeric check) is tried.
SIMPLIFY_SECONDS = 15


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float):
    """Abort a runaway simplification (SymPy can take minutes and gigabytes on a false claim)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _is_zero_symbolically(difference: sp.Expr) -> str | None:
    """Return the name of the simplification that reduced ``difference`` to 0, or None."""
    names = ("as is", "expand", "expand_log", "gammasimp", "expand_func", "simplify")
    for name, simplifier in zip(names, _SIMPLIFIERS, strict=True):
        try:
            with _time_limit(SIMPLIFY_SECONDS):
                if simplifier(difference) == 0:
                    return name
        except (TypeError, ValueError, NotImplementedError, RecursionError, _Timeout):
            continue
    return None


def _random_value(symbol: sp.Symbol, rng: random.Random) -> sp.Expr:
    """A random value honouring the symbol's assumptions (integers small, reals log-spread)."""
    if symbol.is_integer:
        low = 1 if symbol.is_positive else 0
        return sp.Integer(rng.randint(low, 12))
    magnitude = sp.Float(10 ** rng.uniform(-1.5, 1.5), WORKING_DIGITS)
    if symbol.is_positive or symbol.is_nonnegative:
        return magnitude
    return magnitude if rng.random() < 0.5 else -magnitude


def _evaluate(expr: sp.Expr, values: dict) -> sp.Expr:
    value = expr.subs(values)
    if value.has(sp.Sum, sp.Product):
        value = value.doit()
    return sp.N(value, WORKING_DIGITS)


def equal_numerically(a: sp.Expr, b: sp.Expr, seed: int = 0, extra: dict | None = None) -> bool:
    """Check ``a == b`` at NUMERIC_POINTS random points with NUMERIC_DIGITS digits.

    ``extra`` fixes values for symbols that random values would break (e.g. a summation bound G).
    Indexed objects are replaced by fresh positive symbols first.
    """
    rng = random.Random(seed)
    a, b = sp.sympify(a), sp.sympify(b)
    if extra:
        a, b = a.subs(extra).doit(), b.subs(extra).doit()
    indexed = sorted((a.atoms(sp.Indexed) | b.atoms(sp.Indexed)), key=sp.default_sort_key)
    if indexed:
        replacement = {ix: sp.Dummy(str(ix), **ix.base.label.assumptions0) for ix in indexed}
        a, b = a.xreplace(replacement), b.xreplace(replacement)
    free = sorted(a.free_symbols | b.free_symbols, key=sp.default_sort_key)
    with mpmath.workdps(WORKING_DIGITS + 10):
        for _ in range(NUMERIC_POINTS):
            values = {symbol: _random_value(symbol, rng) for symbol in free}
            va, vb = _evaluate(a, values), _evaluate(b, values)
            if not (va.is_number and vb.is_number):
                return False
            scale = max(abs(va), abs(vb), sp.Float(1e-300))
            if abs(va - vb) > NUMERIC_RTOL * scale:
                return False
    return True


def prove_equal(a: sp.Expr, b: sp.Expr, extra: dict | None = None) -> tuple[str, str]:
    """Establish ``a == b``; return (method, detail) or raise VerificationError.

    Numerical primitives (log1p, Dev1p, ...) are replaced by their definitions first: a stable form is proved
    equal to what it stands for, not trusted.
    """
    a, b = unfold(a), unfold(b)
    for side, other in ((a, b), (b, a)):
        if isinstance(side, sp.Piecewise):
            # A choice between forms: every form must equal the other side (whatever the condition picks).
            results = [prove_equal(piece.expr, other, extra) for piece in side.args]
            method = "numeric" if any(m == "numeric" for m, _ in results) else "symbolic"
            return method, "each piece: " + "; ".join(detail for _, detail in results)
    how = _is_zero_symbolically(a - b)
    if how is not None:
        return "symbolic", f"difference simplifies to 0 ({how})"
    if equal_numerically(a, b, extra=extra):
        return "numeric", f"equal at {NUMERIC_POINTS} random points to {NUMERIC_DIGITS} digits (mpmath)"
    raise VerificationError(f"not equal:\n  {a}\n  {b}")


# --------------------------------------------------------------------------------------------------------
# Building a chain.


@dataclass
class Chain:
    """Builder of a :class:`Derivation`; every method verifies the step it appends."""

    name: str
    title: str
    lhs: sp.Expr | None = None
    section: str = ""
    numeric_extra: dict | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def current(self) -> sp.Expr:
        if not self.steps:
            raise VerificationError(f"{self.name}: the chain has no step yet")
        return self.steps[-1].expr

    def define(self, expr: sp.Expr, why: str) -> Chain:
        """A starting point: a definition from the literature, taken as given."""
        self.steps.append(Step(sp.sympify(expr), why, "definition"))
        return self

    def apply(self, operation: Callable[[sp.Expr], sp.Expr], why: str, shown: sp.Expr | None = None,
              label: str = "") -> Chain:
        """Let SymPy perform ``operation`` on the current expression.

        Without ``shown`` the step is SymPy's output as it is (method ``computed``). With ``shown`` (a readable
        form), that form is proved equal to SymPy's output and the step records how.
        """
        try:
            produced = operation(self.current)
        except Exception as error:  # SymPy raises many types; the chain must report them by name.
            raise VerificationError(f"{self.name}: '{why}' failed in SymPy: {error!r}") from error
        if shown is None:
            self.steps.append(Step(produced, why, "computed", label, operation))
            return self
        return self._checked(sp.sympify(shown), produced, why, label, operation)

    def rewrite(self, expr: sp.Expr, why: str) -> Chain:
        """A new form of the current expression, proved equal to it."""
        return self._checked(sp.sympify(expr), self.current, why, "", _identity)

    def introduce(self, symbol: sp.Symbol, value: sp.Expr, expr: sp.Expr, why: str) -> Chain:
        """A form written with a new symbol ``symbol = value``; proved equal once ``value`` is put back."""
        return self.rewrite_where(expr, why, {symbol: value})

    def rewrite_where(self, expr: sp.Expr, why: str, where: dict,
                      operation: Callable[[sp.Expr], sp.Expr] | None = None) -> Chain:
        """A form that names sub-expressions (``where``: symbol -> value, e.g. a kernel's lets), proved equal to
        ``operation(current)`` (default: the current expression itself) once the values are put back."""
        operation = operation or _identity
        label = "with " + ", ".join(f"{symbol} = {value}" for symbol, value in where.items())
        return self._checked(sp.sympify(expr), operation(self.current), why, label, operation,
                             _substitution(where))

    def approximate(self, expr: sp.Expr, why: str, region: dict, rtol: float = 1e-100, digits: int = 500) -> Chain:
        """An asymptotic form, valid in ``region`` (symbol -> (low, high), sampled log-uniformly): checked at
        NUMERIC_POINTS random points there to relative difference ``rtol``, at ``digits`` digits (enough to
        resolve the cancellations the approximation removes). Recorded as method ``asymptotic``."""
        shown = sp.sympify(expr)
        name = self.name

        def check(previous: sp.Expr) -> None:
            approximation, reference = unfold(shown), unfold(previous)
            rng = random.Random(1)
            with mpmath.workdps(digits + 10):
                for _ in range(NUMERIC_POINTS):
                    values = {}
                    for symbol, (low, high) in region.items():
                        value = sp.Float(10 ** rng.uniform(mpmath.log10(low), mpmath.log10(high)), digits)
                        values[symbol] = sp.Integer(int(value)) if symbol.is_integer else value
                    a, b = sp.N(approximation.subs(values), digits), sp.N(reference.subs(values), digits)
                    if not abs(a - b) <= sp.Float(rtol, digits) * abs(b):
                        raise VerificationError(f"{name}: asymptotic step '{why}' is off at {values}: {a} vs {b}")

        check(self.current)
        bounds = ", ".join(f"{float(low):g} <= {symbol} <= {float(high):g}" for symbol, (low, high) in region.items())
        detail = (f"relative difference below {rtol:g} at {NUMERIC_POINTS} random points with {bounds} "
                  f"({digits} digits)")
        self.steps.append(Step(shown, why, "asymptotic", detail, check=check))
        return self

    def continue_from(self, derivation: Derivation) -> Chain:
        """Start with another derivation's (verified) steps, so that this chain tells the whole story."""
        self.steps.extend(derivation.steps)
        return self

    def _checked(self, shown: sp.Expr, reference: sp.Expr, why: str, label: str,
                 operation: Callable[[sp.Expr], sp.Expr],
                 unfold: Callable[[sp.Expr], sp.Expr] | None = None) -> Chain:
        try:
            method, detail = prove_equal(unfold(shown) if unfold else shown, reference, extra=self.numeric_extra)
        except VerificationError as error:
            raise VerificationError(f"{self.name}: step '{why}' does not hold: {error}") from None
        detail = f"{label}; {detail}" if label else detail
        self.steps.append(Step(shown, why, method, detail, operation, unfold))
        return self

    def build(self) -> Derivation:
        if not self.steps:
            raise VerificationError(f"{self.name}: empty derivation")
        return Derivation(self.name, self.title, tuple(self.steps), self.lhs, self.section, self.numeric_extra)


def _identity(expr: sp.Expr) -> sp.Expr:
    return expr


def _substitution(where: dict) -> Callable[[sp.Expr], sp.Expr]:
    def unfold(expr: sp.Expr) -> sp.Expr:
        return expr.subs(where)

    return unfold
