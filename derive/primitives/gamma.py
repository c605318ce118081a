"""log Gamma's pieces: Stirling's remainder, log n!, and the rising factorial's logarithm for small counts."""

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
    lookup,
    polynomial,
    regime,
    runtime,
    sum_below,
)
from derive.primitives.base import _N, _Z, PrimitiveBase

if TYPE_CHECKING:
    from derive.series import Coefficients


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
                                                  dense=True, name="table")], default_name="beyond")


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
            "The log of one product where it cannot overflow (a count below SMALL_COUNT, 1/bound < m < bound, z >= "
            "SMALL_FORM_MIN_THETA: at most 16 factors of size m (1 + 15/z) <= 151 m), n log(m) + LogRising1p beyond.",
            regimes=lambda n, m, z: [  # (the product first: the kernels call it where it holds everywhere)
                regime((n >= 1.0) & (n < float(coef.small_count)) & (m > 1.0 / coef.rising_power_bound)
                       & (m < coef.rising_power_bound) & (z >= coef.small_form_min_theta),
                       libm("log", runtime("rising_power", n, m, z)), dense=True, name="product"),
                regime(n.eq(0.0), 0.0, name="empty")],
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
                        regimes=lambda n: [regime(n < float(coef.table_size), lookup("lfact", n), dense=True,
                                                  name="table")], default_name="beyond")
