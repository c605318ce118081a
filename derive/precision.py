"""The floating-point formats kernels are generated for, and every number that follows from one of them.

A threshold of the numerics (where a series stops, how far e^x is formed inline, where a form would overflow or
underflow, when a cancelling sum is refined) is not typed per format: each is a function of the format's
significand bits (so its epsilon), its smallest normal and its largest finite number, with the margin it keeps
stated in its docstring. With float64's parameters the rules give exactly the values the float64 kernels were
written with; with float32's they give float32's (tests/test_precision.py checks both against numpy and mpmath).

Wider stages. Where a kernel's working-precision parts cancel, it recomputes them in a wider arithmetic:

- float64: x87 long double (a 64-bit significand, 2^-64 per operation; only where the platform has it) and
  double-double (two doubles, about 2^-104 per operation, with IEEE double arithmetic alone: everywhere).
- float32: float64 itself. Where a float32 kernel's parts cancel it recomputes them with the float64 primitives
  on the (exactly) widened arguments, and those refine further in long double and double-double where they cancel
  in turn: float32 needs no stage of its own, and its refinements read ``coefficients(FLOAT64)``. A double-double
  of floats (about 2^-46) would be less precise than float64 (2^-53), needs error-free float32 products (an FMA or
  Dekker's split) and its own coefficients and tests; float64 is on every target float32 kernels are meant for
  (numpy, C, torch and JAX on CPUs and CUDA), and products of two float32 are exact in it. Only a target without
  float64 (Apple's Metal) would need double-float, and then a precision of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

#: Decimal digits a non-rational value is evaluated to before it is rounded: only a value within ~10^-60 relative of
#: a rounding boundary could round the wrong way (rationals are rounded exactly).
EVALUATION_DIGITS = 60
#: Issue 4's accuracy goals (relative error) for float64: 1e-14 for values, 1e-13 for gradients (90 and 900 units of
#: 2^-53).
FLOAT64_GOALS = {"value": sp.Rational(1, 10**14), "gradient": sp.Rational(1, 10**13)}
#: Issue 13's goals for float32: 8 and 16 units of 2^-24 (4.8e-7, 9.5e-7), what a training loop in float32 can ask of a
#: log-density and its gradients. Far fewer units than float64's: float32's refinements run in float64, whose errors
#: are negligible at float32's scale, so the thresholds (refine_below) send every cancellation that float32's own
#: parts could not meet the goal through to them.
FLOAT32_GOALS = {"value": sp.Rational(8, 2**24), "gradient": sp.Rational(16, 2**24)}
#: A refinement threshold keeps the worst error it allows (part errors times cancellation) at least this factor
#: inside the goal (rounded to a power of two, the four thresholds in series.py leave 1.9-2.3).
REFINE_MARGIN = sp.Rational(3, 2)


@dataclass(frozen=True)
class Stage:
    """A wider arithmetic that refinements run in: its name, type, precision and range."""

    name: str
    c_type: str
    #: numpy's name for it ("" where numpy has none: double-double).
    numpy_dtype: str
    significand_bits: int
    #: Binary exponent of its largest finite number (which lies in [2^max_exponent, 2^(max_exponent + 1))).
    max_exponent: int
    #: Relative error of one of its operations: 2^-error_bits.
    error_bits: int
    #: A double-word arithmetic's products split their operands (Dekker): the operand times 2^split_bits + 1 must not
    #: overflow. 0 for a native type.
    split_bits: int = 0
    #: Only on some platforms (x87 long double): kernels have a path without it.
    optional: bool = False

    @property
    def relative_error(self) -> sp.Rational:
        """2^-error_bits: a native type's unit roundoff, a double-word's accepted bound for its sums and products."""
        return sp.Rational(1, 2**self.error_bits)

    @property
    def tail(self) -> sp.Rational:
        """Series summed in this stage keep terms down to this size relative to their lead: its error over 64.

        The margin 64 is the same as the working precision's (Precision.series_tail): the omitted terms add at most
        a 64th of what one operation of the stage rounds away. float64's stages: 2^-70 (x87), 2^-110 (double-double).
        """
        return self.relative_error / 64

    @property
    def largest_finite(self) -> sp.Integer:
        """(2 - 2^(1 - significand_bits)) 2^max_exponent (for double-double: the largest double)."""
        bits = self.significand_bits if not self.split_bits else self.significand_bits // 2
        return sp.Integer(2**bits - 1) * sp.Integer(2) ** (self.max_exponent + 1 - bits)

    @property
    def digits(self) -> int:
        """Significant decimal digits of a coefficient written as text for this stage: ceil(1 + bits log10 2), the
        fewest that read back to the same number (Matula: 21 for a 64-bit significand, 17 for 53), plus 4, so that
        reading the text rounds once more only for values within 10^-4 of an ulp of a rounding boundary."""
        return math.ceil(1 + self.significand_bits * math.log10(2)) + 4

    def text(self, value: sp.Expr) -> str:
        """value as decimal text with ``digits`` digits after the point (how the long-double tables are written)."""
        return sp.Float(sp.N(value, self.digits + 5), self.digits + 5).__format__(f".{self.digits}e")


X87_LONG_DOUBLE = Stage("x87 long double", "long double", "longdouble", 64, 16383, 64, optional=True)
#: Double-double: sums and products within about 4 u^2 = 2^-104 (Joldes, Muller and Popescu 2017 prove 3 u^2 and
#: 5 u^2 for the accurate sum and product; 2^-104 is also the QD library's double-double epsilon).
DOUBLE_DOUBLE = Stage("double-double", "nbk_dd", "", 106, 1023, 104, split_bits=27)
FLOAT64_STAGE = Stage("float64", "double", "float64", 53, 1023, 53)


def _power_of_ten_at_most(bound: sp.Rational) -> int:
    """The largest integer k with 10^k <= bound (exact: no floating-point logarithm near an integer)."""
    k = int(sp.floor(sp.log(bound, 10)).evalf(30))
    while sp.Rational(10) ** (k + 1) <= bound:
        k += 1
    while sp.Rational(10) ** k > bound:
        k -= 1
    return k


def _round_fraction(value: Fraction, bits: int, min_exponent: int, largest: int) -> Fraction:
    """value rounded to nearest (ties to even) on a binary grid of ``bits`` significant bits, subnormal below
    2^min_exponent; OverflowError beyond ``largest``."""
    if value == 0:
        return Fraction(0)
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    quantum = Fraction(2) ** (max(exponent, min_exponent) - bits + 1)
    rounded = round(magnitude / quantum) * quantum  # Fraction.__round__: ties to even
    if rounded > largest:
        raise OverflowError(f"{float(value)!r} is beyond the largest finite number of the format")
    return rounded if value > 0 else -rounded


def _exact(value: sp.Expr | float | int) -> Fraction:
    """value as an exact fraction: itself if rational, else its EVALUATION_DIGITS-digit evaluation."""
    value = sp.sympify(value)
    if not value.is_Rational:
        value = sp.Rational(sp.Float(sp.N(value, EVALUATION_DIGITS), EVALUATION_DIGITS))
    return Fraction(int(value.p), int(value.q))


@dataclass(frozen=True)
class Precision:
    """A floating-point format kernels are generated for, and the thresholds that follow from it.

    Fields: its name, significand bits p (53, 24), the binary exponents of its smallest normal and largest finite
    number, its C and numpy type names, the wider stages its refinements run in, and ``wider``: the precision whose
    kernels perform its refinements ("" where the stages are its own; "float64" for float32, see the module's
    docstring).
    """

    name: str
    significand_bits: int
    #: The smallest normal is 2^min_exponent.
    min_exponent: int
    #: The largest finite number lies in [2^max_exponent, 2^(max_exponent + 1)).
    max_exponent: int
    c_type: str
    numpy_dtype: str
    stages: tuple[Stage, ...]
    wider: str = ""

    @property
    def suffix(self) -> str:
        """What the names of this precision's generated functions end with, where a module holds several precisions'
        (torch's: ``_lfact`` and ``_lfact_f32``): "" for float64, the default, "_f32" for float32."""
        return "" if self.name == "float64" else "_f" + self.name.removeprefix("float")

    @property
    def ordinary_exponent(self) -> int:
        """e such that inputs of magnitude 2^-e to 2^e (or 0) keep every product or quotient of up to four of them
        normal and finite: floor(min(-min_exponent, max_exponent)/4) (float32: 31). A precision whose refinements are
        a wider one's computes only such inputs (log inputs up to e ln 2) in its own arithmetic; the rest, where its
        forms would overflow or underflow on the way, go to the wider precision's kernels (derive/numerics/narrow.py).
        """
        return min(-self.min_exponent, self.max_exponent) // 4

    # ---- the format ----------------------------------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype (for arithmetic of this precision in tests and the numpy backend)."""
        return np.dtype(self.numpy_dtype)

    @property
    def epsilon(self) -> sp.Rational:
        """2^(1 - p): the gap between 1 and the next number (2.2e-16, 1.2e-7)."""
        return sp.Rational(2) ** (1 - self.significand_bits)

    @property
    def unit_roundoff(self) -> sp.Rational:
        """u = 2^-p = epsilon/2: the largest relative error of one correctly rounded operation."""
        return sp.Rational(2) ** -self.significand_bits

    @property
    def smallest_normal(self) -> sp.Rational:
        """2^min_exponent (2.2e-308, 1.2e-38): below it numbers lose significant bits (subnormals)."""
        return sp.Rational(2) ** self.min_exponent

    @property
    def largest_finite(self) -> sp.Integer:
        """(2 - epsilon) 2^max_exponent (1.8e308, 3.4e38)."""
        return (2 - self.epsilon) * sp.Integer(2) ** self.max_exponent

    @property
    def log_smallest_normal(self) -> float:
        """ln(smallest normal) = min_exponent ln 2 (-708.40, -87.34): e^x is normal for x above it."""
        return self.min_exponent * math.log(2)

    @property
    def log_largest_finite(self) -> float:
        """ln(largest finite) (709.78, 88.72): e^x overflows beyond it."""
        return math.log(int(self.largest_finite))

    @property
    def exponent_bias(self) -> int:
        """The biased exponent field of 2^k is k + this (= max_exponent: 1023, 127)."""
        return self.max_exponent

    @property
    def fraction_bits(self) -> int:
        """Bits of the stored fraction, p - 1 (52, 23): the exponent field starts above them."""
        return self.significand_bits - 1

    @property
    def exp_round_shift(self) -> sp.Integer:
        """1.5 * 2^(p-1) (6755399441055744, 12582912): y + this, for |y| < 2^(p-2), is rounded to an integer in the
        low bits of the sum (how the inline e^x takes k = round(x/ln 2) without a conversion)."""
        return 3 * sp.Integer(2) ** (self.significand_bits - 2)

    # ---- series --------------------------------------------------------------------------------------------------

    @property
    def series_tail(self) -> sp.Rational:
        """Working-precision series keep terms down to this size: u/64 rounded down to a power of ten (1e-18,
        1e-10). The omitted terms add at most a 64th of the final rounding; a power of ten, as float64's 1e-18 was
        written, only makes the margin larger (~111 for float64, ~600 for float32)."""
        return sp.Rational(10) ** _power_of_ten_at_most(self.unit_roundoff / 64)

    @property
    def refinement(self) -> Stage:
        """The most precise wider stage: the last of ``stages``."""
        return self.stages[-1]

    @property
    def tail_dd(self) -> sp.Rational:
        """Series summed in the refinement stage keep terms down to this fraction of their lead: the stage's tail
        (2^-110 in double-double for float64; 2^-59 in float64 for float32)."""
        return self.refinement.tail

    @property
    def dd_exact_above(self) -> sp.Rational:
        """Terms of a refinement-stage series below this fraction of its lead may be summed in working precision:
        their rounding, u times them, stays 32 times below the stage's own error. For double-double this is
        2^-104/(32 u) = u/8 = 2^-56 (float64); for float32's float64 stage 2^-53/(32 u) = 2^-34."""
        return self.refinement.relative_error / (32 * self.unit_roundoff)

    def stage_gain(self, stage: Stage) -> sp.Rational:
        """What a recomputation in ``stage`` leaves of the working precision's errors: 2^-(its bits - p) (2^-11 for
        x87 long double against float64, 2^-29 for float64 against float32)."""
        return sp.Rational(2) ** (self.significand_bits - stage.error_bits)

    # ---- the kernels' own e^x ------------------------------------------------------------------------------------

    @property
    def exp_inline_up_to(self) -> int:
        """The inline e^x covers |x| <= floor(-ln smallest normal) (708, 87): there e^-x and e^x are normal and
        finite (-ln smallest normal < ln largest finite for IEEE formats), so the result is the polynomial times an
        exact normal power of two 2^k, k + bias in [1, 2 bias]."""
        return math.floor(-self.log_smallest_normal)

    @property
    def exp_k_max(self) -> int:
        """The largest |k| = |round(x/ln 2)| over that range (1021, 126)."""
        return int(sp.floor(self.exp_inline_up_to / sp.log(2) + sp.Rational(1, 2)))

    @property
    def exp_ln2_hi_bits(self) -> int:
        """Bits of ln 2's leading part in the reduction x - k ln2_hi - k ln2_lo: p - 1 - bitlength(exp_k_max)
        (42 = 53 - 11, 16 = 24 - 8). k ln2_hi then has at most p - 1 significant bits: exact, with a bit to spare
        for |k| up to twice the range's (an x/ln 2 rounded up past the nearest integer stays exact too)."""
        return self.significand_bits - 1 - self.exp_k_max.bit_length()

    # ---- overflow and underflow switches of the kernel specs (derive/models/nb/kernels.py) -----------------------

    @property
    def huge_theta(self) -> sp.Float:
        """theta d nll/d theta is its leading asymptotic term from here on (1e150, 1e15; the nb kernels' huge
        branch, only where x + mu is negligible against theta): the exact forms' O(1/theta^2) terms underflow at
        theta > 1/sqrt(smallest normal) (6.7e153, 9.2e18). The rule keeps a factor 10^3 inside that bound, rounded
        down to a power of ten: the largest 10^k with (10^(k+3))^2 smallest normal <= 1, so the terms (up to
        1/theta^2 times coefficients of order one, and their squares' factors) stay normal by a factor 10^6."""
        return sp.Float(f"1e{self._huge_exponent}")

    @property
    def zero_series_from(self) -> sp.Float:
        """Below this mu/theta the x = 0 series form's products of small quotients could underflow before the result
        does (the fused kernel's x = 0 branches: 1e-150, 1e-15): 1/huge_theta, by the same rule (its square stays
        normal by a factor 10^6)."""
        return sp.Float(f"1e-{self._huge_exponent}")

    @property
    def _huge_exponent(self) -> int:
        """k of huge_theta = 10^k: the largest with 10^(2(k+3)) smallest normal <= 1 (150, 15), exactly."""
        k = 0
        while sp.Integer(10) ** (2 * (k + 1 + 3)) * self.smallest_normal <= 1:
            k += 1
        return k

    @property
    def huge_log_mu(self) -> int:
        """Beyond +-this log-mean mu = e^eta is not formed (700, 78; spec.HUGE_LOG_MU is float64's). Two bounds,
        the smaller one: e^eta normal and finite (exp_inline_up_to: 708, 87), and the fused kernel's x = 0 edge
        branch, which forms mu^2 for mu < zero_series_from e^huge_log_mu, must not overflow:
        floor(ln(largest)/2 + ln huge_theta) (700.28, 78.9)."""
        squared = math.floor(self.log_largest_finite / 2 + self._huge_exponent * math.log(10))
        return min(self.exp_inline_up_to, squared)

    @property
    def finite_max(self) -> sp.Float:
        """The largest finite number, as the decimal that reads back to it ("finite" in the kernels' conditions)."""
        return sp.Float(repr(float(self.largest_finite)))

    # ---- GradThetaLead's forms -----------------------------------------------------------------------------------

    @property
    def lead_expanded_from(self) -> sp.Integer:
        """From this theta on GradThetaLead uses its numerator expanded in powers of theta (2^47, 2^25). The direct
        numerator's terms are ~x theta^3 and the result's ~x theta^2: formed in the refinement stage, it keeps
        stage error times theta of the result, which must stay below u/16 (a 16th of the final rounding)."""
        return sp.Integer(self.unit_roundoff / 16 / self.refinement.relative_error)

    @property
    def lead_from_series(self) -> sp.Float:
        """From this theta on GradThetaLead is its series in 1/theta (1e50; 1e51 for float32, beyond its range, so
        never). The expanded form's degree-5 products in theta are formed in the refinement stage (double-double:
        Dekker's split multiplies an operand by 2^27 + 1): the largest power of ten theta with
        2^split_bits theta^6 <= the stage's largest finite keeps them finite with a factor theta to spare, for counts
        and means up to theta^(5/4) (their degree-4 terms, (x + mu)^4 theta, stay below theta^6)."""
        bound = self.refinement.largest_finite / sp.Integer(2) ** self.refinement.split_bits
        return sp.Float(f"1e{_power_of_ten_at_most(bound) // 6}")

    @property
    def negligible_against_theta(self) -> sp.Float:
        """x + mu below this fraction of theta: the asymptotic leading terms in 1/theta are exact in working precision
        (1e-20, 1e-12). A hundredth of the series tail: the dropped terms are O((x + mu)/theta) relative, times
        coefficients of order one (the next terms of the expansions), as a series' omitted remainder."""
        return sp.Float(f"1e{_power_of_ten_at_most(self.series_tail) - 2}")

    # ---- accuracy goals and refinements --------------------------------------------------------------------------

    def goal(self, kind: str) -> sp.Rational:
        """Relative accuracy goal of a kernel output ("value" or "gradient"): float64's 1e-14 and 1e-13 (issue 4),
        float32's 8 and 16 units of 2^-24 (issue 13); a precision without goals of its own gets float64's in the same
        units of its roundoff."""
        if kind not in FLOAT64_GOALS:
            raise ValueError(f"unknown goal {kind!r}: expected one of {', '.join(map(repr, FLOAT64_GOALS))}")
        if self.name == "float32":
            return FLOAT32_GOALS[kind]
        return FLOAT64_GOALS[kind] * self.unit_roundoff * 2**53

    def refine_below(self, error_ulps: float, kind: str) -> sp.Rational:
        """A sum of parts, each within ``error_ulps`` ulps of the parts' magnitude, is refined when it is below this
        fraction of that magnitude: the largest 2^-k with error_ulps 2^k REFINE_MARGIN <= goal/u. (The cancellation
        2^k multiplies the parts' errors; both are counted in ulps, so the result does not depend on the precision:
        30 ulps give 1/16, 12 give 1/32, 6 give 1/64 against the gradient goal, 1.5 give 1/32 against the value
        goal.)"""
        allowed = self.goal(kind) / self.unit_roundoff / (sp.nsimplify(error_ulps) * REFINE_MARGIN)
        k = 0
        while 2 ** (k + 1) <= allowed:
            k += 1
        return sp.Rational(1, 2**k)

    # ---- rounding ------------------------------------------------------------------------------------------------

    def round(self, value: sp.Expr | float | int) -> float:
        """value rounded to the nearest number of this format (ties to even, subnormals included), as a Python float
        (every float32 is one exactly). Rationals are rounded exactly, anything else from a 60-digit evaluation:
        once, not through a double (numpy.float32(float(v)) rounds twice)."""
        return float(_round_fraction(_exact(value), self.significand_bits, self.min_exponent,
                                     int(self.largest_finite)))

    def round_pair(self, value: sp.Expr | float | int) -> tuple[float, float]:
        """(hi, lo): hi = round(value), lo = round(value - hi): value to about 2^-2p relative (a double-word)."""
        exact = _exact(value)
        hi = self.round(sp.Rational(exact.numerator, exact.denominator))
        rest = exact - Fraction(hi)
        return hi, self.round(sp.Rational(rest.numerator, rest.denominator))


FLOAT64 = Precision("float64", 53, -1022, 1023, "double", "float64", (X87_LONG_DOUBLE, DOUBLE_DOUBLE))
FLOAT32 = Precision("float32", 24, -126, 127, "float", "float32", (FLOAT64_STAGE,), wider="float64")
PRECISIONS: tuple[Precision, ...] = (FLOAT64, FLOAT32)


def precision(name: str) -> Precision:
    """The precision called ``name`` ("float64", "float32")."""
    for candidate in PRECISIONS:
        if candidate.name == name:
            return candidate
    known = ", ".join(repr(p.name) for p in PRECISIONS)
    raise ValueError(f"unknown precision {name!r}: the kernels are generated for {known}")
