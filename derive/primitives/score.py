"""The theta-score near its zero: GradThetaLead (its leading part) and the refinements of its double parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.numerics.ir import (
    PAIR,
    WIDE,
    D,
    F,
    Function,
    IsFinite,
    LongDoubleStage,
    Regime,
    call,
    dd,
    function,
    libm,
    narrow,
    polynomial,
    regime,
    select,
    sum_below,
    unless,
    wide,
)
from derive.primitives.base import PrimitiveBase, finite_or

if TYPE_CHECKING:
    from derive.series import Coefficients


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

    return function("gradthetalead_expanded", "x mu theta", lambda *_: dd("dd_value", g),
                    _gradthetalead_expanded.__doc__ or "", lets=lets, cold=True)


def _scoretheta_refined(coef: Coefficients) -> Function:
    """The same two parts in x87 long double, which carry 2^-11 of the double errors: enough unless they cancel that
    much more; else in double-double (or where there is no x87 long double). Double-double needs only double
    arithmetic: the same on every platform."""
    in_ld, in_dd = _scoretheta_ld(coef), _scoretheta_dd(coef)
    ld = sp.Symbol("ld")

    def stage(r: F, scale: F, below: F, x: F, mu: F, theta: F, *lets: F) -> list:
        value = F(ld)
        return [regime(LongDoubleStage() & (abs(value) >= below * coef.ld_gain * scale) & IsFinite(narrow(value).expr),
                       narrow(value), name="long_double")]

    refined = F(sp.Symbol("refined"))
    return function("scoretheta_refined", "r scale below x mu theta",
                    lambda r, scale, below, x, mu, theta, *lets: finite_or(refined, r),
                    _scoretheta_refined.__doc__ or "",
                    lets=lambda r, scale, below, x, mu, theta: {"ld": call(in_ld, x, mu, theta)},
                    regimes=stage, default_name="double_double", cold=True, helpers=(in_ld, in_dd),
                    default_lets={refined: dd("dd_value", call(in_dd, *(F(sp.Symbol(n)) for n in ("x", "mu",
                                                                                                         "theta"))))})


def _refined_dd(coef: Coefficients) -> Function:
    """The score in double-double, from the split form for theta >= DD_ASYMPTOTIC_FROM (its precision does not depend
    on theta) and as ScoreTheta's below; a non-finite refinement keeps the double value."""
    split, general = _scoretheta_split_dd(coef), _scoretheta_dd(coef)
    return function("scorethetaasym_refined", "r x mu theta",
                    lambda r, x, mu, theta, refined: finite_or(refined, r), _refined_dd.__doc__ or "",
                    lets=lambda r, x, mu, theta: {"refined": dd("dd_value", select(
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


def _log1pmx_dd(s: D, plus: D, coef: Coefficients, name: str) -> Regime:
    """plus + Log1pmx(s) in double-double where |s| is small (the table and series; the callers' default regime
    takes the logarithm beyond)."""
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
                    regimes=lambda *_: [_log1pmx_dd(s, psi_part, coef, "near")], default_name="far",
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
                    regimes=lambda *_: [_log1pmx_dd(t, total, coef, "near")], default_name="far", result=PAIR,
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
                regime(unless(abs(r) < below * scale), r, dense=True, name="plain")],
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
                regime(unless(abs(r) < coef.refine_below_asymptotic * scale), r, dense=True, name="plain")],
            default_name="cancelling", helpers=(refined,))
