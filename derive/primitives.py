"""Numerical primitives: functions a kernel calls instead of the cancelling formula they stand for.

Each primitive is a SymPy function with an exact ``definition`` in standard functions. The symbolic core sees
through it (:func:`unfold`), so a stable form written with primitives is *proved* equal to the plain derivation;
the backends call a native implementation (``derive/backends/<lang>/templates``) whose series coefficients are
derived here by SymPy (:mod:`derive.series`). Predicates (NaN, infinity, integrality) are Boolean functions so
that kernels can state the scipy conventions as ordinary Piecewise conditions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.logic.boolalg import BooleanFunction

from derive.numerics.ir import (
    F,
    Function,
    apply,
    call,
    function,
    let_symbols,
    libm,
    lookup,
    polynomial,
    regime,
    runtime,
    sum_below,
)

if TYPE_CHECKING:
    from derive.series import Coefficients


#: The parameter names implementations use (function() builds its parameters by these names).
_T, _Z, _R, _N = sp.symbols("t z r n")


class PrimitiveBase(sp.Function):
    """A function with an exact definition and a native, stable implementation in every backend.

    (The name ends in ``Base`` because SymPy's printers only dispatch on such intermediate classes:
    ``_print_PrimitiveBase`` handles every primitive.)
    """

    #: The name of the native implementation (``nbk_<c_name>`` in C, ``_<c_name>`` in numpy).
    c_name: str = ""
    #: Sums over k < n of their first argument n are empty at n = 0: SymPy folds them to 0 there (x = 0 branches).
    empty_at_zero_count: bool = False
    #: The implementation's error bound, in units of the precision's epsilon (2^-52 in float64) relative to the
    #: result (or to ``error_floor`` where the result is smaller), over ``domain``; tests/test_primitives.py checks it
    #: against mpmath in every backend.
    error_bound: float = 0.0
    error_floor: float = 0.0
    #: Where the bound holds, one entry per argument, each a tuple of ranges (kind, lo, hi) sampled alike: kind
    #: "uniform", "log" (log-uniform on [lo, hi], 0 < lo) or "count" (integers in [lo, hi], log-uniform).
    domain: tuple[tuple[tuple[str, float, float], ...], ...] = ()

    @classmethod
    def eval(cls, *args: sp.Expr):
        if cls.empty_at_zero_count and args[0] == 0:
            return sp.S.Zero
        return None

    @classmethod
    def definition(cls, *args: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function | None:
        """How every backend computes it (derive/numerics), from the coefficients of one precision; None while
        the implementation is still written in the templates."""
        return None

    def unfolded(self) -> sp.Expr:
        return self.definition(*self.args)

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.unfolded()._eval_evalf(prec)


class Exp(PrimitiveBase):
    """e^x: the kernels' own, arithmetic alone in the ordinary range, so that loops of it vectorise."""

    nargs = 1
    c_name = "exp"
    error_bound = 1.0
    domain = ((("uniform", -708.0, 709.7), ("uniform", -1.0, 1.0)),)

    @classmethod
    def definition(cls, x: sp.Expr) -> sp.Expr:
        return sp.exp(x)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("exp", "x", lambda x: libm("exp", x),
                        "The inline form where it applies, the library's exp beyond (overflow, underflow, inf, NaN).",
                        regimes=lambda x: [regime(abs(x) <= float(coef.exp_inline_up_to),
                                                  call(_exp_inline(coef), x), name="inline")],
                        default_name="library", helpers=(_exp_inline(coef),))


def _exp_inline(coef: Coefficients) -> Function:
    """e^x for |x| <= EXP_INLINE_UP_TO: x = k ln2 + r with |r| <= ln2/2 (k ln2_hi exact, so r is exact but for
    ln2_lo's rounding), e^r by its Taylor polynomial, then times 2^k, written into the exponent bits (a runtime
    function: k + 1023 in 2..2045, a normal power, and the product is normal too). k comes from the bits of
    x/ln2 + 1.5 * 2^52, which rounds x/ln2 to an integer."""
    shift = 1.5 * 2.0**52
    shifted, k, r = let_symbols("shifted", "k", "r")
    tail = coef.exp_tail[0] + polynomial(r, "exp_tail", 1, len(coef.exp_tail))
    return function("exp_inline", "x", lambda x, *_: (1.0 + (r + r * r * tail)) * runtime("pow2_of_shifted", shifted),
                    _exp_inline.__doc__ or "",
                    lets=lambda x: {"shifted": x * coef.inv_ln2 + shift, "k": shifted - shift,
                                    "r": (x - k * coef.ln2_hi) - k * coef.ln2_lo})


class Log1p(PrimitiveBase):
    """log(1 + r): above 1/4 log(s), s = 1 + r, less the rounding of s, c = (s - 1) - r, over s (both differences
    exact): within about an ulp, like log1p, where glibc's log costs ~3 ns and its log1p 8 to 11 (x86-64, glibc
    2.36). Libm's log1p below 1/4 (and at inf, NaN)."""

    nargs = 1
    c_name = "log1p"
    error_bound = 1.0
    domain = ((("uniform", -0.999, 1.0), ("log", 1e-300, 1e300)),)

    @classmethod
    def definition(cls, r: sp.Expr) -> sp.Expr:
        return sp.log(1 + r)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        (s,), r = let_symbols("s"), F(_R)
        above = regime((r >= 0.25) & (r < sp.oo), libm("log", s) - ((s - 1.0) - r) / s, {s: 1.0 + r},
                       name="above")
        return function("log1p", "r", lambda r: libm("log1p", r), "Log of s = 1 + r corrected above 1/4.",
                        regimes=lambda r: [above], default_name="library")


class Digamma(PrimitiveBase):
    """psi(z) for z > 0 (libm has none): psi(z) - log z by recurrence and series, plus log z."""

    nargs = 1
    c_name = "digamma"
    error_bound = 8.0
    error_floor = 1.0
    domain = ((("log", 1e-3, 10.0), ("log", 10.0, 1e300)),)

    @classmethod
    def definition(cls, z: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, z)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        psilog = _psilog(coef)
        return function("digamma", "z", lambda z: sp.nan, "NaN below 0 (and at NaN), -inf at 0.",
                        regimes=lambda z: [regime(z > 0.0, call(psilog, z) + libm("log", z), name="positive"),
                                           regime(z.eq(0.0), -sp.oo, name="zero")],
                        default_name="invalid", helpers=(psilog,))


def _psilog(coef: Coefficients) -> Function:
    """psi(z) - log(z) for z > 0: the asymptotic series from ASYMPTOTIC_FROM on; below, the recurrence
    psi(z) = psi(z + 1) - 1/z up to z + steps, steps = ceil(ASYMPTOTIC_FROM - z), and log(z + steps) - log(z) =
    log1p(steps/z), so that no psi - log of size log z cancels (scipy's would lose ~45 ulps near z = 10)."""
    w, steps, shifted = let_symbols("w", "steps", "shifted")
    digamma = polynomial(w, "digamma", 0, len(coef.digamma))
    series = regime(F(_Z) >= float(coef.asymptotic_from), -0.5 / F(_Z) - digamma, {w: 1.0 / (F(_Z) * F(_Z))},
                    name="series")
    return function(
        "psilog", "z",
        lambda z: -0.5 / shifted - digamma + sum_below(steps, lambda k, acc: -1.0 / (z + k))
        + libm("log1p", (shifted - z) / z),
        _psilog.__doc__ or "", regimes=lambda z: [series], default_name="recurrence",
        default_lets={steps: libm("ceil", float(coef.asymptotic_from) - F(_Z)), shifted: F(_Z) + steps,
                      w: 1.0 / (shifted * shifted)})


def _asymptotic_psi_tail_diff(coef: Coefficients) -> Function:
    """For z >= ASYMPTOTIC_FROM: the difference at n + z and z of psi(.) - log(.) + 1/(2 .), from its series
    sum_k c_k (v^k - u^k), u = 1/(n+z)^2, v = 1/z^2. Its first term is c_1 (v - u) = c_1 n (n + 2z) u v, formed without
    the difference of two nearly equal numbers (which would cost log2(z/n) bits: all of them relative to the result
    at z ~ 1e12); the others, O(1/z^2) relative to it, as a difference. One division, q = 1/((n+z) z): u = (z q)^2,
    v = ((n+z) q)^2, and the products are ordered so that nothing overflows at any finite z (q underflows first)."""
    q, u, v = let_symbols("q", "u", "v")
    rest = len(coef.digamma)
    return function(
        "asymptotic_psi_tail_diff", "n z",
        lambda n, z, *_: (2.0 * coef.digamma[0]) * ((n * q) * ((0.5 * n + z) * q))
        + (polynomial(v, "digamma", 1, rest) * v - polynomial(u, "digamma", 1, rest) * u),
        _asymptotic_psi_tail_diff.__doc__ or "",
        lets=lambda n, z: {"s": n + z, "q": 1.0 / (F(sp.Symbol("s")) * z), "zq": z * q, "sq": F(sp.Symbol("s")) * q,
                           "u": F(sp.Symbol("zq")) * F(sp.Symbol("zq")), "v": F(sp.Symbol("sq")) * F(sp.Symbol("sq"))})


class Log1pmx(PrimitiveBase):
    """log(1 + t) - t: the Poisson-limit and near-mode residue, O(t^2) for small t."""

    nargs = 1
    c_name = "log1pmx"
    error_bound = 8.0
    domain = ((("uniform", -0.999, 1.0), ("uniform", -0.3, 0.3), ("log", 1e-150, 1e300)),)

    @classmethod
    def definition(cls, t: sp.Expr) -> sp.Expr:
        return sp.log(1 + t) - t

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        (v,), t = let_symbols("v"), F(_T)
        near = regime(abs(t) < coef.deviance_series_below, 2.0 * v * apply(AtanhTail, v * v) - t * v,
                      {v: t / (2.0 + t)}, dense=True, name="near")
        return function("log1pmx", "t", lambda t: apply(Log1p, t) - t, "log1p(t) - t: the atanh series near 0.",
                        regimes=lambda t: [near], default_name="far")


class Dev1p(PrimitiveBase):
    """(1 + t) log(1 + t) - t >= 0: the deviance bd0(a, b) = b * Dev1p(a/b - 1), O(t^2) for small t."""

    nargs = 1
    c_name = "dev1p"
    error_bound = 12.0
    domain = ((("uniform", -0.999999, 1.0), ("uniform", -0.3, 0.3), ("log", 1e-150, 1e300)),)

    @classmethod
    def definition(cls, t: sp.Expr) -> sp.Expr:
        return (1 + t) * sp.log(1 + t) - t

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        (v,), t = let_symbols("v"), F(_T)
        near = regime(abs(t) < coef.deviance_series_below, t * v + 2.0 * (1.0 + t) * v * apply(AtanhTail, v * v),
                      {v: t / (2.0 + t)}, dense=True, name="near")
        return function("dev1p", "t", lambda t: (1.0 + t) * apply(Log1p, t) - t,
                        "(1+t) log1p(t) - t >= 0, its limit 1 at t = -1 (0 * -inf in the direct form).",
                        regimes=lambda t: [regime(t.eq(-1.0), 1.0, name="minus_one"), near], default_name="far")


class Stirlerr(PrimitiveBase):
    """log Gamma(z) minus its Stirling approximation: small for large z, computed without cancellation."""

    nargs = 1
    c_name = "stirlerr"
    error_bound = 16.0
    #: (below ASYMPTOTIC_FROM the direct form cancels: an absolute error of a few ulps of 1, up to ~1300 eps of the
    #: result near z = 10; its callers add it to terms of size 1 or more)
    error_floor = 1.0
    domain = ((("log", 1e-3, 10.0), ("log", 10.0, 1e300)),)

    @classmethod
    def definition(cls, z: sp.Expr) -> sp.Expr:
        return sp.loggamma(z) - (z - sp.Rational(1, 2)) * sp.log(z) + z - sp.log(2 * sp.pi) / 2

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        (w,) = let_symbols("w")
        series = (coef.stirling[0] + polynomial(w, "stirling", 1, len(coef.stirling))) / _Z
        return function(
            "stirlerr", "z",
            lambda z: libm("lgamma", z) - (z - 0.5) * libm("log", z) + z - coef.log_sqrt_2pi,
            "Stirling's series from ASYMPTOTIC_FROM on (every derived term), log Gamma minus its approximation below.",
            regimes=lambda z: [regime(z >= float(coef.asymptotic_from), series, {w: 1.0 / (z * z)}, name="series")],
            default_name="small")


class StirlerrCount(PrimitiveBase):
    """Stirlerr at a count n >= 1: a table below the asymptotic range's reach, the series beyond (no lgamma)."""

    nargs = 1
    c_name = "stirlerr_count"
    error_bound = 2.0
    domain = ((("count", 1, 2000), ("count", 1, 1e15)),)

    @classmethod
    def definition(cls, n: sp.Expr) -> sp.Expr:
        return Stirlerr.definition(n)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("stirlerr_count", "n", lambda n: apply(Stirlerr, n),
                        "The table below TABLE_SIZE (no lgamma), Stirlerr beyond.",
                        regimes=lambda n: [regime(n < float(coef.table_size), lookup("stirlerr_int", n),
                                                  name="table")], default_name="beyond")


class LogRising1p(PrimitiveBase):
    """log(Gamma(n + z)/(Gamma(z) z^n)) = sum_{k<n} log(1 + k/z) for a small integer n: no x*log(theta) left."""

    nargs = 2
    c_name = "lrising1p"
    error_bound = 4.0
    domain = ((("count", 0, 15),), (("log", 1e-3, 1e12),))
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr) -> sp.Expr:
        return sp.loggamma(n + z) - sp.loggamma(z) - n * sp.log(z)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        (inv,) = let_symbols("inv")
        small = regime(F(_N) < float(coef.small_count),
                       libm("log1p", sum_below(F(_N), lambda k, acc: (1.0 + acc) * (k * inv), lo=1)),
                       {inv: 1.0 / F(_Z)}, name="small")
        return function("lrising1p", "n z", lambda n, z: libm("lgamma", n + z) - libm("lgamma", z) - n * libm("log", z),
                        "A small count: log1p of the exact product's excess over 1, which grows by (1 + excess) k/z "
                        "per factor; log Gamma beyond.", regimes=lambda n, z: [small], default_name="large")


class LogPowRising(PrimitiveBase):
    """n log(m) + LogRising1p(n, z) = log(prod_{k<n} m (1 + k/z)): one logarithm for a small count.

    The product of n factors carries about 2n rounding errors, an absolute error of ~2n 2^-53 in the log: for
    n < 16 far below the log-PMF's own size, and it saves a logarithm per nonzero count.
    """

    nargs = 3
    c_name = "lpowrising"
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, m: sp.Expr, z: sp.Expr) -> sp.Expr:
        return n * sp.log(m) + LogRising1p.definition(n, z)


class Lfact(PrimitiveBase):
    """log(n!) for a count n: a table for small n, log Gamma(n + 1) beyond."""

    nargs = 1
    c_name = "lfact"
    error_bound = 2.0
    error_floor = 1.0
    domain = ((("count", 0, 2000), ("count", 0, 1e15)),)

    @classmethod
    def definition(cls, n: sp.Expr) -> sp.Expr:
        return sp.loggamma(n + 1)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("lfact", "n", lambda n: libm("lgamma", n + 1.0), "log(n!): the table, log Gamma beyond.",
                        regimes=lambda n: [regime(n < float(coef.table_size), lookup("lfact", n), name="table")],
                        default_name="beyond")


class PsilogDiff(PrimitiveBase):
    """psi(n + z) - psi(z) - log(1 + n/z): the digamma difference with its logarithm taken out.

    It is O(n/z^2) when z is large, where the plain digamma difference loses every digit (theta ~ 1e8).
    """

    nargs = 2
    c_name = "psilogdiff"
    error_bound = 64.0
    error_floor = 1e-300
    domain = ((("count", 0, 15), ("count", 16, 1e6)), (("log", 1e-3, 10.0), ("log", 10.0, 1e15)))
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, n + z) - sp.polygamma(0, z) - sp.log(1 + n / z)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        psilog, tail = _psilog(coef), _asymptotic_psi_tail_diff(coef)
        return function(
            "psilogdiff", "n z", lambda n, z: call(psilog, n + z) - call(psilog, z),
            "The asymptotic series' difference from ASYMPTOTIC_FROM on (no digamma of size log z subtracted), the "
            "difference of psi - log below.",
            regimes=lambda n, z: [regime(n.eq(0.0), 0.0, name="empty"),
                                  regime(z >= float(coef.asymptotic_from),
                                         n / (2.0 * z * (n + z)) + call(tail, n, z), name="asymptotic")],
            default_name="recurrence", helpers=(psilog, tail))


class RisingRecipDev(PrimitiveBase):
    """sum_{k<n} (m - k)/((z + k)(z + m)) = psi(n + z) - psi(z) - n/(z + m), for a small integer n.

    The digamma difference with n/(z + m) taken out term by term: at m -> 0 and n = 1 it is O(m), where
    psi(1 + z) - psi(z) = 1/z and n/(z + m) would cancel to nothing.
    """

    nargs = 3
    c_name = "rrecipdev"
    error_bound = 32.0
    error_floor = 1e-300
    domain = ((("count", 0, 15),), (("log", 1e-3, 1e12),), (("log", 1e-6, 1e6),))
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr, m: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, n + z) - sp.polygamma(0, z) - n / (z + m)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function(
            "rrecipdev", "n z m", lambda n, z, m, zm: sum_below(n, lambda k, acc: (m - k) / ((z + k) * zm)),
            "The exact short sum for a small count, the digamma difference beyond.", lets=lambda n, z, m: {"zm": z + m},
            regimes=lambda n, z, m, zm: [regime(n >= float(coef.small_count),
                                                apply(PsilogDiff, n, z) + apply(Log1p, n / z) - n / zm, name="large")],
            default_name="small")


class GradThetaLead(PrimitiveBase):
    """x/(2 theta (x+theta)) - s^2/2 + s^3/3, s = (x-mu)/(theta+mu): the leading part of the theta-gradient.

    Its terms cancel where the gradient changes sign (about one standard deviation from the mean); the
    implementation forms the numerator over (theta+mu)^3 with error-free (double-double) products. Beyond theta = 2^47
    that keeps too few digits near the zero (the numerator's terms are ~x theta^3, the result ~theta^2 x): there the
    numerator is expanded in powers of theta, each coefficient formed from x, mu and x - mu alone, and beyond 1e50
    (theta^5 would overflow) it is the series (x - (x-mu)^2)/(2 theta^2) + c3/theta^3.
    """

    nargs = 3
    c_name = "gradthetalead"

    @classmethod
    def definition(cls, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        s = (x - mu) / (theta + mu)
        return x / (2 * theta * (x + theta)) - s**2 / 2 + s**3 / 3


class Log1pmx4(PrimitiveBase):
    """log(1 + t) - t + t^2/2 - t^3/3 = O(t^4): log1p(t) - t once its leading terms are taken out."""

    nargs = 1
    c_name = "log1pmx4"
    error_bound = 12.0
    domain = ((("uniform", -0.9, 0.9), ("log", 1e-60, 0.5), ("log", 0.5, 1e6)),)

    @classmethod
    def definition(cls, t: sp.Expr) -> sp.Expr:
        return sp.log(1 + t) - t + t**2 / 2 - t**3 / 3

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        v, w, u, t2 = let_symbols("v", "w", "u", "t2")
        t = F(_T)
        # A - w/3 summed from its second term on (subtracting w/3 from the full sum would leave an ulp of w/3 in
        # a sum of size w^2/5).
        near = regime(abs(t) < coef.remainder_series_below,
                      -t2 * t2 * (12.0 + 9.0 * t + 2.0 * t2) / (6.0 * u * u * u)
                      + 2.0 * v * w * polynomial(w, "atanh", 1, len(coef.atanh)),
                      {v: t / (2.0 + t), w: v * v, u: 2.0 + t, t2: t * t}, name="near")
        return function("log1pmx4", "t",
                        lambda t: libm("log1p", t) - t + 0.5 * t * t - t * t * t / 3.0,
                        "-t^4 (12 + 9t + 2t^2)/(6 (2+t)^3) + 2 v (A - w/3) near 0, the direct form beyond.",
                        regimes=lambda t: [near], default_name="far")


class PsilogDiffR(PrimitiveBase):
    """PsilogDiff(n, z) - n/(2 z (n+z)): the O(n/z^3) remainder of the digamma difference."""

    nargs = 2
    c_name = "psilogdiffr"
    error_bound = 8.0
    error_floor = 1e-300
    #: (where the kernels use it: theta >= ASYMPTOTIC_THETA; below, the difference of PsilogDiff and its leading term
    #: cancels)
    domain = ((("count", 1, 15), ("count", 16, 1e6)), (("log", 10.0, 1e12),))
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, z: sp.Expr) -> sp.Expr:
        return sp.polygamma(0, n + z) - sp.polygamma(0, z) - sp.log(1 + n / z) - n / (2 * z * (n + z))

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        tail = _asymptotic_psi_tail_diff(coef)
        return function(
            "psilogdiffr", "n z", lambda n, z: apply(PsilogDiff, n, z) - n / (2.0 * z * (n + z)),
            "The series' remainder directly from ASYMPTOTIC_FROM on; PsilogDiff less its leading term below.",
            regimes=lambda n, z: [regime(n.eq(0.0), 0.0, name="empty"),
                                  regime(z >= float(coef.asymptotic_from), call(tail, n, z), name="asymptotic")],
            default_name="recurrence", helpers=(tail,))


class ScoreTheta(PrimitiveBase):
    """psi(x+theta) - psi(theta) + log(theta/(theta+mu)) + (mu-x)/(theta+mu) (the theta-score), given a + b = it.

    a and b are the two parts of a stable double-precision form of the score (e.g. RisingRecipDev and Log1pmx).
    Where the gradient changes sign they cancel, and each part's few-ulp error becomes a large relative one: there
    (|a + b| < REFINE_BELOW (|a| + |b|), derive/series.py) the implementation recomputes the same two parts in x87
    long double where the platform has it (2^-64), and where they cancel even further (or without such a long
    double) in double-double (about 2^-104); elsewhere it returns a + b. The definition does not depend on a and b:
    they are the value itself, computed in double precision, which the implementation only refines.
    """

    nargs = 5
    c_name = "scoretheta"

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr, *rest: sp.Expr):
        # With one part zero there is nothing to cancel: the other part is the value (at x = 0, a sum over k < x).
        if a == 0:
            return b
        if b == 0:
            return a
        return None

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        return (sp.polygamma(0, x + theta) - sp.polygamma(0, theta) + sp.log(theta / (theta + mu))
                + (mu - x) / (theta + mu))


class ScoreThetaAsymptotic(PrimitiveBase):
    """The theta-score (as ScoreTheta), given a + b + c = it: the three parts of its asymptotic split near its zero.

    a, b and c are GradThetaLead(x, mu, theta), Log1pmx4(s) and PsilogDiffR(x, theta), s = (x-mu)/(theta+mu), each
    accurate to a few ulps of itself. Where the gradient changes sign they cancel (|a + b + c| < REFINE_BELOW_ASYMPTOTIC
    (|a| + |b| + |c|), derive/series.py): there the implementation recomputes the score in double-double as
    x/(2 theta (x+theta)) + PsilogDiffR(x, theta) + Log1pmx(s), PsilogDiffR as (p - q) times a divided difference of
    the digamma series, p = 1/theta^2, q = 1/(x+theta)^2. No digamma of size log theta is subtracted, so only the final
    sum cancels and the precision does not depend on theta (up to theta ~ 1e154, where its products would overflow and
    the double sum is kept). Below theta = 16 (DD_ASYMPTOTIC_FROM), where that series does not reach double-double
    precision, it recomputes as ScoreTheta does. Elsewhere it returns a + b + c. As for ScoreTheta, the definition does
    not depend on the parts.
    """

    nargs = 6
    c_name = "scorethetaasym"

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, c: sp.Expr, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        return ScoreTheta.definition(a, b, x, mu, theta)


class GaussLogpdf(PrimitiveBase):
    """-log(2 pi sigma2)/2 - (x-mu)^2/(2 sigma2), given a + b = it (a the log term, b the quadratic one).

    Where the density is near 1 the two terms cancel, and log(2 pi sigma2) of an argument near 1 has an absolute
    error of an ulp: there (|a + b| < REFINE_BELOW (|a| + |b| + 1/2)) the implementation recomputes both terms in
    double-double, elsewhere it returns a + b.
    """

    nargs = 5
    c_name = "gausslogpdf"

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, x: sp.Expr, mu: sp.Expr, sigma2: sp.Expr) -> sp.Expr:
        return -sp.log(2 * sp.pi * sigma2) / 2 - (x - mu) ** 2 / (2 * sigma2)


class Log1pDiv(PrimitiveBase):
    """log(1 + a/b) for a, b > 0: log1p where a/b is a double, log(a) - log(b) where the quotient overflows."""

    nargs = 2
    c_name = "log1pdiv"
    error_bound = 2.0
    domain = ((("log", 1e-300, 1e300),), (("log", 1e-300, 1e300),))

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr:
        return sp.log(1 + a / b)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("log1pdiv", "a b", lambda a, b, q: apply(Log1p, q),
                        "log1p(a/b), log(a) - log(b) where the quotient overflows (an infinite a gives inf).",
                        lets=lambda a, b: {"q": a / b},
                        regimes=lambda a, b, q: [regime(IsInf(q.expr), libm("log", a) - libm("log", b),
                                                        name="overflow")], default_name="quotient")


class AtanhTail(PrimitiveBase):
    """atanh(sqrt(w))/sqrt(w) - 1 = w/3 + w^2/5 + ...: log1p(u) = 2 v (1 + AtanhTail(v^2)) with v = u/(2+u).

    Native code sums the series, truncated for w <= 1/49 (v <= 1/7, derive/series.py); callers stay there. A short
    polynomial instead of a log call, and its terms are what log1p(u) - u/(1+u) leaves, without cancellation.
    """

    nargs = 1
    c_name = "atanh_tail"
    error_bound = 2.0
    domain = ((("log", 1e-300, 1.0 / 49.0), ("uniform", 1e-300, 1.0 / 49.0)),)

    @classmethod
    def definition(cls, w: sp.Expr) -> sp.Expr:
        return sp.atanh(sp.sqrt(w)) / sp.sqrt(w) - 1

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("atanh_tail", "w", lambda w: polynomial(w, "atanh", 0, coef.atanh_terms_deviance),
                        "The series' first atanh_terms_deviance terms (enough for |t| < DEVIANCE_SERIES_BELOW).")


class Softplus(PrimitiveBase):
    """log(1 + e^z) without overflow: log-space NB at huge log means."""

    nargs = 1
    c_name = "softplus"
    error_bound = 2.0
    domain = ((("uniform", -700.0, 700.0), ("uniform", -5.0, 5.0)),)

    @classmethod
    def definition(cls, z: sp.Expr) -> sp.Expr:
        return sp.log(1 + sp.exp(z))

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function("softplus", "z", lambda z: libm("log1p", libm("exp", z)),
                        "z + log1p(e^-z) for z > 0, log1p(e^z) elsewhere: no e^z overflows.",
                        regimes=lambda z: [regime(z > 0.0, z + libm("log1p", libm("exp", -z)), name="positive")],
                        default_name="negative")


Primitive = PrimitiveBase

PRIMITIVES: tuple[type[Primitive], ...] = (
    Exp, Log1p, Digamma, Log1pmx, Dev1p, Stirlerr, StirlerrCount, LogRising1p, LogPowRising, Lfact, PsilogDiff,
    RisingRecipDev, GradThetaLead, Log1pmx4, PsilogDiffR, ScoreTheta, ScoreThetaAsymptotic, GaussLogpdf, Log1pDiv,
    AtanhTail, Softplus,
)


# --------------------------------------------------------------------------------------------------------
# Predicates for the conventions (NaN in, NaN out; non-integer counts have probability 0; ...)


class IsNaN(BooleanFunction):
    """True where the argument is NaN."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr):
        if arg.is_number and arg.is_finite is not None:
            return sp.false
        return None


class IsInf(BooleanFunction):
    """True where the argument is +infinity (theta = +inf is the Poisson limit, a valid input)."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr):
        if arg.is_number:
            return sp.true if arg == sp.oo else sp.false
        return None


class NotCount(BooleanFunction):
    """True where the argument is not a non-negative integer (negative, fractional or infinite)."""

    nargs = 1


PREDICATES = (IsNaN, IsInf, NotCount)


def unfold(expr: sp.Expr) -> sp.Expr:
    """Replace every primitive (and log1p/expm1) by its definition, for proofs and high-precision checks."""
    expr = sp.sympify(expr)
    expr = expr.replace(lambda e: isinstance(e, PrimitiveBase), lambda e: e.unfolded())
    return expr.replace(log1p, lambda a: sp.log(1 + a)).replace(expm1, lambda a: sp.exp(a) - 1)


__all__ = [
    "Primitive", "PrimitiveBase", "PRIMITIVES", "PREDICATES", "IsNaN", "IsInf", "NotCount", "unfold", "log1p", "expm1",
    *(primitive.__name__ for primitive in PRIMITIVES),
]
