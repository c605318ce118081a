"""The digamma function and its differences, with their logarithms taken out so that nothing cancels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.numerics.ir import (
    F,
    Function,
    apply,
    call,
    function,
    let_symbols,
    libm,
    polynomial,
    regime,
    sum_below,
)
from derive.primitives.base import _Z, PrimitiveBase

if TYPE_CHECKING:
    from derive.series import Coefficients
from derive.primitives.elementary import Log1p


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
