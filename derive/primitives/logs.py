"""The logarithm's residues: log1p(t) - t, the deviance (1+t) log1p(t) - t, their O(t^4) remainder, the atanh tail."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.numerics.ir import (
    F,
    Function,
    apply,
    function,
    let_symbols,
    libm,
    polynomial,
    regime,
)
from derive.primitives.base import _T, PrimitiveBase

if TYPE_CHECKING:
    from derive.series import Coefficients
from derive.primitives.elementary import Log1p


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
                        regimes=lambda t: [near, regime(t.eq(-1.0), 1.0, name="minus_one")], default_name="far")


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
