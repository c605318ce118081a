"""derive.series for each precision: every truncated series meets its tail at the smallest argument it is used for
(against the true function in mpmath at 50 digits, with coefficients computed here from mpmath's Bernoulli numbers
and factorials), the stored coefficients and tables are that precision's roundings of the exact values (within
half an ulp, numpy's spacing of that precision), and the inline e^x the coefficients feed, emulated in numpy
arithmetic of that precision, is within an ulp."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import series
from derive.precision import FLOAT32, FLOAT64, PRECISIONS, Precision
from derive.series import coefficients

IDS = [p.name for p in PRECISIONS]
DPS = 50


def _mp(value: sp.Expr) -> mpmath.mpf:
    return mpmath.mpf(sp.Rational(value).p) / sp.Rational(value).q


def _half_ulp_off(p: Precision, got: float, exact: mpmath.mpf) -> bool:
    """got is a number of the precision within half its ulp of exact."""
    t = p.dtype.type
    return float(t(got)) == got and abs(mpmath.mpf(got) - exact) <= mpmath.mpf(float(np.spacing(t(abs(got))))) / 2


def _stirling(k: int) -> mpmath.mpf:
    return mpmath.bernoulli(2 * k) / (2 * k * (2 * k - 1))


def _digamma(k: int) -> mpmath.mpf:
    return mpmath.bernoulli(2 * k) / (2 * k)


def _stirling_remainder(z: mpmath.mpf) -> mpmath.mpf:
    """log Gamma(z) - ((z - 1/2) log z - z + log(2 pi)/2)."""
    return mpmath.loggamma(z) - ((z - mpmath.mpf(1) / 2) * mpmath.log(z) - z + mpmath.log(2 * mpmath.pi) / 2)


def test_default_is_float64_computed_once():
    assert coefficients() is coefficients(FLOAT64) is coefficients("float64")
    assert coefficients(FLOAT32) is coefficients("float32") and coefficients(FLOAT32).precision == "float32"


def test_module_constants_are_float64s_with_their_old_types():
    assert series.TAIL == FLOAT64.series_tail == sp.Rational(1, 10**18)
    assert isinstance(series.LEAD_FROM_SERIES, sp.Float) and isinstance(series.NEGLIGIBLE_AGAINST_THETA, sp.Float)
    assert type(series.LEAD_EXPANDED_FROM) is int and type(series.EXP_INLINE_UP_TO) is int
    assert (series.TAIL_LD, series.LD_DIGITS, series.TAIL_DD) == (sp.Rational(1, 2**70), 25, sp.Rational(1, 2**110))
    assert series.REFINE_BELOW == sp.Rational(1, 16) and series.REFINE_BELOW_ASYMPTOTIC == sp.Rational(1, 64)


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_stirling_series_meets_the_tail(p: Precision):
    c, tail = coefficients(p), _mp(p.series_tail)
    with mpmath.workdps(DPS):
        z = mpmath.mpf(c.asymptotic_from)
        n = len(c.stirling)
        # The series stops at its first term below the tail (the one before is not).
        assert abs(_stirling(n)) / z ** (2 * n - 1) < tail <= abs(_stirling(n - 1)) / z ** (2 * n - 3)
        exact = _stirling_remainder(z)
        assert abs(sum(_stirling(k) / z ** (2 * k - 1) for k in range(1, n + 1)) - exact) <= tail
        rounded = sum(mpmath.mpf(v) / z ** (2 * k - 1) for k, v in enumerate(c.stirling, 1))
        assert abs(rounded - exact) <= tail + _mp(p.unit_roundoff) * exact
        assert all(_half_ulp_off(p, v, _stirling(k)) for k, v in enumerate(c.stirling, 1))


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_digamma_series_meets_the_tail(p: Precision):
    c, tail = coefficients(p), _mp(p.series_tail)
    with mpmath.workdps(DPS):
        z = mpmath.mpf(c.asymptotic_from)
        exact = mpmath.digamma(z) - mpmath.log(z) + 1 / (2 * z)
        truncated = -sum(_digamma(k) / z ** (2 * k) for k in range(1, len(c.digamma) + 1))
        assert abs(truncated - exact) <= tail
        assert all(_half_ulp_off(p, v, _digamma(k)) for k, v in enumerate(c.digamma, 1))


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_atanh_series_meets_the_tail_at_both_bounds(p: Precision):
    """atanh(v)/v - 1 at |v| = t/(2 - t): t = 1/2 with every term, t = 1/4 (and v = 1/7 of the x = 0 series) with
    atanh_terms_deviance of them."""
    c, tail = coefficients(p), _mp(p.series_tail)
    with mpmath.workdps(DPS):
        for t, n in ((mpmath.mpf(1) / 2, len(c.atanh)), (mpmath.mpf(1) / 4, c.atanh_terms_deviance)):
            v = t / (2 - t)
            truncated = sum(v ** (2 * j) / (2 * j + 1) for j in range(1, n + 1))
            assert abs(mpmath.atanh(v) / v - 1 - truncated) <= tail
        assert all(_half_ulp_off(p, v, mpmath.mpf(1) / (2 * j + 1)) for j, v in enumerate(c.atanh, 1))


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_exp_series_meets_the_tail(p: Precision):
    c, tail = coefficients(p), _mp(p.series_tail)
    with mpmath.workdps(DPS):
        for r in (mpmath.log(2) / 2, -mpmath.log(2) / 2):
            rest = sum(r**j / mpmath.factorial(j + 2) for j in range(len(c.exp_tail)))
            assert abs(mpmath.exp(r) - (1 + r + r * r * rest)) <= tail
        assert all(_half_ulp_off(p, v, 1 / mpmath.factorial(j + 2)) for j, v in enumerate(c.exp_tail))


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_tables_are_within_half_an_ulp(p: Precision):
    c = coefficients(p)
    with mpmath.workdps(60):
        half_log_2pi = mpmath.log(2 * mpmath.pi) / 2
        assert _half_ulp_off(p, c.log_sqrt_2pi, half_log_2pi)
        for n in range(c.table_size):
            assert _half_ulp_off(p, c.lfact[n], mpmath.loggamma(n + 1)), n
        for n in range(1, c.table_size):
            assert _half_ulp_off(p, c.stirlerr_int[n], _stirling_remainder(mpmath.mpf(n))), n


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_ln2_split_is_exact_over_the_inline_range(p: Precision):
    """k ln2_hi is exact in that precision for every |k| the range needs (and one more), ln2_hi + ln2_lo is ln 2."""
    c, t = coefficients(p), p.dtype.type
    assert (Fraction(c.ln2_hi) * 2**c.exp_ln2_hi_bits).denominator == 1
    ks = np.arange(-p.exp_k_max - 1, p.exp_k_max + 2)
    products = ks.astype(p.dtype) * t(c.ln2_hi)
    assert all(Fraction(float(q)) == k * Fraction(c.ln2_hi) for k, q in zip(ks.tolist(), products, strict=True))
    with mpmath.workdps(DPS):
        assert abs(mpmath.mpf(c.ln2_hi) + c.ln2_lo - mpmath.log(2)) <= float(np.spacing(t(c.ln2_lo))) / 2
        assert _half_ulp_off(p, c.inv_ln2, 1 / mpmath.log(2))


def _inline_exp(p: Precision, x: np.ndarray) -> np.ndarray:
    """The kernels' e^x (the C template's nbk_exp_inline) in numpy arithmetic of precision p."""
    c, t = coefficients(p), p.dtype.type
    uint = np.dtype(f"uint{p.dtype.itemsize * 8}").type
    shift = np.array(c.exp_shift, dtype=p.dtype)
    shifted = x * t(c.inv_ln2) + shift
    k = shifted - shift
    r = (x - k * t(c.ln2_hi)) - k * t(c.ln2_lo)
    tail = np.zeros_like(x)
    for coefficient in reversed(c.exp_tail):
        tail = tail * r + t(coefficient)
    er = t(1) + (r + r * r * tail)
    scale_bits = (shifted.view(uint) - shift.view(uint) + uint(c.exponent_bias)) << uint(c.fraction_bits)
    return er * scale_bits.view(p.dtype)


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_inline_exp_from_these_coefficients_is_within_an_ulp(p: Precision):
    up_to = p.exp_inline_up_to
    x = np.concatenate([np.linspace(-up_to, up_to, 1501), [-up_to, up_to, 0.0, 1e-3, -0.3465]]).astype(p.dtype)
    got = _inline_exp(p, x)
    with mpmath.workdps(40):
        exact = [mpmath.exp(mpmath.mpf(float(v))) for v in x]
    ulps = [abs(mpmath.mpf(float(g)) - e) / float(np.spacing(g)) for g, e in zip(got, exact, strict=True)]
    assert np.all(got >= np.finfo(p.dtype).smallest_normal) and max(ulps) <= 1


def test_float32_has_no_stages_of_its_own():
    """float32's refinements are the float64 primitives: its coefficients carry none, float64's carry both."""
    c32, c64 = coefficients(FLOAT32), coefficients(FLOAT64)
    assert c32.wider == "float64" and not (c32.ld_atanh or c32.ld_digamma or c32.dd_atanh or c32.dd_psir)
    assert c64.wider == "" and c64.ld_atanh and c64.dd_atanh and c64.dd_psir and c64.ld_digits == 25
    assert len(c32.stirling) < len(c64.stirling) and len(c32.exp_tail) < len(c64.exp_tail)
    assert (c32.exp_inline_up_to, c32.exp_ln2_hi_bits, c32.exponent_bias) == (87, 16, 127)


def _dd_value(pair: tuple[float, float]) -> mpmath.mpf:
    return mpmath.mpf(pair[0]) + pair[1]


def test_long_double_series_meet_their_tail():
    c, tail = coefficients(FLOAT64), _mp(series.TAIL_LD)
    with mpmath.workdps(DPS):
        z = mpmath.mpf(c.asymptotic_from)
        exact = mpmath.digamma(z) - mpmath.log(z) + 1 / (2 * z)
        truncated = -sum(_digamma(k) / z ** (2 * k) for k in range(1, len(c.ld_digamma) + 1))
        assert abs(truncated - exact) <= tail / (2 * z)
        assert all(abs(mpmath.mpf(text) / _digamma(k) - 1) < 10.0**-c.ld_digits
                   for k, text in enumerate(c.ld_digamma, 1))
        v = mpmath.mpf(1) / 7  # |t| = 1/4
        truncated = sum(v ** (2 * j) / (2 * j + 1) for j in range(1, len(c.ld_atanh) + 1))
        assert abs(mpmath.atanh(v) / v - 1 - truncated) <= tail
        assert abs(mpmath.mpf(c.ld_2pi) / (2 * mpmath.pi) - 1) < 10.0**-c.ld_digits


def test_double_double_series_meet_their_tail():
    """Truncation with the exact coefficients (the (hi, lo) pairs are themselves ~2^-107 of each: checked apart)."""
    c, tail = coefficients(FLOAT64), _mp(series.TAIL_DD)
    pair_error = mpmath.mpf(2) ** -105
    with mpmath.workdps(DPS):
        z = mpmath.mpf(c.dd_asymptotic_from)
        exact = mpmath.digamma(z) - mpmath.log(z) + 1 / (2 * z)
        # (An absolute tail, as series._dd_digamma_terms reads it: 2^-105 of the lead 1/(2z) at z = 16.)
        assert abs(-sum(_digamma(k) / z ** (2 * k) for k in range(1, len(c.dd_digamma) + 1)) - exact) <= tail
        assert all(abs(_dd_value(v) / _digamma(k) - 1) <= pair_error for k, v in enumerate(c.dd_digamma, 1))
        # The divided difference's limit q -> p: d/dw of -(psi(z) - log z + 1/(2z)), w = 1/z^2, relative to 1/12.
        derivative = (mpmath.psi(1, z) - 1 / z - 1 / (2 * z * z)) * z**3 / 2
        truncated = sum(k * _digamma(k) / z ** (2 * k - 2) for k in range(1, len(c.dd_psir) + 1))
        assert abs(truncated - derivative) * 12 <= tail
        # The table-reduced log's |v| <= (1/(2 steps))/(sqrt 2 - 1/(2 steps)), against its lead 1.
        half_step = mpmath.mpf(1) / (2 * c.dd_log_steps)
        v = half_step / (mpmath.sqrt(2) - half_step)
        truncated = sum(v ** (2 * j) / (2 * j + 1) for j in range(1, len(c.dd_atanh) + 1))
        assert abs(mpmath.atanh(v) / v - 1 - truncated) <= tail
        assert all(abs(_dd_value(a) * (2 * j + 1) - 1) <= pair_error for j, a in enumerate(c.dd_atanh, 1))
        assert all(abs(_dd_value(v) / _digamma(k) - 1) <= pair_error for k, v in enumerate(c.dd_psir, 1))
        for i, (log_hi, log_lo, pmx_hi, pmx_lo) in enumerate(c.dd_log_table, c.dd_log_first):
            point = 1 + mpmath.mpf(i) / c.dd_log_steps
            assert abs(_dd_value((log_hi, log_lo)) - mpmath.log(point)) <= pair_error * abs(mpmath.log(point))
            pmx = mpmath.log(point) - (point - 1)
            assert abs(_dd_value((pmx_hi, pmx_lo)) - pmx) <= pair_error * abs(pmx)
