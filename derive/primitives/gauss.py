"""The Gaussian log-density near 1, where its two terms cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.numerics.ir import (
    D,
    F,
    Function,
    IsFinite,
    LongDoubleStage,
    call,
    dd,
    function,
    libm,
    narrow,
    pair_constant,
    regime,
    unless,
    wide,
    wide_constant,
)
from derive.primitives.base import PrimitiveBase, finite_or

if TYPE_CHECKING:
    from derive.series import Coefficients


def _gausslogpdf_refined(coef: Coefficients) -> Function:
    """Both terms in long double (x87) where that suffices, else in double-double (a non-finite refinement keeps the
    double value)."""
    d_ld, ld, log_term, d, square, out = (sp.Symbol(n) for n in "d_ld ld log_term d square out".split())

    def stage(r: F, scale: F, x: F, mu: F, sigma2: F, *lets: F) -> list:
        value = F(ld)
        return [regime(LongDoubleStage() & (abs(value) >= coef.refine_below_gaussian * coef.ld_gain * scale)
                       & IsFinite(narrow(value).expr), narrow(value), name="long_double")]

    def last(r: F, scale: F, x: F, mu: F, sigma2: F, *lets: F) -> F:
        return finite_or(F(sp.Symbol("refined")), r)

    def dd_lets(x: F, mu: F, sigma2: F) -> dict:
        two_pi = pair_constant(coef.dd_2pi)
        return {log_term: dd("dd_log", two_pi * dd("dd_of", sigma2)), d: dd("dd_sum", x, -mu),
                square: D(d) * D(d) / dd("dd_of", 2.0 * sigma2),
                out: -(dd("dd_of", 0.5) * D(log_term) + D(square)), sp.Symbol("refined"): dd("dd_value", D(out))}

    def lets(r: F, scale: F, x: F, mu: F, sigma2: F) -> dict:
        return {"d_ld": wide(x) - mu,
                "ld": -0.5 * libm("log", wide_constant("ld_2pi") * sigma2) - F(d_ld) * F(d_ld) / (wide(2.0) * sigma2)}

    return function("gausslogpdf_refined", "r scale x mu sigma2", last, _gausslogpdf_refined.__doc__ or "",
                    lets=lets, regimes=stage, default_name="double_double", cold=True,
                    default_lets=dd_lets(*(F(sp.Symbol(n)) for n in ("x", "mu", "sigma2"))))


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
                regime(unless(abs(r) < coef.refine_below_gaussian * scale), r, dense=True, name="plain")],
            default_name="cancelling", helpers=(refined,))
