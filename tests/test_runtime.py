"""The runtimes (derive/backends/<name>/runtime/) and the double-double arithmetic they build on: every runtime
function the generated code calls is defined by the backend's runtime under its declared name
(derive/numerics/runtime.py), none is named after a primitive or a function printed from derive/numerics/dd.py, and
each function is checked on its own against exact rational arithmetic or mpmath, in every backend."""

from __future__ import annotations

import re
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive.backends import backend, code_backends
from derive.numerics.collect import generated_functions
from derive.numerics.dd_functions import ELEMENTARY
from derive.numerics.ir import PAIR, REAL, RUNTIME, Runtime, expressions
from derive.primitives import PRIMITIVES
from derive.series import coefficients


def _pattern(name: str) -> str:
    return backend(name).definition_pattern


def _runtime_text(name: str) -> str:
    config = backend(name)
    return "".join(path.read_text(encoding="utf-8") for path in sorted((config.folder / "runtime").glob("*")))


def _called(name: str) -> set[str]:
    config = backend(name)
    return {node.callee for fn in generated_functions(coefficients(), frozenset(config.natives))
            for expr in expressions(fn) for node in sp.preorder_traversal(expr) if isinstance(node, Runtime)}


@pytest.mark.parametrize("name", code_backends())
def test_every_runtime_function_called_is_defined_under_its_name(name):
    text = _runtime_text(name)
    called = _called(name)
    assert called <= set(RUNTIME)
    for function in called:
        assert re.search(_pattern(name).format(function), text, flags=re.MULTILINE), (name, function)


@pytest.mark.parametrize("name", code_backends())
def test_no_runtime_function_is_named_after_a_primitive(name):
    text = _runtime_text(name)
    for primitive in PRIMITIVES:
        assert not re.search(_pattern(name).format(primitive.c_name), text, flags=re.MULTILINE), primitive


def test_the_backends_share_the_runtime_functions_they_both_call():
    """A runtime function two backends call has one meaning: both define it (checked above) under the same name."""
    assert _called("c") & _called("numpy") >= {"binary_exponent", "times_pow2", "rising_power"}


@pytest.mark.parametrize("name", code_backends())
def test_the_double_double_arithmetic_is_printed_not_written(name):
    from derive.numerics.dd import LIBRARY

    text = _runtime_text(name) + "".join(path.read_text(encoding="utf-8")
                                         for path in sorted((backend(name).folder / "templates").glob("*")))
    for fn in LIBRARY:
        assert not re.search(_pattern(name).format(fn.name), text, flags=re.MULTILINE), (name, fn.name)
        assert re.search(_pattern(name).format(fn.name), backend(name).library_source(), flags=re.MULTILINE)
    printed = backend(name).numerics_source(coefficients())
    for function in ELEMENTARY:  # (derive/numerics/dd_functions.py)
        assert not re.search(_pattern(name).format(function), text, flags=re.MULTILINE), (name, function)
        assert re.search(_pattern(name).format(function), printed, flags=re.MULTILINE), (name, function)


# ------------------------------------------------------------------------------------------------------------
# Each function against exact arithmetic or mpmath, in every backend (derive/backends/<name>/probe.py calls them).

_PAIR_OPS = {"dd_add": lambda a, b: a + b, "dd_sub": lambda a, b: a - b, "dd_mul": lambda a, b: a * b,
             "dd_mul_sum": lambda a, b: a * b, "dd_div": lambda a, b: a / b, "dd_add_plain": lambda a, b: a + b}
_UNARY = {"dd_recip": lambda a: 1 / a, "dd_neg": lambda a: -a, "dd_log": mpmath.log,
          "dd_log1pmx_series": lambda t: mpmath.log1p(t) - t,
          "dd_psilog_series": lambda z: mpmath.digamma(z) - mpmath.log(z)}
_SIGNATURES = [*((n, (PAIR, PAIR), PAIR) for n in (*_PAIR_OPS, "dd_psir_divided")),
               *((n, (PAIR,), PAIR) for n in _UNARY), ("dd_sum", (REAL, REAL), PAIR), ("dd_prod", (REAL, REAL), PAIR),
               ("rising_power", (REAL, REAL, REAL), REAL), ("binary_exponent", (REAL,), REAL),
               ("times_pow2", (REAL, REAL), REAL)]


@pytest.fixture(scope="module", params=code_backends())
def calls(request):
    if not backend(request.param).available():
        pytest.skip(f"backend {request.param}: its framework is not installed")
    return backend(request.param).probe(_SIGNATURES)


def _pair_call(calls, name: str, *pairs) -> tuple[float, float]:
    hi, lo = calls[name](*((np.array([p[0]]), np.array([p[1]])) for p in pairs))
    return float(hi[0]), float(lo[0])


def _pairs(rng, n: int, lo: float, hi: float) -> list[tuple[float, float]]:
    """Normalised pairs (hi, lo), |lo| <= ulp(hi)/2, of magnitudes between lo and hi."""
    values = np.exp(rng.uniform(np.log(lo), np.log(hi), n)) * rng.choice([-1.0, 1.0], n)
    return [(float(v), float(v) * float(rng.uniform(-1, 1)) * 2.0**-54) for v in values]


def _exact(pair: tuple[float, float]) -> Fraction:
    return Fraction(pair[0]) + Fraction(pair[1])


def _exact_mp(pair: tuple[float, float]) -> mpmath.mpf:
    return mpmath.mpf(pair[0]) + mpmath.mpf(pair[1])


@pytest.mark.parametrize("name", sorted(_PAIR_OPS))
def test_pair_arithmetic_is_exact_to_2_to_the_minus_100(name, calls):
    rng = np.random.default_rng(3)
    for a, b in zip(_pairs(rng, 200, 1e-20, 1e20), _pairs(rng, 200, 1e-20, 1e20), strict=True):
        if name == "dd_add_plain":
            b = (abs(b[0]) * np.sign(a[0]), abs(b[1]) * np.sign(a[0]))  # (same sign: where it is used)
        want = _PAIR_OPS[name](_exact(a), _exact(b))
        got = _pair_call(calls, name, a, b)
        assert abs(_exact(got) - want) <= abs(want) * Fraction(1, 2**100), (name, a, b)
        assert abs(got[1]) <= abs(got[0]) * 2.0**-52, "not normalised"


@pytest.mark.parametrize("name", ["dd_sum", "dd_prod"])
def test_error_free_sum_and_product_are_exact(name, calls):
    rng = np.random.default_rng(4)
    op = (lambda a, b: a + b) if name == "dd_sum" else (lambda a, b: a * b)
    values = np.exp(rng.uniform(-40, 40, (300, 2))) * rng.choice([-1.0, 1.0], (300, 2))
    hi, lo = calls[name](values[:, 0], values[:, 1])
    for (a, b), got in zip(values, zip(hi, lo, strict=True), strict=True):
        assert Fraction(float(got[0])) + Fraction(float(got[1])) == op(Fraction(float(a)), Fraction(float(b))), (a, b)


_UNARY_DOMAIN = {"dd_recip": (1e-30, 1e30), "dd_neg": (1e-30, 1e30), "dd_log": (1e-300, 1e300),
                 "dd_log1pmx_series": (1e-30, 0.2499), "dd_psilog_series": (16.0, 1e30)}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_pair_functions_against_mpmath(name, calls):
    rng = np.random.default_rng(5)
    lo, hi = _UNARY_DOMAIN[name]
    pairs = _pairs(rng, 150, lo, hi)
    if name in ("dd_log", "dd_psilog_series", "dd_recip"):
        pairs = [(abs(p[0]), abs(p[1]) if p[0] > 0 else -abs(p[1])) for p in pairs]
    with mpmath.workdps(150):  # (psi(z) - log z cancels ~30 digits at z = 1e30)
        for pair in pairs:
            want = _UNARY[name](_exact_mp(pair))
            got = _pair_call(calls, name, pair)
            assert abs(_exact_mp(got) - want) <= abs(want) * mpmath.mpf(2) ** -98, (name, pair, got)


def _psir_divided_exact(p, q, terms: int = 60):
    """sum_k B_2k/(2k) (p^k - q^k)/(p - q), each quotient summed as sum_{j<k} p^j q^(k-1-j) (no cancellation)."""
    return mpmath.fsum(mpmath.bernoulli(2 * k) / (2 * k) * mpmath.fsum(p**j * q**(k - 1 - j) for j in range(k))
                       for k in range(1, terms))


def test_psir_divided_against_mpmath(calls):
    """The digamma remainder's divided difference for theta >= DD_ASYMPTOTIC_FROM (p = 1/theta^2 > q =
    1/(x + theta)^2), to 2^-98 of its leading term B_2/2."""
    rng = np.random.default_rng(7)
    start = coefficients().dd_asymptotic_from
    theta = np.exp(rng.uniform(np.log(start), np.log(1e12), 150))
    x = np.exp(rng.uniform(np.log(1e-3), np.log(1e12), 150))
    with mpmath.workdps(60):
        for t, k in zip(theta, x, strict=True):
            p, q = 1 / mpmath.mpf(float(t)) ** 2, 1 / (mpmath.mpf(float(k)) + mpmath.mpf(float(t))) ** 2
            p_pair, q_pair = (float(p), float(p - mpmath.mpf(float(p)))), (float(q), float(q - mpmath.mpf(float(q))))
            got = _pair_call(calls, "dd_psir_divided", p_pair, q_pair)
            want = _psir_divided_exact(_exact_mp(p_pair), _exact_mp(q_pair))
            assert abs(_exact_mp(got) - want) <= mpmath.mpf(1) / 12 * mpmath.mpf(2) ** -98, (t, k, got)


def test_binary_exponent_reduces_to_about_one(calls):
    """x 2^-e in [1/sqrt 2, sqrt 2) with e an integer, and the scaling exact, from subnormal to largest finite."""
    x = np.concatenate([[5e-324, 2.2250738585072014e-308, 0.5, 2**0.5, 1.0, 1.7976931348623157e308],
                        np.exp(np.random.default_rng(8).uniform(-744, 709, 300))])
    e = calls["binary_exponent"](x)
    m = calls["times_pow2"](x, -e)
    for value, exponent, mantissa in zip(x, e, m, strict=True):
        assert exponent == int(exponent) and 2**-0.5 <= mantissa < 2**0.5, (value, exponent, mantissa)
        assert Fraction(float(mantissa)) * Fraction(2) ** int(exponent) == Fraction(float(value)), value


def test_rising_power_against_exact_products(calls):
    """m^n prod_{k<n} (1 + k/z) for the counts below SMALL_COUNT, within 2n ulps (n rounded factors)."""
    rng = np.random.default_rng(6)
    n = rng.integers(1, 16, 300).astype(float)
    m, z = np.exp(rng.uniform(-30, 30, 300)), np.exp(rng.uniform(np.log(0.1), 30, 300))
    got = calls["rising_power"](n, m, z)
    for i in range(n.size):
        want = Fraction(float(m[i])) ** int(n[i])
        for k in range(1, int(n[i])):
            want *= 1 + Fraction(k) / Fraction(float(z[i]))
        assert abs(Fraction(float(got[i])) - want) <= want * Fraction(2 * int(n[i]), 2**52), (n[i], m[i], z[i])
