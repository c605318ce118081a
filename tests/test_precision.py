"""derive.precision: the formats' parameters against numpy, the rules' float64 values against the numbers the
float64 kernels were written with, float32's against its own epsilon, smallest normal and largest finite number
(numpy.finfo), and the overflow switches in numpy arithmetic of each precision."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive.precision import DOUBLE_DOUBLE, FLOAT32, FLOAT64, PRECISIONS, X87_LONG_DOUBLE, Precision, precision

IDS = [p.name for p in PRECISIONS]


def test_unknown_precision_name_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown precision 'float16'.*'float64', 'float32'"):
        precision("float16")
    assert [precision(name) for name in ("float64", "float32")] == [FLOAT64, FLOAT32]


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_format_is_numpys(p: Precision):
    info = np.finfo(p.dtype)
    assert p.significand_bits == info.nmant + 1
    assert float(p.epsilon) == info.eps and float(p.unit_roundoff) == info.eps / 2
    assert float(p.smallest_normal) == info.smallest_normal
    assert float(p.largest_finite) == info.max
    assert p.log_smallest_normal == pytest.approx(math.log(info.smallest_normal), rel=1e-15)
    assert p.log_largest_finite == pytest.approx(math.log(info.max), rel=1e-15)
    assert p.fraction_bits == info.nmant and p.exponent_bias == info.maxexp - 1
    assert np.dtype({"double": np.float64, "float": np.float32}[p.c_type]) == p.dtype


def test_float64_rules_give_the_values_the_float64_kernels_were_written_with():
    """The numbers typed into series.py, spec.py and the nb model's kernels and stable forms before they were derived
    (as they were typed: the kernel specs read them from the precision now, and must print the same)."""
    p = FLOAT64
    assert p.series_tail == sp.Rational(1, 10**18)
    assert X87_LONG_DOUBLE.tail == sp.Rational(1, 2**70) and X87_LONG_DOUBLE.digits == 25
    assert p.tail_dd == sp.Rational(1, 2**110) and p.dd_exact_above == sp.Rational(1, 2**56)
    assert p.refinement is DOUBLE_DOUBLE and p.stage_gain(X87_LONG_DOUBLE) == sp.Rational(1, 2**11)
    assert (p.exp_inline_up_to, p.exp_ln2_hi_bits, p.exp_round_shift) == (708, 42, 6755399441055744)
    assert p.lead_expanded_from == 2**47
    assert sp.srepr(p.lead_from_series) == sp.srepr(sp.Float("1e50"))
    assert sp.srepr(p.negligible_against_theta) == sp.srepr(sp.Float("1e-20"))
    assert p.huge_log_mu == 700 and type(p.huge_log_mu) is int
    assert sp.srepr(p.zero_series_from) == sp.srepr(sp.Float("1e-150"))
    assert sp.srepr(p.huge_theta) == sp.srepr(sp.Float("1e150"))
    assert sp.srepr(p.finite_max) == sp.srepr(sp.Float("1.7976931348623157e308"))
    assert [p.refine_below(e, kind) for e, kind in ((30, "gradient"), (12, "gradient"), (6, "gradient"),
                                                    (1.5, "value"))] == [sp.Rational(1, n) for n in (16, 32, 64, 32)]
    assert (p.goal("value"), p.goal("gradient")) == (sp.Rational(1, 10**14), sp.Rational(1, 10**13))


def test_float32_thresholds_follow_float32s_own_format():
    """Each float32 value worked out from numpy.finfo(float32) (by hand, in the comments), none a float64 copy."""
    info = np.finfo(np.float32)
    u, tiny, big = float(info.eps) / 2, float(info.smallest_normal), float(info.max)
    p = FLOAT32
    assert p.exp_inline_up_to == math.floor(-math.log(tiny)) == 87                 # -ln tiny = 87.34
    assert p.series_tail == sp.Rational(1, 10**10) and 1e-10 <= u / 64 < 1e-9       # u/64 = 9.3e-10
    k_max = round(87 / math.log(2))                                                 # 125.5 -> 126: 7 bits
    assert p.exp_ln2_hi_bits == (info.nmant + 1) - 1 - k_max.bit_length() == 16
    assert p.huge_theta == sp.Float("1e15") and 1e18 <= 1 / math.sqrt(tiny) < 1e19  # 10^3 inside 9.2e18
    assert p.zero_series_from == sp.Float("1e-15")
    assert p.huge_log_mu == math.floor(math.log(big) / 2 + 15 * math.log(10)) == 78  # 44.36 + 34.54 = 78.9
    assert p.finite_max == sp.Float(repr(big))
    assert p.lead_expanded_from == 2 ** (53 - 24 - 4)                              # 2^-53 theta <= u/16
    assert p.lead_from_series > big                                                # theta^6 fits a double
    assert p.negligible_against_theta == sp.Float("1e-12")
    assert p.tail_dd == sp.Rational(1, 2**59) and p.dd_exact_above == sp.Rational(1, 2**34)
    assert p.stage_gain(p.refinement) == sp.Rational(1, 2**29)
    assert p.exp_round_shift == 3 * 2**22
    assert (float(p.goal("value")), float(p.goal("gradient"))) == (8 * u, 16 * u)  # issue 13: 8 and 16 units of u
    assert FLOAT32.wider == "float64" and FLOAT32.refinement.significand_bits == FLOAT64.significand_bits
    assert FLOAT32.refinement.largest_finite == FLOAT64.largest_finite
    with pytest.raises(ValueError, match="unknown goal"):
        FLOAT32.goal("speed")
    for name in ("series_tail", "tail_dd", "exp_inline_up_to", "exp_ln2_hi_bits", "huge_theta", "huge_log_mu",
                 "finite_max", "lead_expanded_from", "negligible_against_theta", "dd_exact_above"):
        assert getattr(FLOAT32, name) != getattr(FLOAT64, name), name


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_refinement_ratios_are_the_largest_cancellation_the_parts_errors_allow(p: Precision):
    """refine_below(e) = 2^-k: parts within e ulps, cancelled by 2^k, stay inside the goal by the margin 1.5, and the
    next power of two would not (k = 0, refine every sum, where even no cancellation leaves too little margin)."""
    for e, kind in ((30, "gradient"), (12, "gradient"), (6, "gradient"), (1.5, "value"), (100, "value")):
        below = p.refine_below(e, kind)
        budget = p.goal(kind) / p.unit_roundoff
        assert below <= 1 and budget < e * 1.5 * 2 / below, (e, kind)
        assert below == 1 or e * 1.5 / below <= budget, (e, kind)
    # float64's four thresholds (series.py): 1/16, 1/32, 1/64 and 1/32; float32's goals in far fewer units refine the
    # score always (its 30-ulp parts miss 16 units even uncancelled) and the Gaussian's sum below 1/2.
    assert [FLOAT64.refine_below(e, k) for e, k in ((30, "gradient"), (12, "gradient"), (6, "gradient"),
                                                    (1.5, "value"))] == [sp.Rational(1, 16), sp.Rational(1, 32),
                                                                         sp.Rational(1, 64), sp.Rational(1, 32)]
    assert FLOAT32.refine_below(30, "gradient") == 1 and FLOAT32.refine_below(1.5, "value") == sp.Rational(1, 2)


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_exp_switches_are_finite_and_normal_in_that_precision(p: Precision):
    t, info = p.dtype.type, np.finfo(p.dtype)
    with np.errstate(over="ignore", under="ignore"):
        for x in (p.exp_inline_up_to, p.huge_log_mu):
            assert np.isfinite(np.exp(t(x))) and np.exp(t(-x)) >= info.smallest_normal
        # The inline range is the widest integer one: one more and e^-x is subnormal.
        assert np.exp(t(-(p.exp_inline_up_to + 1))) < info.smallest_normal


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_huge_switches_keep_their_products_in_range(p: Precision):
    t, info = p.dtype.type, np.finfo(p.dtype)
    with np.errstate(over="ignore", under="ignore"):
        # The fused kernel's x = 0 edge: mu^2 for mu < zero_series_from e^huge_log_mu is finite; one more and not
        # (or e^-eta is no longer normal).
        mu = t(float(p.zero_series_from)) * np.exp(t(p.huge_log_mu))
        assert np.isfinite(mu * mu)
        mu_next = t(float(p.zero_series_from)) * np.exp(t(p.huge_log_mu + 1))
        assert not np.isfinite(mu_next * mu_next) or p.huge_log_mu == p.exp_inline_up_to
        # Squares of quotients >= zero_series_from, and 1/theta^2 at 10^3 huge_theta, stay normal (by 10^6, 1).
        z = t(float(p.zero_series_from))
        assert z * z >= t(1e6) * info.smallest_normal
        theta = t(float(p.huge_theta)) * t(1000)
        assert t(1) / (theta * theta) >= info.smallest_normal
        # ... while beyond 1/sqrt(smallest normal) they would not be.
        theta = t(2) / np.sqrt(info.smallest_normal)
        assert t(1) / (theta * theta) < info.smallest_normal


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_gradthetalead_forms_stay_finite_in_the_refinement_stage(p: Precision):
    """Below lead_from_series the expanded form's products (~6 theta^5, through Dekker's split) are finite in the
    refinement stage's doubles; float32's whole range is (a float32's sixth power fits a double)."""
    stage = np.float64
    theta = min(stage(float(p.lead_from_series)), stage(np.finfo(p.dtype).max))
    split = stage(2**p.refinement.split_bits + 1)
    with np.errstate(over="ignore"):
        assert np.isfinite(stage(6) * theta**5 * split) and np.isfinite(theta**6 * split)
        if p is FLOAT64:
            assert not np.isfinite((theta * 10) ** 6 * split)
    # At lead_expanded_from the direct numerator keeps stage error times theta <= u/16 of the result.
    assert p.refinement.relative_error * p.lead_expanded_from <= p.unit_roundoff / 16


def _mpmath_rounded(value: mpmath.mpf, bits: int) -> float:
    with mpmath.workprec(bits):
        return float(+value)


@pytest.mark.parametrize("p", PRECISIONS, ids=IDS)
def test_round_is_to_nearest_from_the_exact_value(p: Precision):
    with mpmath.workdps(60):
        values = {sp.Rational(1, 3): mpmath.mpf(1) / 3, sp.pi: +mpmath.pi, sp.E: +mpmath.e, sp.log(2): mpmath.log(2),
                  sp.Rational(1, 10): mpmath.mpf(1) / 10, sp.sqrt(2) * 10**30: mpmath.sqrt(2) * 10**30}
        for value, reference in values.items():
            got = p.round(value)
            assert got == _mpmath_rounded(reference, p.significand_bits), value
            assert got == float(p.dtype.type(float(reference)))  # numpy's rounding, through a double here
            hi, lo = p.round_pair(value)
            pair_error = abs(mpmath.mpf(hi) + lo - reference) / abs(reference)
            assert hi == got and pair_error <= 2.0 ** (1 - 2 * p.significand_bits), value


def test_round_is_not_through_a_double_and_handles_the_range():
    # 1 + 2^-24 + 2^-70 rounds up to float32 (above the midpoint); a double first drops the 2^-70 and ties to even.
    value = 1 + sp.Rational(1, 2**24) + sp.Rational(1, 2**70)
    assert FLOAT32.round(value) == 1 + 2.0**-23
    assert float(np.float32(float(value))) == 1.0
    assert FLOAT32.round(sp.Rational(3, 2**150)) == 2.0**-148       # subnormal: 1.5 2^-149, ties to even
    assert FLOAT64.round(sp.Rational(1, 2**1074)) == 2.0**-1074
    with pytest.raises(OverflowError):
        FLOAT32.round(sp.Float("3.5e38"))
    assert Fraction(FLOAT32.round(sp.pi)) == Fraction(float(np.float32(np.pi)))
