"""Coefficients and tables the native primitives need, derived by SymPy (nothing typed from a book).

Every number is computed exactly (rationals, or 40-digit evaluations) and rounded once to the kernels' precision
(:mod:`derive.precision`). Truncation points are chosen from the derived terms themselves: a series stops where its
next term is below the precision's series tail at the smallest argument it is used for. ``coefficients(precision)``
gives them for float64 (the default) or float32; the module-level constants are float64's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy as sp

from derive.precision import FLOAT64, Precision, Stage
from derive.precision import precision as find_precision

#: float64's series tail (Precision.series_tail: u/64 rounded down to a power of ten, 1e-18).
TAIL = FLOAT64.series_tail
#: Smallest argument of the Stirling / digamma asymptotic series (below it: recurrence or log Gamma). Not a property
#: of the precision: the series' smallest term there, ~e^(-20 pi) ~ 5e-28, is below every precision's tail (the
#: term counts follow from the tail; the series functions raise if the tail were out of reach).
ASYMPTOTIC_FROM = 10
#: Counts below this use tables (log n!, Stirling remainder of n): typical counts, dense ones included, need no
#: series (8 KiB each in float64, in L1/L2 cache; beyond, one to three Stirling terms in either precision).
TABLE_SIZE = 1024
#: Digits of the tables' exact values (the Stirling remainder of n ~ 1/(12 n) is a difference of terms ~n log n:
#: ~8 digits cancel at n ~ 1000; 50 leaves more than double-double's 32 digits).
TABLE_DIGITS = 50
#: |t| below this uses the atanh series for log1p(t) - t and (1+t)log1p(t) - t (above, the direct formula
#: loses at most a factor ~2/|t| = 8 to cancellation).
DEVIANCE_SERIES_BELOW = sp.Rational(1, 4)
#: At x = 0 the fused kernel writes log1p(mu/theta) = 2 atanh(v), v = mu/(2 theta + mu), as a series for
#: mu/theta <= this (no log call; the theta-gradient's cancelling difference is then formed without cancellation).
#: There v <= 1/7, the bound |t| < DEVIANCE_SERIES_BELOW gives (|v| = 1/7 at t = -1/4): the same terms suffice.
ZERO_SERIES_BELOW = sp.Rational(1, 3)
#: log1p(t) - t + t^2/2 - t^3/3 cancels far more: its series is used up to here (all the atanh terms).
REMAINDER_SERIES_BELOW = sp.Rational(1, 2)
#: Counts below this use the short exact sum for log Gamma(x+theta) - log Gamma(theta) - x log theta.
SMALL_COUNT = 16
#: Below this theta the small-count form's exact sum is replaced by the deviance form (its terms grow as
#: (x-1) log(1/theta) and would cancel against x log(mu/theta)); LogPowRising's product relies on it (each of its
#: factors m (1 + k/z) is then at most 151 m).
SMALL_FORM_MIN_THETA = sp.Rational(1, 10)
#: Errors, in ulps of |a| + |b| (+ 1/2 for GaussLogpdf's log of an argument near 1), of the parts a + b that the
#: refinements below protect. They are properties of the algorithms, not of the precision (its series tails are far
#: below an ulp): the theta-score's parts beyond the small counts carry up to ~30 ulps (the digamma recurrence and
#: log(q) - s cancel internally); its small-count parts (an exact short sum and Log1pmx) at most ~12; its asymptotic
#: split near its zero (ScoreThetaAsymptotic: GradThetaLead, Log1pmx4 and PsilogDiffR, measured against mpmath
#: within ~3, ~10 with the rounding of s, and ~5 ulps of themselves) ~6 in their double sum; the Gaussian
#: log-density's two terms at most ~1.5.
PART_ERROR_ULPS = {"score": 30, "score_small_count": 12, "score_asymptotic": 6, "gaussian": 1.5}
#: A sum a + b of two working-precision parts is recomputed in a wider stage when |a + b| is below this fraction of
#: |a| + |b|: beyond a cancellation of ~30 the score's ~30-ulp parts could miss the gradient goal (1e-13 in float64);
#: Precision.refine_below gives 1/16, a factor ~2 inside it (the same for every precision: goals and errors in ulps).
REFINE_BELOW = FLOAT64.refine_below(PART_ERROR_ULPS["score"], "gradient")
#: The same for the theta-score's small-count parts: 1/32.
REFINE_BELOW_SMALL_COUNT = FLOAT64.refine_below(PART_ERROR_ULPS["score_small_count"], "gradient")
#: The same for the asymptotic split's three parts (|a + b + c| against |a| + |b| + |c|): the goal holds down to a
#: cancellation of 1e-13/(6 * 2^-53) ~ 1/150; 1/64 allows ~14 ulps, a factor ~2 over what was measured.
REFINE_BELOW_ASYMPTOTIC = FLOAT64.refine_below(PART_ERROR_ULPS["score_asymptotic"], "gradient")
#: The same for the Gaussian log-density's two terms, against the value goal (1e-14): 1/32.
REFINE_BELOW_GAUSSIAN = FLOAT64.refine_below(PART_ERROR_ULPS["gaussian"], "value")
_LONG_DOUBLE, _DOUBLE_DOUBLE = FLOAT64.stages
#: Long-double (x87, 64-bit mantissa) series: terms kept down to this size relative to the leading one (2^-70).
TAIL_LD = _LONG_DOUBLE.tail
#: Decimal digits of the long-double coefficients (a 64-bit mantissa needs 21 for a correctly rounded read-back): 25.
LD_DIGITS = _LONG_DOUBLE.digits
#: Double-double (~2^-104) series: terms are kept down to this size relative to the leading one (2^-110).
TAIL_DD = FLOAT64.tail_dd
#: Series terms below this fraction of the leading one are summed in double precision (error ~2^-109): 2^-56.
DD_EXACT_ABOVE = FLOAT64.dd_exact_above
#: From this theta on, GradThetaLead's double-double numerator (terms of size x theta^3) keeps too few digits near
#: the gradient's zero: the kernels use the numerator expanded in powers of theta (2^47).
LEAD_EXPANDED_FROM = int(FLOAT64.lead_expanded_from)
#: From this theta on, GradThetaLead is its series in 1/theta (theta^5 would overflow), exact to O((x + mu)/theta):
#: the kernels use it only where x + mu < NEGLIGIBLE_AGAINST_THETA theta (1e50).
LEAD_FROM_SERIES = FLOAT64.lead_from_series
#: x + mu below this fraction of theta: the asymptotic leading terms in 1/theta are exact in double precision (1e-20).
NEGLIGIBLE_AGAINST_THETA = FLOAT64.negligible_against_theta
#: Double-double logarithms reduce their argument m in [1/sqrt 2, sqrt 2) to m/c, c = 1 + i/DD_LOG_STEPS the nearest
#: table point, so that the atanh series needs few terms (a property of the double-double algorithm: float32 has no
#: double-word stage).
DD_LOG_STEPS = 64
#: Smallest argument of the double-double digamma series (below it: the recurrence psi(z) = psi(z+1) - 1/z).
DD_ASYMPTOTIC_FROM = 16
#: The kernels' own e^x (inline arithmetic, so that loops of it vectorise) covers |x| <= this; libm's exp beyond.
#: e^-708 and 2^1022 * sqrt 2 are normal doubles: the result is the polynomial times an exact power of 2.
EXP_INLINE_UP_TO = FLOAT64.exp_inline_up_to
#: Bits of ln 2's leading part: k * ln2_hi is exact for the |k| <= 2^(53 - EXP_LN2_HI_BITS) the range needs (42).
EXP_LN2_HI_BITS = FLOAT64.exp_ln2_hi_bits

_v = sp.Symbol("v")


def _to_double(value: sp.Expr) -> float:
    """value rounded to the nearest double (float64's Precision.round)."""
    return FLOAT64.round(value)


@dataclass(frozen=True)
class Coefficients:
    """All the numbers the backends' primitive templates read, for one precision (``precision``).

    Floats are exact values of that precision (Python floats holding float32 numbers for float32). The ``ld_*`` and
    ``dd_*`` fields are the wider stages' (float64: x87 long double and double-double); a precision whose
    refinements are another's kernels (``wider``: float32's are float64's, see :mod:`derive.precision`) has none of
    its own: they are empty (counts 0), and ``coefficients(precision(wider))`` holds them. Its ``tail_dd``,
    ``dd_exact_above`` and ``lead_*`` thresholds are then those of its float64 stage (Precision.refinement), for
    parts it forms in float64 itself (GradThetaLead's numerator: products of two float32 are exact there).
    """

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
    dd_atanh: tuple[tuple[float, float], ...] = ()
    """1/(2j+1), j >= 1, as double-double (hi, lo): log((1+v)/(1-v)) = 2 v (1 + sum_j dd_atanh[j-1] v^(2j)),
    enough terms for v = (m - c)/(m + c) with m in [1/sqrt 2, sqrt 2) and c its nearest table point, to TAIL_DD of the
    lead the sum is added to (1 in log, down to |t|/2 in log1p(t) - t)."""
    dd_log_table: tuple[tuple[float, float, float, float], ...] = ()
    """For i = dd_log_first, dd_log_first + 1, ...: (log c, log1pmx(c - 1)) as double-double, c = 1 + i/DD_LOG_STEPS."""
    dd_log_first: int = 0
    dd_log_steps: int = DD_LOG_STEPS
    dd_digamma: tuple[tuple[float, float], ...] = ()
    """B_{2k}/(2k) as double-double: psi(z) - log z + 1/(2z) ~ -sum_k dd_digamma[k-1] / z^(2k) for
    z >= DD_ASYMPTOTIC_FROM."""
    ld_atanh: tuple[str, ...] = ()
    """1/(2j+1), j >= 1, as decimal text for long double: the atanh tail of Log1pmx for |t| < DEVIANCE_SERIES_BELOW
    to TAIL_LD."""
    ld_digamma: tuple[str, ...] = ()
    """B_{2k}/(2k) as decimal text for long double: psi(z) - log z + 1/(2z) ~ -sum_k ld_digamma[k-1] / z^(2k) for
    z >= ASYMPTOTIC_FROM, to TAIL_LD."""
    ld_digits: int = LD_DIGITS
    ld_2pi: str = ""
    dd_atanh_exact: int = 0
    """How many leading dd_atanh terms need double-double arithmetic (the others are below 2^-56 of the sum)."""
    dd_digamma_exact: int = 0
    """The same for dd_digamma (relative to the leading 1/(2z) at DD_ASYMPTOTIC_FROM)."""
    dd_psir: tuple[tuple[float, float], ...] = ()
    """B_{2k}/(2k) as double-double for the digamma remainder's divided difference
    sum_k dd_psir[k-1] (p^k - q^k)/(p - q), p = 1/theta^2 > q = 1/(x+theta)^2, theta >= DD_ASYMPTOTIC_FROM: enough terms
    that the k-th bound k |c_k| p^(k-1) is below TAIL_DD of the first."""
    dd_psir_exact: int = 0
    """How many leading dd_psir terms need double-double arithmetic (the others are below 2^-56 of the first)."""
    dd_ln2: tuple[float, float] = (0.0, 0.0)
    dd_2pi: tuple[float, float] = (0.0, 0.0)
    exp_tail: tuple[float, ...] = ()
    """1/n! for n >= 2: e^r = 1 + r + r^2 sum_j exp_tail[j] r^j, enough terms for |r| <= ln2/2 (to TAIL)."""
    inv_ln2: float = 0.0
    ln2_hi: float = 0.0
    """ln 2 to EXP_LN2_HI_BITS bits (k * ln2_hi exact); ln2_lo = the double nearest to ln 2 - ln2_hi."""
    ln2_lo: float = 0.0
    refine_below: float = float(REFINE_BELOW)
    refine_below_small_count: float = float(REFINE_BELOW_SMALL_COUNT)
    refine_below_gaussian: float = float(REFINE_BELOW_GAUSSIAN)
    tail_dd: float = float(TAIL_DD)
    dd_exact_above: float = float(DD_EXACT_ABOVE)
    lead_expanded_from: float = float(LEAD_EXPANDED_FROM)
    refine_below_asymptotic: float = float(REFINE_BELOW_ASYMPTOTIC)
    dd_asymptotic_from: int = DD_ASYMPTOTIC_FROM
    asymptotic_from: int = ASYMPTOTIC_FROM
    exp_inline_up_to: int = EXP_INLINE_UP_TO
    lead_from_series: float = float(LEAD_FROM_SERIES)
    table_size: int = TABLE_SIZE
    deviance_series_below: float = float(DEVIANCE_SERIES_BELOW)
    remainder_series_below: float = float(REMAINDER_SERIES_BELOW)
    small_count: int = SMALL_COUNT
    small_form_min_theta: float = float(SMALL_FORM_MIN_THETA)
    rising_power_bound: float = 1e15
    """LogPowRising forms its product for 1/bound < m < bound: 16 factors of at most 151 m stay normal and finite
    (10^floor(log10(largest finite)/20): 1e15 in float64, a margin of ~10^4 per factor)."""
    precision: str = FLOAT64.name
    wider: str = FLOAT64.wider
    """The precision whose kernels perform this one's refinements ("" where the ld_* and dd_* stages do)."""
    exp_ln2_hi_bits: int = EXP_LN2_HI_BITS
    exp_shift: float = float(FLOAT64.exp_round_shift)
    """1.5 * 2^(p-1): x/ln2 + exp_shift has k = round(x/ln2) in its low bits (the inline e^x)."""
    exponent_bias: int = FLOAT64.exponent_bias
    fraction_bits: int = FLOAT64.fraction_bits
    """2^k's bits are (k + exponent_bias) << fraction_bits."""
    negligible_against_theta: float = float(NEGLIGIBLE_AGAINST_THETA)
    ld_gain: float = float(FLOAT64.stage_gain(_LONG_DOUBLE))
    """What the long-double stage leaves of working-precision errors (2^-11): a long-double refinement that still
    cancels below refine_below * ld_gain goes on to double-double."""

    # dd_log_table's columns, the tables the double-double logarithms look up (derive/numerics/dd_functions.py)
    @property
    def dd_log_hi(self) -> tuple[float, ...]:
        return tuple(row[0] for row in self.dd_log_table)

    @property
    def dd_log_lo(self) -> tuple[float, ...]:
        return tuple(row[1] for row in self.dd_log_table)

    @property
    def dd_log1pmx_hi(self) -> tuple[float, ...]:
        return tuple(row[2] for row in self.dd_log_table)

    @property
    def dd_log1pmx_lo(self) -> tuple[float, ...]:
        return tuple(row[3] for row in self.dd_log_table)


def _stirling_terms(tail: sp.Rational = TAIL) -> list[sp.Rational]:
    """B_{2k}/(2k(2k-1)): Stirling's series for log Gamma, to the first term below ``tail`` at ASYMPTOTIC_FROM."""
    terms = []
    for k in range(1, 40):
        coefficient = sp.bernoulli(2 * k) / (2 * k * (2 * k - 1))
        terms.append(coefficient)
        if abs(coefficient) / sp.Integer(ASYMPTOTIC_FROM) ** (2 * k - 1) < tail:
            return terms
    raise ArithmeticError("Stirling's series does not reach the tail at ASYMPTOTIC_FROM")


def _digamma_terms(tail: sp.Rational = TAIL) -> list[sp.Rational]:
    """B_{2k}/(2k): the asymptotic series of psi(z) - log z + 1/(2z), the derivative of Stirling's."""
    terms = []
    for k in range(1, 40):
        coefficient = sp.bernoulli(2 * k) / (2 * k)
        terms.append(coefficient)
        if abs(coefficient) / sp.Integer(ASYMPTOTIC_FROM) ** (2 * k) < tail:
            return terms
    raise ArithmeticError("the digamma series does not reach the tail at ASYMPTOTIC_FROM")


def _atanh_terms(below: sp.Rational, tail: sp.Rational = TAIL) -> list[sp.Rational]:
    """Coefficients of atanh(v)/v - 1 in powers of v^2, from SymPy's series, to the order |t| < below needs."""
    bound = below / (2 - below)  # |v| at the edge t = -below
    order = 4
    while True:
        poly = sp.series(sp.atanh(_v) / _v, _v, 0, order).removeO()
        coefficients = [poly.coeff(_v, 2 * j) for j in range(1, order // 2)]
        if coefficients and abs(coefficients[-1]) * bound ** (2 * len(coefficients)) < tail:
            return coefficients
        order += 2


def _to_double_double(value: sp.Expr) -> tuple[float, float]:
    """(hi, lo): hi the double nearest to value, lo the double nearest to value - hi (about 2^-106 relative)."""
    return FLOAT64.round_pair(value)


#: Table points i (c = 1 + i/DD_LOG_STEPS) nearest to every m in [1/sqrt 2, sqrt 2).
_LOG_TABLE = range(int(sp.floor((1 / sp.sqrt(2) - 1) * DD_LOG_STEPS)),
                   int(sp.ceiling((sp.sqrt(2) - 1) * DD_LOG_STEPS)) + 1)
#: The largest |v| = |m - c|/(m + c) after the table reduction (|m - c| <= 1/(2 DD_LOG_STEPS), m + c >= sqrt 2 - that).
_DD_V_BOUND = sp.Rational(1, 2 * DD_LOG_STEPS) / (sp.sqrt(2) - sp.Rational(1, 2 * DD_LOG_STEPS))


def _dd_atanh_size(j: int) -> sp.Expr:
    """The largest v^(2j)/(2j+1) relative to the lead it is added to: 1 in the double-double log (|v| <= _DD_V_BOUND),
    |t + d|/2 in log1p(t) - t (v (2 tail - (t + d)), c = 1 + d the table point): there |v| <= _DD_V_BOUND and
    |t + d|/2 >= 3/(4 DD_LOG_STEPS) where d != 0 (|t| >= 1/(2 DD_LOG_STEPS), |d| >= 1/DD_LOG_STEPS, same sign), and
    v = t/(2 + t) with |t| < 1/(2 DD_LOG_STEPS) where d = 0 (largest at that bound, t negative)."""
    at_bound = _DD_V_BOUND ** (2 * j) / (2 * j + 1)
    t = sp.Rational(1, 2 * DD_LOG_STEPS)
    near_zero = (t / (2 - t)) ** (2 * j) / (2 * j + 1) / (t / 2)
    return sp.Max(at_bound, at_bound / (sp.Rational(3, 4) / DD_LOG_STEPS), near_zero)


def _dd_atanh_terms(tail: sp.Rational = TAIL_DD) -> list[sp.Rational]:
    """1/(2j+1) for j >= 1 until the term times v^(2j) is below ``tail`` of its lead (_dd_atanh_size)."""
    terms = []
    for j in range(1, 80):
        terms.append(sp.Rational(1, 2 * j + 1))
        if sp.N(_dd_atanh_size(j), 30) < tail:
            return terms
    raise ArithmeticError("the atanh series does not reach TAIL_DD")


def _dd_digamma_terms(tail: sp.Rational = TAIL_DD) -> list[sp.Rational]:
    """B_{2k}/(2k) until the term at DD_ASYMPTOTIC_FROM is below ``tail`` (the asymptotic series' smallest term
    there is far smaller, ~e^(-2 pi z): it converges that far before it diverges)."""
    terms = []
    for k in range(1, 60):
        coefficient = sp.bernoulli(2 * k) / (2 * k)
        terms.append(coefficient)
        if abs(coefficient) / sp.Integer(DD_ASYMPTOTIC_FROM) ** (2 * k) < tail:
            return terms
    raise ArithmeticError("the digamma series does not reach TAIL_DD")


def _dd_psir_bounds(tail: sp.Rational = TAIL_DD) -> list[tuple[sp.Rational, sp.Expr]]:
    """(B_{2k}/(2k), k |B_{2k}/(2k)| p^(k-1) / (1/12) at p = 1/DD_ASYMPTOTIC_FROM^2) until the bound is below ``tail``.

    sum_k c_k (p^k - q^k) = (p - q) sum_k c_k (p^(k-1) + p^(k-2) q + ... + q^(k-1)): the k-th term of the divided
    difference is at most k |c_k| p^(k-1) (0 < q < p), relative to its first, c_1 = 1/12.
    """
    p = sp.Rational(1, DD_ASYMPTOTIC_FROM**2)
    first = sp.bernoulli(2) / 2
    out = []
    for k in range(1, 60):
        coefficient = sp.bernoulli(2 * k) / (2 * k)
        out.append((coefficient, k * abs(coefficient) * p ** (k - 1) / first))
        if out[-1][1] < tail:
            return out
    raise ArithmeticError("the digamma remainder's series does not reach TAIL_DD")


def _ld_text(value: sp.Expr) -> str:
    """value as decimal text for the x87 long-double stage (LD_DIGITS digits)."""
    return _LONG_DOUBLE.text(value)


def _ld_atanh_terms(tail: sp.Rational = TAIL_LD) -> list[sp.Rational]:
    """1/(2j+1) for j >= 1 until the term is below ``tail`` at |v| = t/(2+t), |t| = DEVIANCE_SERIES_BELOW."""
    v2 = (DEVIANCE_SERIES_BELOW / (2 - DEVIANCE_SERIES_BELOW)) ** 2
    terms = []
    for j in range(1, 80):
        terms.append(sp.Rational(1, 2 * j + 1))
        if v2**j / (2 * j + 1) < tail:
            return terms
    raise ArithmeticError("the atanh series does not reach TAIL_LD")


def _ld_digamma_terms(tail: sp.Rational = TAIL_LD) -> list[sp.Rational]:
    """B_{2k}/(2k) until the term at ASYMPTOTIC_FROM is below ``tail`` of the leading 1/(2z)."""
    terms = []
    for k in range(1, 60):
        coefficient = sp.bernoulli(2 * k) / (2 * k)
        terms.append(coefficient)
        if abs(coefficient) * 2 * ASYMPTOTIC_FROM / sp.Integer(ASYMPTOTIC_FROM) ** (2 * k) < tail:
            return terms
    raise ArithmeticError("the digamma series does not reach TAIL_LD")


def _exact_terms(sizes: list[sp.Expr], exact_above: sp.Rational = DD_EXACT_ABOVE) -> int:
    """How many leading terms are at least ``exact_above`` (the sizes decrease)."""
    return sum(1 for size in sizes if sp.N(size, 30) >= exact_above)


def _log_table(count: int) -> tuple[list[sp.Float], list[sp.Float]]:
    """(log n for 1 <= n < count, log(n!) for n < count) at TABLE_DIGITS digits, log(n!) as the running sum of the
    logs (a SymPy factorial per entry is ~100x slower; the sum's rounding, ~count ulps of TABLE_DIGITS digits, is far
    below a double's)."""
    logs = [sp.log(k).evalf(TABLE_DIGITS) for k in range(1, count)]
    factorials = [sp.Float(0, TABLE_DIGITS)]
    for log_k in logs:
        factorials.append(factorials[-1] + log_k)
    return logs, factorials


@cache
def _exact_tables() -> tuple[list[sp.Float], list[sp.Float]]:
    """(log n! for n < TABLE_SIZE, Stirling remainder S(n) for 1 <= n < TABLE_SIZE) at TABLE_DIGITS digits."""
    logs, lfact = _log_table(TABLE_SIZE)
    half_log_2pi = (sp.log(2 * sp.pi) / 2).evalf(TABLE_DIGITS)
    stirlerr_int = [lfact[n - 1] - (n - sp.Rational(1, 2)) * logs[n - 1] + n - half_log_2pi
                    for n in range(1, TABLE_SIZE)]
    return lfact, stirlerr_int


def coefficients(precision: Precision | str = FLOAT64) -> Coefficients:
    """Every coefficient, truncation point, table and threshold the templates read, for ``precision`` (or its
    name): series lengths from its tail, values rounded to it, its wider stages' coefficients (none for float32,
    whose refinements are float64's: ``coefficients(FLOAT64)``). Computed once per precision."""
    return _coefficients(find_precision(precision) if isinstance(precision, str) else precision)


@cache
def _coefficients(precision: Precision) -> Coefficients:
    fields = {**_working_fields(precision), **_threshold_fields(precision)}
    if not precision.wider:
        fields |= _long_double_fields(precision.stages[0]) | _double_double_fields(precision)
    return Coefficients(**fields)


def _working_fields(precision: Precision) -> dict[str, Any]:
    """The series and tables computed in working precision: lengths from its tail, values rounded to it."""
    tail, rounded = precision.series_tail, precision.round
    lfact, stirlerr_int = _exact_tables()
    return {
        "stirling": tuple(rounded(c) for c in _stirling_terms(tail)),
        "digamma": tuple(rounded(c) for c in _digamma_terms(tail)),
        "atanh": tuple(rounded(c) for c in _atanh_terms(REMAINDER_SERIES_BELOW, tail)),
        "atanh_terms_deviance": len(_atanh_terms(DEVIANCE_SERIES_BELOW, tail)),
        "lfact": tuple(rounded(v) for v in lfact),
        "stirlerr_int": (float("nan"),) + tuple(rounded(v) for v in stirlerr_int),
        "log_sqrt_2pi": rounded(sp.log(2 * sp.pi) / 2),
        "exp_tail": tuple(rounded(c) for c in _exp_terms(tail)),
        "inv_ln2": rounded(1 / sp.log(2)),
        "ln2_hi": rounded(_ln2_hi(precision.exp_ln2_hi_bits)),
        "ln2_lo": rounded(sp.log(2) - _ln2_hi(precision.exp_ln2_hi_bits)),
    }


def _threshold_fields(precision: Precision) -> dict[str, Any]:
    """The thresholds that follow from the precision (see derive.precision for each rule)."""
    refine = {f"refine_below{suffix}": float(precision.refine_below(PART_ERROR_ULPS[part], kind))
              for suffix, part, kind in (("", "score", "gradient"), ("_small_count", "score_small_count", "gradient"),
                                         ("_asymptotic", "score_asymptotic", "gradient"),
                                         ("_gaussian", "gaussian", "value"))}
    return refine | {
        "precision": precision.name,
        "wider": precision.wider,
        "tail_dd": float(precision.tail_dd),
        "dd_exact_above": float(precision.dd_exact_above),
        "lead_expanded_from": float(precision.lead_expanded_from),
        "lead_from_series": float(precision.lead_from_series),
        "negligible_against_theta": float(precision.negligible_against_theta),
        "exp_inline_up_to": precision.exp_inline_up_to,
        "exp_ln2_hi_bits": precision.exp_ln2_hi_bits,
        "exp_shift": float(precision.exp_round_shift),
        "exponent_bias": precision.exponent_bias,
        "fraction_bits": precision.fraction_bits,
        # Without stages of its own (float32) there is no double-word stage to size: 0, as the counts.
        "dd_asymptotic_from": DD_ASYMPTOTIC_FROM if not precision.wider else 0,
        "dd_log_steps": DD_LOG_STEPS if not precision.wider else 0,
        "ld_digits": 0, "ld_gain": 0.0,
        "rising_power_bound": float(sp.Integer(10) ** sp.floor(sp.log(precision.largest_finite, 10) / 20)),
    }


def _long_double_fields(stage: Stage) -> dict[str, Any]:
    """The x87 long-double stage's series (to its tail) as decimal text."""
    return {
        "ld_atanh": tuple(stage.text(c) for c in _ld_atanh_terms(stage.tail)),
        "ld_digamma": tuple(stage.text(c) for c in _ld_digamma_terms(stage.tail)),
        "ld_2pi": stage.text(2 * sp.pi),
        "ld_digits": stage.digits,
        "ld_gain": float(FLOAT64.stage_gain(stage)),
    }


def _double_double_fields(precision: Precision) -> dict[str, Any]:
    """The double-double stage's series (to its tail), as (hi, lo) pairs, and how many of their terms need
    double-double arithmetic (the others are below dd_exact_above of the lead)."""
    tail, exact_above, pair = precision.tail_dd, precision.dd_exact_above, precision.round_pair
    dd_atanh, dd_digamma, dd_psir = _dd_atanh_terms(tail), _dd_digamma_terms(tail), _dd_psir_bounds(tail)
    lead = 2 * DD_ASYMPTOTIC_FROM  # the digamma series relative to its leading 1/(2z)
    return {
        "dd_atanh": tuple(pair(c) for c in dd_atanh),
        "dd_atanh_exact": _exact_terms([_dd_atanh_size(j) for j in range(1, len(dd_atanh) + 1)], exact_above),
        "dd_log_table": tuple(pair(sp.log(c)) + pair(sp.log(c) - (c - 1))
                              for c in (1 + sp.Rational(i, DD_LOG_STEPS) for i in _LOG_TABLE)),
        "dd_log_first": _LOG_TABLE.start,
        "dd_digamma": tuple(pair(c) for c in dd_digamma),
        "dd_digamma_exact": _exact_terms([abs(c) * lead / sp.Integer(DD_ASYMPTOTIC_FROM) ** (2 * k)
                                          for k, c in enumerate(dd_digamma, 1)], exact_above),
        "dd_psir": tuple(pair(c) for c, _ in dd_psir),
        "dd_psir_exact": _exact_terms([bound for _, bound in dd_psir], exact_above),
        "dd_ln2": pair(sp.log(2)),
        "dd_2pi": pair(2 * sp.pi),
    }


def _ln2_hi(bits: int = EXP_LN2_HI_BITS) -> sp.Rational:
    """ln 2 truncated to ``bits`` bits (it lies in [1/2, 1))."""
    scale = sp.Integer(2) ** bits
    return sp.floor(sp.log(2) * scale) / scale


def _exp_terms(tail: sp.Rational = TAIL) -> list[sp.Rational]:
    """1/n!, n >= 2, from SymPy's series of e^r, until the next term is below ``tail`` at |r| = ln2/2 (one series,
    its order doubled until it reaches that term)."""
    bound = sp.log(2) / 2
    order = 16
    while True:
        poly = sp.series(sp.exp(_v), _v, 0, order).removeO()
        for n in range(2, order - 1):
            if sp.N(abs(poly.coeff(_v, n + 1)) * bound ** (n + 1), 30) < tail:
                return [poly.coeff(_v, k) for k in range(2, n + 1)]
        order *= 2
