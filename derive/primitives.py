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
    PAIR,
    WIDE,
    D,
    F,
    Function,
    IsFinite,
    LongDoubleStage,
    Regime,
    apply,
    call,
    dd,
    function,
    let_symbols,
    libm,
    lookup,
    narrow,
    pair_constant,
    polynomial,
    regime,
    runtime,
    select,
    sum_below,
    unless,
    wide,
    wide_constant,
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
    #: The first ``parts`` arguments are the value's own double-precision parts (a refinement: ScoreTheta), which only
    #: the kernels can give consistently: those primitives are checked through the kernels (tests/test_near_zero.py).
    parts: int = 0
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
    error_bound = 4.0
    error_floor = 1.0
    #: (the kernels call it for counts below SMALL_COUNT only: beyond, LogRising1p's log Gamma difference cancels
    #: where z is far above n)
    domain = ((("count", 0, 15),), (("log", 1e-20, 1e20),), (("log", 1e-3, 1e12),))
    empty_at_zero_count = True

    @classmethod
    def definition(cls, n: sp.Expr, m: sp.Expr, z: sp.Expr) -> sp.Expr:
        return n * sp.log(m) + LogRising1p.definition(n, z)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        return function(
            "lpowrising", "n m z", lambda n, m, z: n * libm("log", m) + apply(LogRising1p, n, z),
            "The log of one product where it cannot overflow (a count below SMALL_COUNT, 1e-15 < m < 1e15, z >= "
            "SMALL_FORM_MIN_THETA: at most 16 factors of size m (1 + 15/z) <= 151 m), n log(m) + LogRising1p beyond.",
            regimes=lambda n, m, z: [
                regime(n.eq(0.0), 0.0, name="empty"),
                regime((n < float(coef.small_count)) & (m > 1e-15) & (m < 1e15) & (z >= 0.1),
                       libm("log", runtime("rising_power", n, m, z)), name="product")],
            default_name="log_sum")


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
    error_bound = 4.0
    error_floor = 1e-300
    domain = ((("count", 0, 1e6),), (("log", 1e-3, 1e8),), (("log", 10.0, 1e12), ("log", 1e12, 1e60)))

    @classmethod
    def definition(cls, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        s = (x - mu) / (theta + mu)
        return x / (2 * theta * (x + theta)) - s**2 / 2 + s**3 / 3

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        x, mu, theta = (F(sp.Symbol(n)) for n in ("x", "mu", "theta"))
        d = D(sp.Symbol("d"))
        d2 = D(sp.Symbol("d2"))
        s_, c3 = D(sp.Symbol("s")), F(sp.Symbol("c3"))
        # theta^5 would overflow: the series in 1/theta, (x - d^2)/(2 theta^2) + c3/theta^3 with
        # c3 = x (d^2 - x/2) - 2 d^3/3, exact to O((x + mu)/theta) relative also where x = d^2 exactly (the first term
        # alone would be 0 there).
        series = regime(theta > coef.lead_from_series,
                        (((s_.hi + (s_.lo - d2.lo)) + 2.0 * c3 / theta) / theta) / (2.0 * theta),
                        {d: dd("dd_sum", x, -mu), d2: dd("dd_mul_sum", d, d), s_: dd("dd_sum", x, -d2.hi),
                         c3: x * (d2.hi - 0.5 * x) - d2.hi * d.hi * (2.0 / 3.0)}, name="series")
        expanded = _gradthetalead_expanded()
        return function(
            "gradthetalead", "x mu theta", lambda x, mu, theta: _gradthetalead_direct(x, mu, theta),
            "x/(2 theta a) - s^2/2 + s^3/3 with a = x + theta, b = theta + mu, d = x - mu, s = d/b: the "
            "numerator 3 x b^3 - 3 d^2 theta a b + 2 d^3 theta a over 6 theta a b^3, in double-double. Its terms "
            "are ~3 x theta^3, and it keeps ~2^-104 of them: beyond LEAD_EXPANDED_FROM, where that is not enough "
            "near the gradient's zero (and at x = d^2 exactly, where the theta^3 terms vanish), the expanded form, "
            "and beyond LEAD_FROM_SERIES its series.",
            regimes=lambda x, mu, theta: [series, regime(theta > coef.lead_expanded_from, call(expanded, x, mu, theta),
                                                         name="expanded")],
            default_name="direct", helpers=(expanded,),
            default_lets=_gradthetalead_direct_lets(x, mu, theta))


def _gradthetalead_direct_lets(x: F, mu: F, theta: F) -> dict:
    d, a, b, d2, d3, b3, t, p1, p2, p3, s, e = (D(sp.Symbol(n)) for n in "d a b d2 d3 b3 t p1 p2 p3 s e".split())
    return {d: dd("dd_sum", x, -mu), a: dd("dd_sum", x, theta), b: dd("dd_sum", theta, mu),
            d2: dd("dd_mul_sum", d, d), d3: dd("dd_mul_sum", d2, d), b3: dd("dd_mul_sum", dd("dd_mul_sum", b, b), b),
            t: dd("dd_mul_sum", a, dd("dd_of", theta)),  # theta a
            p1: dd("dd_mul_sum", b3, dd("dd_of", 3.0 * x)),  # 3 x b^3 (3x exact for counts)
            p2: dd("dd_mul_sum", dd("dd_mul_sum", dd("dd_mul_sum", d2, t), b), dd("dd_of", 3.0)),  # 3 d^2 theta a b
            p3: dd("dd_scale", dd("dd_mul_sum", d3, t), 2.0),  # 2 d^3 theta a (doubling is exact)
            s: dd("dd_sum", p1.hi, -p2.hi), e: dd("dd_sum", s.hi, p3.hi)}


def _gradthetalead_direct(x: F, mu: F, theta: F) -> F:
    p1, p2, p3, s, e, t, b3 = (D(sp.Symbol(n)) for n in "p1 p2 p3 s e t b3".split())
    numerator = e.hi + (e.lo + s.lo + (p1.lo - p2.lo + p3.lo))
    return numerator / (6.0 * t.hi * b3.hi)


def _gradthetalead_expanded() -> Function:
    """GradThetaLead for LEAD_EXPANDED_FROM < theta <= LEAD_FROM_SERIES, its numerator with theta's powers taken out of
    every term (checked against the definition by SymPy in tests/test_near_zero.py): 3 (x - d^2) theta^3 + e2 theta^2
    + e1 theta + e0, e2 = 9 x mu - 3 d^2 (x + mu) + 2 d^3, e1 = x (9 mu^2 - 3 d^2 mu + 2 d^3), e0 = 3 x mu^3, by
    Horner's scheme in double-double. x - d^2 is formed before theta^3 multiplies it (exactly where d is a double),
    and each e_k from x, mu and d alone: nothing of size x theta^3 cancels, and the result keeps ~2^-104 of the terms
    that remain."""
    names = "d x_dd mu_dd t d2 d3 mu2 two_d3 three nine e3 e2 e1 e0 n1 n2 n3 b den g".split()
    d, x_dd, mu_dd, t, d2, d3, mu2, two_d3, three, nine, e3, e2, e1, e0, n1, n2, n3, b, den, g = (
        D(sp.Symbol(n)) for n in names)

    def lets(x: F, mu: F, theta: F) -> dict:
        values = [dd("dd_sum", x, -mu), dd("dd_of", x), dd("dd_of", mu), dd("dd_of", theta), d * d, d2 * d,
                  dd("dd_prod", mu, mu), dd("dd_scale", d3, 2.0), dd("dd_of", 3.0), dd("dd_of", 9.0),
                  three * (x_dd - d2),
                  nine * dd("dd_prod", x, mu) - three * (d2 * dd("dd_sum", x, mu)) + two_d3,
                  x_dd * (nine * mu2 - three * (d2 * mu_dd) + two_d3),
                  dd("dd_of", 3.0 * x) * mu2 * mu_dd,
                  e3 * t + e2, n1 * t + e1, n2 * t + e0, dd("dd_sum", theta, mu),
                  t * dd("dd_sum", x, theta) * (b * b) * b, n3 / (dd("dd_of", 6.0) * den)]
        return dict(zip(names, values, strict=True))

    return function("gradthetalead_expanded", "x mu theta", lambda *_: runtime("dd_value", g),
                    _gradthetalead_expanded.__doc__ or "", lets=lets, cold=True)


#: Long double carries 2^-11 of a double's rounding errors (64 against 53 significand bits).
_LD_GAIN = 2.0**-11


def _finite_or(value: F, fallback: F) -> F:
    return select(IsFinite(value.expr), value, fallback)


def _gausslogpdf_refined(coef: Coefficients) -> Function:
    """Both terms in long double (x87) where that suffices, else in double-double (a non-finite refinement keeps the
    double value)."""
    d_ld, ld, log_term, d, square, out = (sp.Symbol(n) for n in "d_ld ld log_term d square out".split())

    def stage(r: F, scale: F, x: F, mu: F, sigma2: F, *lets: F) -> list:
        value = F(ld)
        return [regime(LongDoubleStage() & (abs(value) >= coef.refine_below_gaussian * _LD_GAIN * scale)
                       & IsFinite(narrow(value).expr), narrow(value), name="long_double")]

    def last(r: F, scale: F, x: F, mu: F, sigma2: F, *lets: F) -> F:
        return _finite_or(F(sp.Symbol("refined")), r)

    def dd_lets(x: F, mu: F, sigma2: F) -> dict:
        two_pi = pair_constant(coef.dd_2pi)
        return {log_term: dd("dd_log", two_pi * dd("dd_of", sigma2)), d: dd("dd_sum", x, -mu),
                square: D(d) * D(d) / dd("dd_of", 2.0 * sigma2),
                out: -(dd("dd_of", 0.5) * D(log_term) + D(square)), sp.Symbol("refined"): runtime("dd_value", D(out))}

    def lets(r: F, scale: F, x: F, mu: F, sigma2: F) -> dict:
        return {"d_ld": wide(x) - mu,
                "ld": -0.5 * libm("log", wide_constant("ld_2pi") * sigma2) - F(d_ld) * F(d_ld) / (wide(2.0) * sigma2)}

    fn = function("gausslogpdf_refined", "r scale x mu sigma2", last, _gausslogpdf_refined.__doc__ or "",
                  lets=lets, regimes=stage, default_name="double_double", cold=True)
    return _with_default_lets(fn, dd_lets(*(F(sp.Symbol(n)) for n in ("x", "mu", "sigma2"))))


def _with_default_lets(fn: Function, lets: dict) -> Function:
    from dataclasses import replace

    return replace(fn, default_lets=tuple((F(k).expr if not isinstance(k, sp.Basic) else k, F(v).expr)
                                          for k, v in lets.items()))


def _scoretheta_refined(coef: Coefficients) -> Function:
    """The same two parts in x87 long double, which carry 2^-11 of the double errors: enough unless they cancel that
    much more; else in double-double (or where there is no x87 long double). Double-double needs only double
    arithmetic: the same on every platform."""
    in_ld, in_dd = _scoretheta_ld(coef), _scoretheta_dd(coef)
    ld = sp.Symbol("ld")

    def stage(r: F, scale: F, below: F, x: F, mu: F, theta: F, *lets: F) -> list:
        value = F(ld)
        return [regime(LongDoubleStage() & (abs(value) >= below * _LD_GAIN * scale) & IsFinite(narrow(value).expr),
                       narrow(value), name="long_double")]

    refined = F(sp.Symbol("refined"))
    return function("scoretheta_refined", "r scale below x mu theta",
                    lambda r, scale, below, x, mu, theta, *lets: _finite_or(refined, r),
                    _scoretheta_refined.__doc__ or "",
                    lets=lambda r, scale, below, x, mu, theta: {"ld": call(in_ld, x, mu, theta)},
                    regimes=stage, default_name="double_double", cold=True, helpers=(in_ld, in_dd),
                    default_lets={refined: runtime("dd_value", call(in_dd, *(F(sp.Symbol(n)) for n in ("x", "mu",
                                                                                                         "theta"))))})


def _refined_dd(coef: Coefficients) -> Function:
    """The score in double-double, from the split form for theta >= DD_ASYMPTOTIC_FROM (its precision does not depend
    on theta) and as ScoreTheta's below; a non-finite refinement keeps the double value."""
    split, general = _scoretheta_split_dd(coef), _scoretheta_dd(coef)
    return function("scorethetaasym_refined", "r x mu theta",
                    lambda r, x, mu, theta, refined: _finite_or(refined, r), _refined_dd.__doc__ or "",
                    lets=lambda r, x, mu, theta: {"refined": runtime("dd_value", select(
                        theta >= float(coef.dd_asymptotic_from), call(split, x, mu, theta),
                        call(general, x, mu, theta)))},
                    cold=True, helpers=(split, general))


def _ld_log1pmx(coef: Coefficients) -> Function:
    v, w = (F(sp.Symbol(n)) for n in "v w".split())
    t = F(sp.Symbol("t"))
    near = regime(abs(t) < coef.deviance_series_below,
                  v * (2.0 * polynomial(w, "ld_atanh", 0, len(coef.ld_atanh)) - t),
                  {v: t / (2.0 + t), w: v * v}, name="near")
    return function("ld_log1pmx", "t one_plus_t", lambda t, one_plus_t: libm("log", one_plus_t) - t,
                    "log1p(t) - t in long double given t and 1 + t: the atanh series near 0, the log beyond.",
                    regimes=lambda t, one_plus_t: [near], default_name="far", types={"t": WIDE, "one_plus_t": WIDE},
                    result=WIDE)


def _ld_psilog(coef: Coefficients) -> Function:
    """psi(z) - log(z) in long double: as the double _psilog, with the long double series."""
    w, steps, shifted = (F(sp.Symbol(n)) for n in "w steps shifted".split())
    z = F(sp.Symbol("z"))
    digamma = polynomial(w, "ld_digamma", 0, len(coef.ld_digamma))
    series = regime(z >= float(coef.asymptotic_from), -0.5 / z - digamma, {w: 1.0 / (z * z)}, name="series")
    return function(
        "ld_psilog", "z",
        lambda z: -0.5 / shifted - digamma + sum_below(steps, lambda k, acc: -1.0 / (z + k))
        + libm("log1p", (shifted - z) / z),
        _ld_psilog.__doc__ or "", regimes=lambda z: [series], default_name="recurrence",
        default_lets={steps: libm("ceil", float(coef.asymptotic_from) - z), shifted: z + steps,
                      w: 1.0 / (shifted * shifted)}, types={"z": WIDE}, result=WIDE)


def _scoretheta_ld(coef: Coefficients) -> Function:
    """The theta-score's two parts (as the double forms) in long double."""
    log1pmx, psilog = _ld_log1pmx(coef), _ld_psilog(coef)

    def small(x: F, mu: F, theta: F, b: F) -> Regime:
        total = sum_below(x, lambda k, acc: (wide(mu) - k) / ((wide(theta) + k) * b))
        return regime(x < float(coef.small_count), total + call(log1pmx, -wide(mu) / b, wide(theta) / b),
                      name="small")

    return function(
        "scoretheta_ld", "x mu theta",
        lambda x, mu, theta, b: call(psilog, wide(x) + theta) - call(psilog, wide(theta))
        + call(log1pmx, (wide(x) - mu) / b, (wide(x) + theta) / b),
        _scoretheta_ld.__doc__ or "", lets=lambda x, mu, theta: {"b": wide(theta) + mu},
        regimes=lambda x, mu, theta, b: [small(x, mu, theta, b)], default_name="large", result=WIDE,
        helpers=(log1pmx, psilog))


def _log1pmx_dd(s: D, plus: D, log_argument: D, coef: Coefficients, name: str) -> Regime:
    """plus + Log1pmx(s) in double-double near 0 (the table and series), plus + log(argument) - s beyond."""
    return regime(abs(s.hi) < coef.deviance_series_below, plus + dd("dd_log1pmx_series", s), name=name)


def _scoretheta_split_dd(coef: Coefficients) -> Function:
    """The theta-score for theta >= DD_ASYMPTOTIC_FROM in double-double, as x/(2 theta (x+theta)) + PsilogDiffR +
    Log1pmx(s), s = (x-mu)/(theta+mu): psi(x+theta) - psi(theta) - log1p(x/theta) is the first two (the digamma
    series' 1/(2z) terms, and the difference of its remaining terms sum_k c_k (theta^-2k - (x+theta)^-2k) =
    (p - q) dd_psir_divided(p, q), p - q = x (x + 2 theta) p q), and log1p(x/theta) - log1p(mu/theta) = log1p(s) with
    the rest. No digamma or logarithm of size log(theta) is formed, so nothing cancels but the final sum, at any theta
    (the products stay finite up to theta ~ 1e154; beyond, a NaN result makes the caller keep its double value)."""
    names = "a b theta_a lead p q spread remainder s psi_part".split()
    a, b, theta_a, lead, p, q, spread, remainder, s, psi_part = (D(sp.Symbol(n)) for n in names)

    def lets(x: F, mu: F, theta: F) -> dict:
        values = [dd("dd_sum", x, theta), dd("dd_sum", theta, mu), dd("dd_of", theta) * a,
                  dd("dd_of", x) / (theta_a + theta_a), dd("dd_recip", dd("dd_prod", theta, theta)),
                  dd("dd_recip", a * a), dd("dd_of", x) * dd("dd_sum", x, 2.0 * theta) * p,
                  spread * q * dd("dd_psir_divided", p, q), dd("dd_sum", x, -mu) / b,
                  dd("dd_add_plain", lead, remainder)]  # (both positive)
        return dict(zip(names, values, strict=True))

    return function("scoretheta_split_dd", "x mu theta", lambda *_: psi_part + dd("dd_log", a / b) - s,
                    _scoretheta_split_dd.__doc__ or "", lets=lets,
                    regimes=lambda *_: [_log1pmx_dd(s, psi_part, a / b, coef, "near")], default_name="far",
                    result=PAIR, cold=True)


def _scoretheta_small_dd(coef: Coefficients) -> Function:
    """RisingRecipDev + Log1pmx(-mu/(theta+mu)) in double-double, for small counts."""
    b, total, t = (D(sp.Symbol(n)) for n in "b total t".split())

    def lets(x: F, mu: F, theta: F) -> dict:
        term = lambda k, acc: dd("dd_sum", mu, -k) / (dd("dd_sum", theta, k) * b)  # noqa: E731
        return {"b": dd("dd_sum", theta, mu), "total": sum_below(x, term), "t": -(dd("dd_of", mu) / b)}

    return function("scoretheta_small_dd", "x mu theta",
                    lambda x, mu, theta, *_: total + dd("dd_log", dd("dd_of", theta) / b) - t,
                    _scoretheta_small_dd.__doc__ or "", lets=lets,
                    regimes=lambda *_: [_log1pmx_dd(t, total, b, coef, "near")], default_name="far", result=PAIR,
                    cold=True)


def _scoretheta_shifted_dd(coef: Coefficients) -> Function:
    """PsilogDiff + Log1pmx(s) in double-double for theta below DD_ASYMPTOTIC_FROM: psi(theta) taken to the series'
    range by psi(theta) = psi(theta + K) - sum_{k<K} 1/(theta + k), K = ceil(DD_ASYMPTOTIC_FROM - theta), and the
    logarithms of both parts merged into one."""
    names = "b steps shifted recurrence xt s total".split()
    b, steps, shifted, recurrence, xt, s, total = (sp.Symbol(n) for n in names)

    def lets(x: F, mu: F, theta: F) -> dict:
        k_term = lambda k, acc: dd("dd_recip", dd("dd_sum", theta, k))  # noqa: E731  (positive terms)
        return {"b": dd("dd_sum", theta, mu), "steps": libm("ceil", float(coef.dd_asymptotic_from) - theta),
                "shifted": dd("dd_sum", theta, F(steps)),
                "recurrence": sum_below(F(steps), k_term, add="dd_add_plain", bound=coef.dd_asymptotic_from + 1),
                "xt": dd("dd_sum", x, theta), "s": dd("dd_sum", x, -mu) / D(b),
                "total": D(recurrence) + (dd("dd_psilog_series", D(xt)) - dd("dd_psilog_series", D(shifted)))}

    def near(x: F, mu: F, theta: F, *_: F) -> Regime:
        # log((x+theta)/theta) - log((theta+K)/theta) - log((theta+mu)/theta) - s: psi -> psilog, and Log1pmx(s)
        value = D(total) + dd("dd_log1pmx_series", D(s)) - dd("dd_log", D(shifted) / dd("dd_of", theta))
        return regime(abs(D(s).hi) < coef.deviance_series_below, value, name="near")

    return function("scoretheta_shifted_dd", "x mu theta",
                    lambda x, mu, theta, *_: D(total) + dd("dd_log", D(xt) * dd("dd_of", theta) / (D(b) * D(shifted)))
                    - D(s), _scoretheta_shifted_dd.__doc__ or "", lets=lets, regimes=lambda *a: [near(*a)],
                    default_name="far", result=PAIR, cold=True)


def _scoretheta_dd(coef: Coefficients) -> Function:
    """The theta-score psi(x+theta) - psi(theta) + log(theta/(theta+mu)) + (mu-x)/(theta+mu) in double-double, from
    the same two parts as the double-precision forms: RisingRecipDev + Log1pmx for small counts, PsilogDiff +
    Log1pmx(s) beyond (for theta in the series' range in the split form, which does not subtract two digammas' series
    of size 1/(2 theta): that would lose log2(theta/x) bits)."""
    small, split, shifted = _scoretheta_small_dd(coef), _scoretheta_split_dd(coef), _scoretheta_shifted_dd(coef)
    return function(
        "scoretheta_dd", "x mu theta", lambda x, mu, theta: call(shifted, x, mu, theta), _scoretheta_dd.__doc__ or "",
        regimes=lambda x, mu, theta: [regime(x < float(coef.small_count), call(small, x, mu, theta), name="small"),
                                      regime(theta >= float(coef.dd_asymptotic_from), call(split, x, mu, theta),
                                             name="split")],
        default_name="shifted", result=PAIR, cold=True, helpers=(small, split, shifted))


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
    parts = 2

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

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        refined = _scoretheta_refined(coef)
        return function(
            "scoretheta", "a b x mu theta", lambda a, b, x, mu, theta, r, scale, below: call(
                refined, r, scale, below, x, mu, theta),
            "a + b, unless they cancel so far that the parts' own errors (up to ~12 and ~30 ulps of |a| + |b|, "
            "derive/series.py) could exceed the goal; then the refinement (also NaN and inf are returned as a + b).",
            lets=lambda a, b, x, mu, theta: {
                "r": a + b, "scale": abs(a) + abs(b),
                "below": select(x < float(coef.small_count), coef.refine_below_small_count, coef.refine_below)},
            regimes=lambda a, b, x, mu, theta, r, scale, below: [
                regime(unless(abs(r) < below * scale), r, name="plain")],
            default_name="cancelling", helpers=(refined,))


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
    parts = 3

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, c: sp.Expr, x: sp.Expr, mu: sp.Expr, theta: sp.Expr) -> sp.Expr:
        return ScoreTheta.definition(a, b, x, mu, theta)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        refined = _refined_dd(coef)
        return function(
            "scorethetaasym", "a b c x mu theta",
            lambda a, b, c, x, mu, theta, r, scale: call(refined, r, x, mu, theta),
            "a + b + c, unless they cancel so far that the parts' errors could exceed the goal (|a + b + c| < "
            "REFINE_BELOW_ASYMPTOTIC (|a| + |b| + |c|)); then the score in double-double. No long-double stage: a long "
            "double recomputation of these parts would need its own expanded forms, and the refinement is rare (~1e-4 "
            "of NB-distributed inputs) and costs ~0.5 us.",
            lets=lambda a, b, c, x, mu, theta: {"r": a + b + c, "scale": abs(a) + abs(b) + abs(c)},
            regimes=lambda a, b, c, x, mu, theta, r, scale: [
                regime(unless(abs(r) < coef.refine_below_asymptotic * scale), r, name="plain")],
            default_name="cancelling", helpers=(refined,))


class GaussLogpdf(PrimitiveBase):
    """-log(2 pi sigma2)/2 - (x-mu)^2/(2 sigma2), given a + b = it (a the log term, b the quadratic one).

    Where the density is near 1 the two terms cancel, and log(2 pi sigma2) of an argument near 1 has an absolute
    error of an ulp: there (|a + b| < REFINE_BELOW (|a| + |b| + 1/2)) the implementation recomputes both terms in
    double-double, elsewhere it returns a + b.
    """

    nargs = 5
    c_name = "gausslogpdf"
    parts = 2

    @classmethod
    def definition(cls, a: sp.Expr, b: sp.Expr, x: sp.Expr, mu: sp.Expr, sigma2: sp.Expr) -> sp.Expr:
        return -sp.log(2 * sp.pi * sigma2) / 2 - (x - mu) ** 2 / (2 * sigma2)

    @classmethod
    def implementation(cls, coef: Coefficients) -> Function:
        refined = _gausslogpdf_refined(coef)
        return function(
            "gausslogpdf", "a b x mu sigma2",
            lambda a, b, x, mu, sigma2, r, scale: call(refined, r, scale, x, mu, sigma2),
            "a + b, unless they cancel or the log is of an argument near 1; then the refinement.",
            lets=lambda a, b, x, mu, sigma2: {"r": a + b, "scale": abs(a) + abs(b) + 0.5},
            regimes=lambda a, b, x, mu, sigma2, r, scale: [
                regime(unless(abs(r) < coef.refine_below_gaussian * scale), r, name="plain")],
            default_name="cancelling", helpers=(refined,))


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
