"""Kernel specs per precision (derive/spec.py's kernel_specs(precision)): float32's are float64's kernels with
float32's thresholds, every one of them inside float32's range and none a float64 copy, and they print.

The thresholds are the precision's (derive.precision); the check below maps each float64 threshold to float32's and
asks for the same expressions, so any other difference between the two (a branch, an output, a number typed for
one format) fails it.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive.backends.numpy.printer import numpy_code
from derive.models.nb import oracle
from derive.precision import FLOAT32, FLOAT64, PRECISIONS, Precision
from derive.registry import expr
from derive.spec import KernelSpec, gradients_of, kernel_specs, reductions, spec
from derive.symbols import mu, theta, x

SPECS32 = kernel_specs(FLOAT32)
PAIRS = list(zip(kernel_specs(FLOAT64), SPECS32, strict=True))
#: The Precision attributes the kernel specs read (derive/models/nb/kernels.py).
THRESHOLDS = ("huge_log_mu", "finite_max", "huge_theta", "zero_series_from", "negligible_against_theta",
              "lead_from_series")
#: The kernel fields that do not depend on the precision.
SAME = ("name", "doc", "inputs", "outputs", "sources", "reduction", "reduction_name", "domain", "edges", "kinds",
        "output_labels", "gradients", "oracle", "draws", "model")


def _as_used(p: Precision, name: str) -> sp.Number:
    """A threshold as the specs hold it: beyond the format's largest finite number it is that number (float32's
    lead_from_series: the regime past it never occurs)."""
    return sp.sympify(min(getattr(p, name), p.finite_max))


def _to_float32() -> dict[sp.Number, sp.Number]:
    """float64's thresholds (and their negatives, as conditions hold them) -> float32's."""
    pairs = {_as_used(FLOAT64, name): _as_used(FLOAT32, name) for name in THRESHOLDS}
    return pairs | {-a: -b for a, b in pairs.items()}


def _expressions(s: KernelSpec) -> list[sp.Basic]:
    """Every expression of a kernel: its lets, and each branch's condition, outputs and lets."""
    found = [sp.sympify(value) for _, value in s.lets]
    for branch in s.branches:
        found += [sp.sympify(branch.condition), *map(sp.sympify, branch.outputs)]
        found += [sp.sympify(value) for _, value in branch.lets]
    return found


def _numbers(specs: tuple[KernelSpec, ...]) -> set[sp.Number]:
    return {n for s in specs for e in _expressions(s) for n in e.atoms(sp.Number)}


def test_kernel_specs_are_built_once_per_precision_and_record_it():
    assert kernel_specs() is kernel_specs(FLOAT64) is kernel_specs("float64")
    assert SPECS32 is kernel_specs("float32") and SPECS32 is not kernel_specs()
    for p in PRECISIONS:
        assert {s.precision for s in kernel_specs(p)} == {p}
        assert spec("nb_nll_fused", p).precision is p and spec("nb_nll_fused", p.name) is spec("nb_nll_fused", p)
    assert reductions(FLOAT32)["nb_nll_sum_genes"] is spec("nb_logpmf", FLOAT32)
    assert [(k.name, g) for k, g in gradients_of("nb_logpmf", FLOAT32)] == [
        (k.name, g) for k, g in gradients_of("nb_logpmf")]
    with pytest.raises(ValueError, match="unknown precision"):
        kernel_specs("float16")


@pytest.mark.parametrize(("s64", "s32"), PAIRS, ids=[s.name for s, _ in PAIRS])
def test_float32_kernels_are_float64s_with_float32s_thresholds(s64: KernelSpec, s32: KernelSpec):
    """Same kernel, inputs, outputs, gradients and branch structure; expressions equal once float64's thresholds
    are replaced by float32's; goals float32's (the same number of ulps)."""
    assert all(getattr(s64, field) == getattr(s32, field) for field in SAME)
    assert len(s64.branches) == len(s32.branches)
    to32 = _to_float32()
    for e64, e32 in zip(_expressions(s64), _expressions(s32), strict=True):
        assert e64.xreplace(to32) == e32, (e64, e32)
    for b64, b32 in zip(s64.branches, s32.branches, strict=True):
        assert (b64.dense, b64.sweep, [n for n, _ in b64.lets]) == (b32.dense, b32.sweep, [n for n, _ in b32.lets])
        assert b64.note.replace("theta > 1e150", "theta > 1e15") == b32.note
    kinds = {float(FLOAT64.goal(kind)): kind for kind in ("value", "gradient")}
    assert s32.goals == tuple(float(FLOAT32.goal(kinds[goal])) for goal in s64.goals)


def test_float32_thresholds_are_float32s_own_not_float64_copies():
    """Each threshold occurs in its precision's specs (or its negative: -finite_max) and differs between the two
    (as derive.precision says), and no float64 threshold is left in float32's specs."""
    numbers64, numbers32 = _numbers(kernel_specs(FLOAT64)), _numbers(SPECS32)
    for name in THRESHOLDS:
        used64, used32 = _as_used(FLOAT64, name), _as_used(FLOAT32, name)
        assert used64 != used32, name
        assert {used64, -used64} & numbers64 and {used32, -used32} & numbers32, name
    assert not numbers32 & set(_to_float32()), "a float64 threshold in the float32 specs"


def test_every_float32_threshold_is_inside_float32s_range():
    """Every finite number in the float32 specs is a finite float32, normal unless zero; e^+-huge_log_mu (mu = e^eta
    where it is formed, theta = e^log_theta where it does not underflow) is finite and normal in float32."""
    info = np.finfo(np.float32)
    with np.errstate(over="raise", under="raise"):
        for number in _numbers(SPECS32):
            if number.is_finite:
                value = np.float32(float(number))
                assert np.isfinite(value) and (value == 0 or abs(value) >= info.smallest_normal), number
        for log in (FLOAT32.huge_log_mu, -FLOAT32.huge_log_mu):
            assert info.smallest_normal <= np.exp(np.float32(log)) <= info.max


@pytest.mark.parametrize("p", PRECISIONS, ids=[p.name for p in PRECISIONS])
def test_the_leading_term_meets_the_goal_where_each_precision_switches_to_it(p: Precision):
    """theta d nll/d theta's leading term (stable.nb_nll_grad_logtheta_huge; its derivation checks it at theta >=
    1e150 only) is within the precision's gradient goal of the oracle's closed form from that precision's
    huge_theta on, for x + mu up to its negligible_against_theta bound, and at x = 0 (the fused kernel's last x = 0
    branch) for mu/theta up to zero_series_from."""
    leading = sp.lambdify((x, mu, theta), expr("stable.nb_nll_grad_logtheta_huge"), "mpmath")
    with mpmath.workdps(400):
        negligible, zero_from = (mpmath.mpf(str(v)) for v in (p.negligible_against_theta, p.zero_series_from))
        for t in (mpmath.mpf(str(p.huge_theta)), mpmath.mpf(str(p.huge_theta)) * 1000):
            edge = negligible * t * 0.45
            for count, mean in ((1, 0.5), (3, 1e-3), (50, 70), (mpmath.floor(edge), edge), (0, zero_from * t * 0.9)):
                exact = oracle.nb_nll_grad_logtheta(mpmath.mpf(count), mpmath.mpf(mean), t)
                assert abs(leading(count, mean, t) - exact) <= float(p.goal("gradient")) * abs(exact), (count, mean, t)


@pytest.mark.parametrize("s", SPECS32, ids=[s.name for s in SPECS32])
def test_float32_specs_print_through_the_numpy_printer(s: KernelSpec):
    """Every branch's outputs, condition and lets print (float32 code output is issue 13's; this only shows that
    nothing in the float32 specs is beyond what the printers handle)."""
    for branch in s.branches:
        for e in (*branch.outputs, branch.condition, *(value for _, value in branch.lets)):
            assert numpy_code(sp.sympify(e)).strip()
