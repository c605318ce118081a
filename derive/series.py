"""Coefficients and tables the native primitives need, derived by SymPy (nothing typed from a book).

Every number is computed exactly (rationals, or 40-digit evaluations) and rounded once to a double.
Truncation points are chosen from the derived terms themselves: a series stops where its next term is below
``TAIL`` at the smallest argument it is used for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

TAIL = sp.Rational(1, 10**18)
#: Smallest argument of the Stirling / digamma asymptotic series (below it: recurrence or log Gamma).
ASYMPTOTIC_FROM = 10
#: Counts below this use tables (log n!, Stirling remainder of n).
TABLE_SIZE = 128
#: |t| below this uses the atanh series for log1p(t) - t and (1+t)log1p(t) - t (above, the direct formula
#: loses at most a factor ~2/|t| = 8 to cancellation).
DEVIANCE_SERIES_BELOW = sp.Rational(1, 4)
#: log1p(t) - t + t^2/2 - t^3/3 cancels far more: its series is used up to here (all the atanh terms).
REMAINDER_SERIES_BELOW = sp.Rational(1, 2)
#: Counts below this use the short exact sum for log Gamma(x+theta) - log Gamma(theta) - x log theta.
SMALL_COUNT = 16

_v = sp.Symbol("v")


def _to_double(value: sp.Expr) -> float:
    return float(sp.Float(sp.N(value, 40), 40))


@dataclass(frozen=True)
class Coefficients:
    """All the numbers the backends' primitive templates read."""

    stirling: tuple[float, ...]
    """S(z) ~ sum_k stirling[k] / z^(2k+1)  (B_{2k+2} / ((2k+2)(2k+1)))."""
    digamma: tuple[float, ...]
    """psi(z) - log z + 1/(2z) ~ -sum_k digamma[k] / z^(2k+2)  (B_{2k+2}/(2k+2))."""
    atanh: tuple[float, ...]
    """atanh(v)/v = 1 + sum_j atanh[j-1] v^(2j): log1p(t) = 2 atanh(v) with v = t/(2+t), enough terms for
    |t| < REMAINDER_SERIES_BELOW."""
    atanh_terms_deviance: int
    """How many of them |t| < DEVIANCE_SERIES_BELOW needs."""
    lfact: tuple[float, ...]
    """log(n!) for n < TABLE_SIZE."""
    stirlerr_int: tuple[float, ...]
    """Stirling remainder S(n) for 1 <= n < TABLE_SIZE (index 0 unused, NaN)."""
    log_sqrt_2pi: float
    asymptotic_from: int = ASYMPTOTIC_FROM
    table_size: int = TABLE_SIZE
    deviance_series_below: float = float(DEVIANCE_SERIES_BELOW)
    remainder_series_below: float = float(REMAINDER_SERIES_BELOW)
    small_count: int = SMALL_COUNT


def _stirling_terms() -> list[sp.Rational]:
    """B_{2k}/(2k(2k-1)): Stirling's series for log Gamma, to the first term below TAIL at ASYMPTOTIC_FROM."""
    terms = []
    for k in range(1, 40):
        coefficient = sp.bernoulli(2 * k) / (2 * k * (2 * k - 1))
        terms.append(coefficient)
        if abs(coefficient) / sp.Integer(ASYMPTOTIC_FROM) ** (2 * k - 1) < TAIL:
            break
    return terms


def _digamma_terms() -> list[sp.Rational]:
    """B_{2k}/(2k): the asymptotic series of psi(z) - log z + 1/(2z), the derivative of Stirling's."""
    terms = []
    for k in range(1, 40):
        coefficient = sp.bernoulli(2 * k) / (2 * k)
        terms.append(coefficient)
        if abs(coefficient) / sp.Integer(ASYMPTOTIC_FROM) ** (2 * k) < TAIL:
            break
    return terms


def _atanh_terms(below: sp.Rational) -> list[sp.Rational]:
    """Coefficients of atanh(v)/v - 1 in powers of v^2, from SymPy's series, to the order |t| < below needs."""
    bound = below / (2 - below)  # |v| at the edge t = -below
    order = 4
    while True:
        poly = sp.series(sp.atanh(_v) / _v, _v, 0, order).removeO()
        coefficients = [poly.coeff(_v, 2 * j) for j in range(1, order // 2)]
        if coefficients and abs(coefficients[-1]) * bound ** (2 * len(coefficients)) < TAIL:
            return coefficients
        order += 2


@cache
def coefficients() -> Coefficients:
    log_sqrt_2pi = sp.log(2 * sp.pi) / 2
    lfact = [sp.log(sp.factorial(n)) for n in range(TABLE_SIZE)]
    stirlerr_int = [
        sp.log(sp.factorial(n - 1)) - (n - sp.Rational(1, 2)) * sp.log(n) + n - log_sqrt_2pi
        for n in range(1, TABLE_SIZE)
    ]
    return Coefficients(
        stirling=tuple(_to_double(c) for c in _stirling_terms()),
        digamma=tuple(_to_double(c) for c in _digamma_terms()),
        atanh=tuple(_to_double(c) for c in _atanh_terms(REMAINDER_SERIES_BELOW)),
        atanh_terms_deviance=len(_atanh_terms(DEVIANCE_SERIES_BELOW)),
        lfact=tuple(_to_double(v) for v in lfact),
        stirlerr_int=(float("nan"),) + tuple(_to_double(v) for v in stirlerr_int),
        log_sqrt_2pi=_to_double(log_sqrt_2pi),
    )
