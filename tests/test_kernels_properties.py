"""Property tests (hypothesis) over valid and invalid inputs: every backend agrees with the first, conventions hold.

* The class of every result (NaN, +-inf, finite) follows rules written out here from the spec's conventions,
  in every backend, for inputs that mix valid values, edge values (0, inf) and invalid ones (NaN, negative,
  fractional counts).
* On valid inputs every backend equals the reference backend (the first, numpy): log-densities to 1e-13 relative;
  gradients to 1e-13 relative plus what rounding the inputs by a few ulps may change (the exact function's sensitivity,
  computed from the derivation in mpmath), since near a zero of a gradient no relative bound can hold.
* Array calls, with any broadcasting, equal element-by-element scalar calls.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from conftest import loaded
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import derive
from derive.kernels import backends
from derive.spec import kernel_specs, spec

#: The backend the others are compared with.
REFERENCE = backends()[0]

EPS = 2.0**-53
#: derandomized: the same examples on every run (reproducible failures); fixtures are session/module scoped
COMMON = {"deadline": None, "derandomize": True, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
SETTINGS = settings(max_examples=150, **COMMON)

# ------------------------------------------------------------------------------------------------------
# Strategies

valid_counts = st.one_of(st.integers(0, 10**6).map(float),
                         st.sampled_from([0.0, -0.0, 1.0, 15.0, 16.0, 17.0, 127.0, 128.0, 1023.0, 1024.0, 1e9]))
bad_counts = st.one_of(st.sampled_from([-1.0, -0.5, 0.5, 2.5, 1e-300, math.inf, -math.inf, math.nan]),
                       st.floats(-1e6, 1e6).filter(lambda v: v != math.floor(v)),
                       st.integers(-10**6, -1).map(float))
counts = st.one_of(valid_counts, bad_counts)
finite_means = st.floats(1e-8, 1e8)
means = st.one_of(finite_means, st.sampled_from([0.0, math.inf, -1.0, -1e-300, -math.inf, math.nan]))
finite_thetas = st.floats(1e-6, 1e12)
thetas = st.one_of(finite_thetas, st.sampled_from([math.inf, 0.0, -0.0, -1.0, -math.inf, math.nan]))
log_means = st.one_of(st.floats(-600.0, 600.0), st.sampled_from([math.inf, -math.inf, math.nan]))
log_thetas = st.one_of(st.floats(-13.0, 27.0), st.sampled_from([math.inf, math.nan]))


def is_count(x: float) -> bool:
    return math.isfinite(x) and x >= 0 and x == math.floor(x)


def kind(v) -> str:
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "+inf" if v > 0 else "-inf"
    return "finite"


def assert_kinds(results: dict, expected: str, label: str) -> None:
    for backend, value in results.items():
        assert kind(value) == expected, f"{label}: {backend} gave {value}, expected {expected}"


# ------------------------------------------------------------------------------------------------------
# Conventions, as rules


def expected_logpmf_kind(x, mu, theta) -> str | float:
    if math.isnan(x) or math.isnan(mu) or math.isnan(theta) or mu < 0 or theta <= 0:
        return "nan"
    if not is_count(x):
        return "-inf"
    if mu == 0:
        return 0.0 if x == 0 else "-inf"
    if math.isinf(mu):
        return "-inf"
    return "finite"


def convention_cases(test):
    """Hypothesis over counts, means and dispersions, always including the edge cases of the conventions."""
    edges = [(0.0, 0.0, 2.0), (3.0, 0.0, 2.0), (0.0, math.inf, 1.0), (3.0, math.inf, math.inf), (3.0, 2.0, math.inf),
             (0.0, 2.0, math.inf), (2.5, 2.0, 3.0), (-1.0, -1.0, 3.0)]
    for x, mu, theta in reversed(edges):
        test = example(x=x, mu=mu, theta=theta)(test)
    return SETTINGS(given(x=counts, mu=means, theta=thetas)(test))


@convention_cases
def test_log_pmf_conventions(every_backend, x, mu, theta):
    expected = expected_logpmf_kind(x, mu, theta)
    results = {k.backend: k.nb_logpmf(x, mu, theta) for k in every_backend}
    with np.errstate(all="ignore"):
        log_mu = np.log(mu)
    logmu_results = {k.backend: k.nb_logpmf_logmu(x, log_mu, theta) for k in every_backend}
    for label, res in (("nb_logpmf", results), ("nb_logpmf_logmu", logmu_results)):
        if isinstance(expected, float):
            assert all(v == expected for v in res.values()), (label, x, mu, theta, res)
        else:
            assert_kinds(res, expected, f"{label}{(x, mu, theta)}")
        if expected == "finite":
            for v in res.values():
                assert v <= 0.0, f"{label}{(x, mu, theta)} = {v} > 0: a probability above 1"
    if expected == "finite":
        assert_as_the_reference(results, f"nb_logpmf{(x, mu, theta)}")
        assert_as_the_reference(logmu_results, f"nb_logpmf_logmu{(x, log_mu, theta)}")
        # mu and e^log(mu) differ by rounding only
        np.testing.assert_allclose(logmu_results[REFERENCE], results[REFERENCE], rtol=1e-10)
    # Poisson at theta = +inf, and the Poisson kernel's own conventions
    poisson_expected = expected_logpmf_kind(x, mu, math.inf)
    poisson = {k.backend: k.poisson_logpmf(x, mu) for k in every_backend}
    if isinstance(poisson_expected, float):
        assert all(v == poisson_expected for v in poisson.values())
    else:
        assert_kinds(poisson, poisson_expected, f"poisson_logpmf{(x, mu)}")
    for k in every_backend:
        assert np.array_equal(poisson[k.backend], k.nb_logpmf(x, mu, math.inf), equal_nan=True), k.backend


@convention_cases
def test_gradient_conventions(every_backend, x, mu, theta):
    invalid = any(math.isnan(v) for v in (x, mu, theta)) or mu < 0 or theta <= 0 or not is_count(x)
    backends = every_backend
    grad_mu = {k.backend: k.nb_nll_grad_mu(x, mu, theta) for k in backends}
    grad_theta = {k.backend: k.nb_nll_grad_theta(x, mu, theta) for k in backends}
    grad_logtheta = {k.backend: k.nb_nll_grad_logtheta(x, mu, theta) for k in backends}
    if invalid:
        for name, res in (("grad_mu", grad_mu), ("grad_theta", grad_theta), ("grad_logtheta", grad_logtheta)):
            assert_kinds(res, "nan", f"{name}{(x, mu, theta)}")
        return
    if mu == 0:
        assert all(v == (1.0 if x == 0 else -math.inf) for v in grad_mu.values()), grad_mu
    else:
        # at mu = +inf the derivation theta (mu - x)/(mu (mu + theta)) tends to 0 (to 1 - x/mu -> 1 for the
        # Poisson): finite, as it was before rho = (mu - x)/mu (inf/inf) was introduced
        assert_kinds(grad_mu, "finite", f"BUG: grad_mu{(x, mu, theta)}")
    if math.isinf(mu):
        assert_kinds(grad_theta, "nan", f"grad_theta{(x, mu, theta)}")
    elif math.isinf(theta):
        assert all(v == 0.0 for v in (*grad_theta.values(), *grad_logtheta.values())), (grad_theta, grad_logtheta)
    else:
        assert_kinds(grad_theta, "finite", f"grad_theta{(x, mu, theta)}")
        assert_kinds(grad_logtheta, "finite", f"grad_logtheta{(x, mu, theta)}")


@SETTINGS
@given(x=counts, log_mu=log_means, theta=thetas)
def test_log_mean_gradient_conventions(every_backend, x, log_mu, theta):
    res = {k.backend: k.nb_nll_grad_logmu(x, log_mu, theta) for k in every_backend}
    label = f"nb_nll_grad_logmu{(x, log_mu, theta)}"
    if any(math.isnan(v) for v in (x, log_mu, theta)) or theta <= 0 or not is_count(x):
        assert_kinds(res, "nan", label)
    elif log_mu == math.inf:
        assert all(v == theta for v in res.values()), (label, res)  # the bound theta (seed section 7.2)
    elif log_mu == -math.inf:
        assert all(v == -x for v in res.values()), (label, res)
    elif math.isinf(theta):
        assert_kinds(res, "finite", label)  # Poisson: e^log_mu - x, finite below log_mu = 709
        for v in res.values():
            np.testing.assert_allclose(v, math.exp(log_mu) - x, rtol=1e-13, atol=1e-300)
    else:
        assert_kinds(res, "finite", label)
        # bounded: between -x and theta (it is theta (mu - x)/(theta + mu))
        for v in res.values():
            assert -x * (1 + 1e-15) <= v <= theta * (1 + 1e-15), (label, v)


@SETTINGS
@given(x=counts, log_mu=log_means, log_theta=log_thetas)
@example(x=0.0, log_mu=-math.inf, log_theta=0.5)
@example(x=3.0, log_mu=-math.inf, log_theta=0.5)
@example(x=3.0, log_mu=math.inf, log_theta=0.5)
@example(x=3.0, log_mu=1.0, log_theta=math.inf)
@example(x=0.0, log_mu=-math.inf, log_theta=math.inf)
@example(x=2.5, log_mu=1.0, log_theta=1.0)
@example(x=3.0, log_mu=600.0, log_theta=20.0)
def test_fused_conventions(every_backend, x, log_mu, log_theta):
    results = {k.backend: k.nb_nll_fused(x, log_mu, log_theta) for k in every_backend}
    label = f"nb_nll_fused{(x, log_mu, log_theta)}"
    for out in results.values():
        assert len(out) == 3 and all(np.ndim(v) == 0 for v in out)
    if any(math.isnan(v) for v in (x, log_mu, log_theta)):
        for out in results.values():
            assert all(kind(v) == "nan" for v in out), (label, out)
        return
    if not is_count(x):
        for out in results.values():
            assert (kind(out[0]), kind(out[1]), kind(out[2])) == ("+inf", "nan", "nan"), (label, out)
        return
    nll = {b: out[0] for b, out in results.items()}
    if log_mu == math.inf or (log_mu == -math.inf and x > 0):
        assert_kinds(nll, "+inf", label)
    elif log_mu == -math.inf:
        assert all(v == 0.0 for v in nll.values()), (label, nll)
    else:
        assert_kinds(nll, "finite", label)
        assert all(v >= 0.0 for v in nll.values()), (label, nll)  # -log of a probability
        assert_as_the_reference(nll, label)
        # the value is the log-mean kernel's, negated
        theta = math.exp(log_theta)
        for k in every_backend:
            np.testing.assert_allclose(nll[k.backend], -k.nb_logpmf_logmu(x, log_mu, theta), rtol=1e-13)
        for out in results.values():
            assert all(math.isfinite(v) for v in out[1:]), (label, out)


@SETTINGS
@given(mu=means, theta=thetas)
def test_p_zero_conventions(every_backend, mu, theta):
    res = {k.backend: k.nb_p_zero(mu, theta) for k in every_backend}
    if math.isnan(mu) or math.isnan(theta) or mu < 0 or theta <= 0:
        assert_kinds(res, "nan", f"nb_p_zero{(mu, theta)}")
        return
    for v in res.values():
        assert 0.0 <= v <= 1.0, (mu, theta, v)
    if mu == 0:
        assert all(v == 1.0 for v in res.values())
    for name, value in res.items():
        assert_p_zero_close(value, res[REFERENCE], f"nb_p_zero{(mu, theta)} in {name}")


def assert_p_zero_close(value, reference, label):
    """p0 = exp(log p0): an error of 1e-13 relative in log p0 is one of 1e-13 |log p0| relative in p0."""
    with np.errstate(divide="ignore"):
        scale = max(1.0, abs(float(np.log(reference))) if reference > 0 else 1.0)
    assert value == reference or abs(value - reference) <= 1e-13 * scale * abs(reference), (label, value, reference)


def assert_as_the_reference(results: dict, label: str, rtol: float = 1e-13, atol: float = 0.0) -> None:
    """Every backend's result (by backend name) equals the reference backend's to rtol (plus atol)."""
    for name, value in results.items():
        np.testing.assert_allclose(value, results[REFERENCE], rtol=rtol, atol=atol, err_msg=f"{label} in {name}")


@SETTINGS
@given(x=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.nan, math.inf])),
       mu=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.nan])),
       sigma2=st.one_of(st.floats(1e-6, 1e6), st.sampled_from([0.0, -1.0, math.nan, math.inf])))
def test_gaussian_and_mse_conventions(every_backend, x, mu, sigma2):
    backends = every_backend
    logpdf = {k.backend: k.gaussian_logpdf(x, mu, sigma2) for k in backends}
    grad = {k.backend: k.gaussian_nll_grad_mu(x, mu, sigma2) for k in backends}
    if math.isnan(x) or math.isnan(mu) or math.isnan(sigma2) or sigma2 <= 0:
        assert_kinds(logpdf, "nan", "gaussian_logpdf")
        assert_kinds(grad, "nan", "gaussian_nll_grad_mu")
    elif math.isfinite(x) and math.isfinite(sigma2):
        assert_as_the_reference(logpdf, f"gaussian_logpdf{(x, mu, sigma2)}", atol=1e-13)
        assert all(v == grad[REFERENCE] for v in grad.values()), grad
    for k in backends:
        if math.isfinite(x) and math.isfinite(mu):
            assert k.mse(x, mu) == (x - mu) ** 2 and k.mse_grad_mu(x, mu) == 2 * mu - 2 * x


# ------------------------------------------------------------------------------------------------------
# Every backend equals the reference on valid inputs, with an allowance for the conditioning of the exact function


def _lambdify(name: str, args: tuple[str, ...]):
    e = derive.expr(name)
    by_name = {s.name: s for s in e.free_symbols}
    return sp.lambdify([by_name[a] for a in args], e, modules="mpmath")


@pytest.fixture(scope="module")
def derived():
    return {"theta": _lambdify("nb.nll_grad_theta", ("x", "mu", "theta")),
            "logmu": _lambdify("nb.nll_grad_logmu", ("x", "eta", "theta"))}


def _sensitivity(f, point, relative: tuple[bool, ...]) -> float:
    """sum_i |d f/d p_i| * (|p_i| if relative[i] else 1): the change of f under unit (relative) input errors."""
    total = mp.mpf(0)
    for i, rel in enumerate(relative):
        orders = tuple(1 if j == i else 0 for j in range(len(point)))
        d = mp.diff(f, point, orders)
        total += abs(d) * (abs(point[i]) if rel else 1)
    return float(total)


def assert_close_or_within_conditioning(value, reference, allowance: float, label: str) -> None:
    assert math.isfinite(value) and math.isfinite(reference), (label, value, reference)
    assert abs(value - reference) <= 1e-13 * abs(reference) + allowance, (
        f"{label}: {value!r} vs the reference's {reference!r}, difference {abs(value - reference):.3g}, "
        f"allowed {1e-13 * abs(reference) + allowance:.3g}")


@pytest.fixture(scope="session", params=backends()[1:])
def other_backend(request):
    """Each backend but the reference, in turn."""
    return loaded(request.param)


@pytest.fixture(scope="session")
def reference_backend():
    return derive.kernels.load(REFERENCE)


@settings(max_examples=120, **COMMON)
@given(x=st.integers(0, 10**5).map(float), mu=st.floats(1e-6, 1e6), theta=st.floats(1e-4, 1e10))
def test_backends_equal_the_reference_on_valid_inputs(reference_backend, other_backend, derived, x, mu, theta):
    ref, other = reference_backend, other_backend
    for name in ("nb_logpmf", "nb_nll_grad_mu"):
        np.testing.assert_allclose(getattr(other, name)(x, mu, theta), getattr(ref, name)(x, mu, theta), rtol=1e-13,
                                   err_msg=f"{name}{(x, mu, theta)}")
    np.testing.assert_allclose(other.poisson_logpmf(x, mu), ref.poisson_logpmf(x, mu), rtol=1e-13)
    assert_p_zero_close(other.nb_p_zero(mu, theta), ref.nb_p_zero(mu, theta), f"nb_p_zero{(mu, theta)}")
    log_mu, log_theta = math.log(mu), math.log(theta)
    np.testing.assert_allclose(other.nb_logpmf_logmu(x, log_mu, theta), ref.nb_logpmf_logmu(x, log_mu, theta),
                               rtol=1e-13)
    fused_other, fused_ref = other.nb_nll_fused(x, log_mu, log_theta), ref.nb_nll_fused(x, log_mu, log_theta)
    np.testing.assert_allclose(fused_other[0], fused_ref[0], rtol=1e-13)

    with mp.workdps(60):
        X = mp.mpf(x)
        g_theta = derived["theta"]
        g_logmu = derived["logmu"]
        # inputs given directly are exact; exp() of a log input is rounded (relative error ~ eps per input)
        s_theta = _sensitivity(lambda m, t: g_theta(X, m, t), (mp.mpf(mu), mp.mpf(theta)), (True, True))
        s_logtheta = _sensitivity(lambda m, t: t * g_theta(X, m, t), (mp.mpf(mu), mp.mpf(theta)), (True, True))
        s_logmu = _sensitivity(lambda e: g_logmu(X, e, mp.mpf(theta)), (mp.mpf(log_mu),), (False,))
        s_fused_logmu = _sensitivity(lambda e, lt: g_logmu(X, e, mp.exp(lt)), (mp.mpf(log_mu), mp.mpf(log_theta)),
                                     (False, False))
        s_fused_logtheta = _sensitivity(lambda e, lt: mp.exp(lt) * g_theta(X, mp.exp(e), mp.exp(lt)),
                                        (mp.mpf(log_mu), mp.mpf(log_theta)), (False, False))
    k = 8 * EPS  # a few ulps of input error: the backends' exp/log1p/digamma differ in the last bits
    assert_close_or_within_conditioning(other.nb_nll_grad_theta(x, mu, theta), ref.nb_nll_grad_theta(x, mu, theta),
                                        k * s_theta, f"nb_nll_grad_theta{(x, mu, theta)}")
    assert_close_or_within_conditioning(other.nb_nll_grad_logtheta(x, mu, theta),
                                        ref.nb_nll_grad_logtheta(x, mu, theta), k * s_logtheta,
                                        f"nb_nll_grad_logtheta{(x, mu, theta)}")
    assert_close_or_within_conditioning(other.nb_nll_grad_logmu(x, log_mu, theta),
                                        ref.nb_nll_grad_logmu(x, log_mu, theta), k * s_logmu,
                                        f"nb_nll_grad_logmu{(x, log_mu, theta)}")
    assert_close_or_within_conditioning(fused_other[1], fused_ref[1], k * s_fused_logmu,
                                        f"nb_nll_fused{(x, log_mu, log_theta)}[grad_logmu]")
    assert_close_or_within_conditioning(fused_other[2], fused_ref[2], k * s_fused_logtheta,
                                        f"nb_nll_fused{(x, log_mu, log_theta)}[grad_logtheta]")


# ------------------------------------------------------------------------------------------------------
# Array calls equal scalar calls, under any broadcasting

ELEMENTS = st.one_of(st.integers(0, 300).map(float), st.floats(0.01, 500.0),
                     st.sampled_from([0.0, math.inf, math.nan, -1.0, 2.5]))


@settings(max_examples=60, **COMMON)
@given(data=st.data(), name=st.sampled_from([s.name for s in kernel_specs()]))
def test_array_calls_equal_scalar_calls(every_backend, data, name):
    arity = len(spec(name).inputs)
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=arity, min_dims=0, max_dims=3, max_side=4))
    arrays = [data.draw(hnp.arrays(np.float64, s, elements=ELEMENTS)) for s in shapes.input_shapes]
    target = shapes.result_shape
    for k in every_backend:
        out = getattr(k, name)(*arrays)
        outputs = out if isinstance(out, tuple) else (out,)
        for o in outputs:
            assert np.shape(o) == target and np.asarray(o).dtype == np.float64
        full = [np.broadcast_to(a, target) for a in arrays]
        for index in np.ndindex(*target):
            scalar = getattr(k, name)(*(float(a[index]) for a in full))
            scalars = scalar if isinstance(scalar, tuple) else (scalar,)
            for o, s in zip(outputs, scalars, strict=True):
                np.testing.assert_allclose(np.asarray(o)[index], s, rtol=1e-14, atol=0,
                                           err_msg=f"{k.backend} {name} {index} of {target}")
    reference = getattr(every_backend[0], name)(*arrays)
    for k in every_backend[1:]:
        out = getattr(k, name)(*arrays)
        for a, b in zip(out if isinstance(out, tuple) else (out,),
                        reference if isinstance(reference, tuple) else (reference,), strict=True):
            assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(np.isinf(a), np.isinf(b)), k.backend


def test_backends_equal_the_reference_on_a_broad_sample(reference_backend, other_backend):
    """Log-densities, the Poisson, p0, the summed loss and d/dmu over wide ranges, to 1e-13 relative."""
    reference, other = reference_backend, other_backend
    rng = np.random.default_rng(12)
    n = 200_000
    x = np.floor(np.exp(rng.uniform(0.0, np.log(1e6), n))) - 1.0
    mu = np.exp(rng.uniform(np.log(1e-8), np.log(1e8), n))
    theta = np.exp(rng.uniform(np.log(1e-6), np.log(1e12), n))
    log_mu, log_theta = np.log(mu), np.log(theta)
    pairs = {
        "nb_logpmf": (x, mu, theta), "nb_logpmf_logmu": (x, log_mu, theta), "nb_nll_grad_mu": (x, mu, theta),
        "poisson_logpmf": (x, mu), "gaussian_logpdf": (x, mu, theta), "gaussian_nll_grad_mu": (x, mu, theta),
        "mse": (x, mu), "mse_grad_mu": (x, mu),
    }
    for name, args in pairs.items():
        np.testing.assert_allclose(getattr(other, name)(*args), getattr(reference, name)(*args), rtol=1e-13,
                                   err_msg=name)
    np.testing.assert_allclose(other.nb_nll_fused(x, log_mu, log_theta)[0],
                               reference.nb_nll_fused(x, log_mu, log_theta)[0], rtol=1e-13, err_msg="fused nll")
    rows = (x.reshape(-1, 500), mu.reshape(-1, 500), theta.reshape(-1, 500))
    np.testing.assert_allclose(other.nb_nll_sum_genes(*rows), reference.nb_nll_sum_genes(*rows), rtol=1e-13)
    p_other, p_ref = other.nb_p_zero(mu, theta), reference.nb_p_zero(mu, theta)
    with np.errstate(divide="ignore", invalid="ignore"):  # (p = 0: scale inf, inf * 0 in the bound, p_other == p_ref)
        scale = np.maximum(1.0, np.abs(np.log(p_ref)))
        assert np.all((p_other == p_ref) | (np.abs(p_other - p_ref) <= 1e-13 * scale * p_ref)), "nb_p_zero"
