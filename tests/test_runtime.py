"""The runtimes (derive/backends/<name>/runtime/) and the double-double arithmetic they build on: every runtime
function the generated code calls is defined by the backend's runtime under its declared name
(derive/numerics/runtime.py), none is named after a primitive or a function printed from derive/numerics/dd.py, and
each function is checked on its own against exact rational arithmetic or mpmath, in every backend."""

from __future__ import annotations

import ctypes
import re
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.backends import backend, code_backends
from derive.numerics.collect import generated_functions
from derive.numerics.ir import RUNTIME, Runtime, expressions
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
    assert _called("c") & _called("numpy") >= {"dd_log", "dd_psilog_series", "rising_power"}


@pytest.mark.parametrize("name", code_backends())
def test_the_double_double_arithmetic_is_printed_not_written(name):
    from derive.numerics.dd import LIBRARY

    text = _runtime_text(name) + "".join(path.read_text(encoding="utf-8")
                                         for path in sorted((backend(name).folder / "templates").glob("*")))
    for fn in LIBRARY:
        assert not re.search(_pattern(name).format(fn.name), text, flags=re.MULTILINE), (name, fn.name)
        assert re.search(_pattern(name).format(fn.name), backend(name).library_source(), flags=re.MULTILINE)


# ------------------------------------------------------------------------------------------------------------
# Each function against exact arithmetic, through C probes (the runtime is static there) and the numpy module.

_PAIR_OPS = {"dd_add": lambda a, b: a + b, "dd_sub": lambda a, b: a - b, "dd_mul": lambda a, b: a * b,
             "dd_mul_sum": lambda a, b: a * b, "dd_div": lambda a, b: a / b, "dd_add_plain": lambda a, b: a + b}
_UNARY = {"dd_recip": lambda a: 1 / a, "dd_neg": lambda a: -a, "dd_log": mpmath.log,
          "dd_log1pmx_series": lambda t: mpmath.log1p(t) - t,
          "dd_psilog_series": lambda z: mpmath.digamma(z) - mpmath.log(z)}


@pytest.fixture(scope="module")
def c_runtime():
    from derive.backends.c.loader import compile_c_source

    wrappers = [f"void nbk_probe_{n}(double ah, double al, double bh, double bl, double *out) {{ "
                f"nbk_dd a = {{ah, al}}, b = {{bh, bl}}; nbk_dd r = nbk_{n}(a, b); out[0] = r.hi; out[1] = r.lo; }}"
                for n in _PAIR_OPS]
    wrappers += [f"void nbk_probe_{n}(double ah, double al, double *out) {{ nbk_dd a = {{ah, al}}; "
                 f"nbk_dd r = nbk_{n}(a); out[0] = r.hi; out[1] = r.lo; }}" for n in _UNARY]
    wrappers += ["void nbk_probe_dd_sum(double a, double b, double *out) { nbk_dd r = nbk_dd_sum(a, b); "
                 "out[0] = r.hi; out[1] = r.lo; }",
                 "void nbk_probe_dd_prod(double a, double b, double *out) { nbk_dd r = nbk_dd_prod(a, b); "
                 "out[0] = r.hi; out[1] = r.lo; }",
                 "double nbk_probe_rising_power(double n, double m, double z) { return nbk_rising_power(n, m, z); }"]
    source = kernels.generated_text("c/nbkernels.c") + "\n" + "\n".join(wrappers) + "\n"
    return compile_c_source(source, "runtime_probe", kernels.generated_text("c/nbkernels.h"))


def _c_call(lib, name: str, *args: float) -> tuple[float, float]:
    out = (ctypes.c_double * 2)()
    getattr(lib, f"nbk_probe_{name}")(*(ctypes.c_double(a) for a in args), out)
    return out[0], out[1]


def _pairs(rng, n: int, lo: float, hi: float) -> list[tuple[float, float]]:
    """Normalised pairs (hi, lo), |lo| <= ulp(hi)/2, of magnitudes between lo and hi."""
    values = np.exp(rng.uniform(np.log(lo), np.log(hi), n)) * rng.choice([-1.0, 1.0], n)
    return [(float(v), float(v) * float(rng.uniform(-1, 1)) * 2.0**-54) for v in values]


def _exact(pair: tuple[float, float]) -> Fraction:
    return Fraction(pair[0]) + Fraction(pair[1])


def _numpy_pair(module, name: str, *pairs):
    arrays = [(np.array([p[0]]), np.array([p[1]])) for p in pairs]
    hi, lo = getattr(module, f"_{name}")(*arrays)
    return float(np.asarray(hi).ravel()[0]), float(np.asarray(lo).ravel()[0])


@pytest.mark.parametrize("name", sorted(_PAIR_OPS))
def test_pair_arithmetic_is_exact_to_2_to_the_minus_100(name, c_runtime):
    rng = np.random.default_rng(3)
    module = kernels.load("numpy")
    for a, b in zip(_pairs(rng, 200, 1e-20, 1e20), _pairs(rng, 200, 1e-20, 1e20), strict=True):
        if name == "dd_add_plain":
            b = (abs(b[0]) * np.sign(a[0]), abs(b[1]) * np.sign(a[0]))  # (same sign: where it is used)
        want = _PAIR_OPS[name](_exact(a), _exact(b))
        for got in (_c_call(c_runtime, name, *a, *b), _numpy_pair(module, name, a, b)):
            assert abs(_exact(got) - want) <= abs(want) * Fraction(1, 2**100), (name, a, b)
            assert abs(got[1]) <= abs(got[0]) * 2.0**-52, "not normalised"


@pytest.mark.parametrize("name", ["dd_sum", "dd_prod"])
def test_error_free_sum_and_product_are_exact(name, c_runtime):
    rng = np.random.default_rng(4)
    module = kernels.load("numpy")
    op = (lambda a, b: a + b) if name == "dd_sum" else (lambda a, b: a * b)
    values = np.exp(rng.uniform(-40, 40, (300, 2))) * rng.choice([-1.0, 1.0], (300, 2))
    for a, b in values:
        want = op(Fraction(float(a)), Fraction(float(b)))
        hi, lo = getattr(module, f"_{name}")(np.array([a]), np.array([b]))
        for got in (_c_call(c_runtime, name, a, b), (float(hi[0]), float(lo[0]))):
            assert Fraction(got[0]) + Fraction(got[1]) == want, (name, a, b)


_UNARY_DOMAIN = {"dd_recip": (1e-30, 1e30), "dd_neg": (1e-30, 1e30), "dd_log": (1e-300, 1e300),
                 "dd_log1pmx_series": (1e-30, 0.2499), "dd_psilog_series": (16.0, 1e30)}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_pair_functions_against_mpmath(name, c_runtime):
    rng = np.random.default_rng(5)
    module = kernels.load("numpy")
    lo, hi = _UNARY_DOMAIN[name]
    pairs = _pairs(rng, 150, lo, hi)
    if name in ("dd_log", "dd_psilog_series", "dd_recip"):
        pairs = [(abs(p[0]), abs(p[1]) if p[0] > 0 else -abs(p[1])) for p in pairs]
    with mpmath.workdps(150):  # (psi(z) - log z cancels ~30 digits at z = 1e30)
        for pair in pairs:
            x = mpmath.mpf(pair[0]) + mpmath.mpf(pair[1])
            want = _UNARY[name](x)
            for got in (_c_call(c_runtime, name, *pair), _numpy_pair(module, name, pair)):
                err = abs(mpmath.mpf(got[0]) + mpmath.mpf(got[1]) - want)
                assert err <= abs(want) * mpmath.mpf(2) ** -98, (name, pair, got)


def test_rising_power_against_exact_products(c_runtime):
    """m^n prod_{k<n} (1 + k/z) for the counts below SMALL_COUNT, within 2n ulps (n rounded factors)."""
    rng = np.random.default_rng(6)
    module = kernels.load("numpy")
    n = rng.integers(1, 16, 300).astype(float)
    m, z = np.exp(rng.uniform(-30, 30, 300)), np.exp(rng.uniform(np.log(0.1), 30, 300))
    got_numpy = module._rising_power(n, m, z)
    for i in range(n.size):
        want = Fraction(float(m[i])) ** int(n[i])
        for k in range(1, int(n[i])):
            want *= 1 + Fraction(k) / Fraction(float(z[i]))
        for value in (float(got_numpy[i]), _c_rising(c_runtime, n[i], m[i], z[i])):
            assert abs(Fraction(value) - want) <= want * Fraction(2 * int(n[i]), 2**52), (n[i], m[i], z[i])


def _c_rising(lib, n: float, m: float, z: float) -> float:
    function = lib.nbk_probe_rising_power
    function.restype = ctypes.c_double
    function.argtypes = [ctypes.c_double] * 3
    return function(n, m, z)
