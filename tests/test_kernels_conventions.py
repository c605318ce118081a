"""Conventions at the edges of the domain, input shapes and types, dispersion layouts: every backend.

Where scipy defines a value (invalid parameters -> NaN, impossible counts -> -inf, mu = 0 -> all mass at 0),
the expected value is checked against scipy first, then the kernels against it. Where scipy returns NaN only
because its formula breaks down (theta = +inf, mu = +inf, x = +inf), the kernels' documented value is the
limit, and the limit is checked against an independent evaluation (scipy's Poisson, or the derivation in
mpmath close to the edge).
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import sympy as sp

import derive
from derive.models.nb import oracle
from derive.spec import kernel_specs, reductions

NAN, INF = np.nan, np.inf
DPS = 50

SPECS = {s.name: s for s in kernel_specs()}
#: the NB kernels of a count, a mean and a dispersion (their dispersion layouts are tested below)
NB_KERNELS = [name for name, s in SPECS.items() if s.model == "nb" and "x" in s.input_names]
#: every kernel (and reduction) and how many inputs it takes
ARITY = {name: len(s.inputs) for name, s in SPECS.items()} | {name: len(s.inputs) for name, s in reductions().items()}
#: a valid argument tuple for each arity (x first: a count)
VALID_ARGS = {2: (3.0, 2.5), 3: (3.0, 2.5, 1.5)}


def scipy_nb_logpmf(x, mu, theta):
    mu, theta = np.float64(mu), np.float64(theta)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return st.nbinom.logpmf(x, theta, theta / (theta + mu))


def scipy_quiet(f, *args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args)


def assert_same(a, b, msg=""):
    """Equal values, NaN in the same places (both backends must give identical conventions)."""
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=msg)


def test_every_backend_exposes_every_kernel_of_the_registry(every_backend):
    for k in every_backend:
        assert set(k.names) == set(ARITY), k.backend
        assert all(callable(getattr(k, name)) for name in ARITY), k.backend


# ------------------------------------------------------------------------------------------------------
# Log-PMF conventions defined by scipy

NB_SCIPY_CASES = [  # (x, mu, theta, expected): scipy.stats.nbinom.logpmf gives `expected` too
    pytest.param(-1.0, 2.0, 3.0, -INF, id="x negative"),
    pytest.param(-0.5, 2.0, 3.0, -INF, id="x negative fraction"),
    pytest.param(1.5, 2.0, 3.0, -INF, id="x not an integer"),
    pytest.param(1e-9 + 2, 2.0, 3.0, -INF, id="x nearly an integer"),
    pytest.param(-INF, 2.0, 3.0, -INF, id="x -inf"),
    pytest.param(2.5, 0.0, 3.0, -INF, id="x not an integer, mu 0"),
    pytest.param(3.0, -1.0, 3.0, NAN, id="mu negative"),
    pytest.param(3.0, -INF, 3.0, NAN, id="mu -inf"),
    pytest.param(3.0, 2.0, 0.0, NAN, id="theta 0"),
    pytest.param(3.0, 2.0, -1.0, NAN, id="theta negative"),
    pytest.param(3.0, 2.0, -INF, NAN, id="theta -inf"),
    pytest.param(NAN, 2.0, 3.0, NAN, id="x NaN"),
    pytest.param(3.0, NAN, 3.0, NAN, id="mu NaN"),
    pytest.param(3.0, 2.0, NAN, NAN, id="theta NaN"),
    pytest.param(-1.0, -1.0, 3.0, NAN, id="invalid mu beats invalid x"),
    pytest.param(1.5, 2.0, 0.0, NAN, id="invalid theta beats invalid x"),
    pytest.param(-1.0, 2.0, NAN, NAN, id="NaN beats invalid x"),
    pytest.param(0.0, 0.0, 3.0, 0.0, id="mu 0, x 0"),
    pytest.param(0.0, -0.0, 3.0, 0.0, id="mu -0, x 0"),
    pytest.param(3.0, 0.0, 3.0, -INF, id="mu 0, x > 0"),
    pytest.param(0.0, 0.0, 0.0, NAN, id="mu 0, theta 0"),
    pytest.param(-0.0, 2.0, 3.0, None, id="x -0 is the count 0"),
]


@pytest.mark.parametrize(("x", "mu", "theta", "expected"), NB_SCIPY_CASES)
def test_nb_logpmf_conventions_match_scipy(numpy_kernels, c_kernels, x, mu, theta, expected):
    reference = scipy_nb_logpmf(x, mu, theta)
    if expected is None:  # a finite value: the kernels equal scipy's
        expected = reference
        assert np.isfinite(expected)
    else:
        assert_same(reference, expected, "scipy's own convention")
    for k in (numpy_kernels, c_kernels):
        got = k.nb_logpmf(x, mu, theta)
        np.testing.assert_allclose(got, expected, rtol=1e-13, err_msg=f"{k.backend} nb_logpmf{(x, mu, theta)}")
        # the log-mean kernels: log_mu = log(mu) (-inf for mu = 0; NaN for mu < 0, as numpy gives)
        with np.errstate(all="ignore"):
            log_mu = np.log(mu)
        got_logmu = k.nb_logpmf_logmu(x, log_mu, theta)
        np.testing.assert_allclose(got_logmu, expected, rtol=1e-13, err_msg=f"{k.backend} nb_logpmf_logmu")
        with np.errstate(all="ignore"):
            log_theta = np.log(theta)
        if not (theta <= 0):  # theta <= 0 has no log; the fused kernel cannot be given it
            nll = k.nb_nll_fused(x, log_mu, log_theta)[0]
            np.testing.assert_allclose(nll, -expected, rtol=1e-13, err_msg=f"{k.backend} nb_nll_fused[nll]")
    np.testing.assert_allclose(numpy_kernels.nb_logpmf(x, mu, theta), c_kernels.nb_logpmf(x, mu, theta), rtol=1e-13)


POISSON_SCIPY_CASES = [  # (x, mu, expected): scipy.stats.poisson.logpmf gives `expected` too
    pytest.param(-1.0, 2.0, -INF, id="x negative"),
    pytest.param(1.5, 2.0, -INF, id="x not an integer"),
    pytest.param(-INF, 2.0, -INF, id="x -inf"),
    pytest.param(3.0, -1.0, NAN, id="mu negative"),
    pytest.param(1.5, -1.0, NAN, id="invalid mu beats invalid x"),
    pytest.param(NAN, 2.0, NAN, id="x NaN"),
    pytest.param(3.0, NAN, NAN, id="mu NaN"),
    pytest.param(0.0, 0.0, 0.0, id="mu 0, x 0"),
    pytest.param(3.0, 0.0, -INF, id="mu 0, x > 0"),
    pytest.param(0.0, INF, -INF, id="mu inf, x 0"),
]


@pytest.mark.parametrize(("x", "mu", "expected"), POISSON_SCIPY_CASES)
def test_poisson_conventions_match_scipy(every_backend, x, mu, expected):
    assert_same(scipy_quiet(st.poisson.logpmf, x, mu), expected, "scipy's own convention")
    for k in every_backend:
        assert_same(k.poisson_logpmf(x, mu), expected, f"{k.backend} poisson_logpmf{(x, mu)}")
        # and the NB log-PMF at theta = +inf is that Poisson
        assert_same(k.nb_logpmf(x, mu, INF), expected, f"{k.backend} nb_logpmf{(x, mu, INF)}")


P_ZERO_SCIPY_CASES = [  # (mu, theta, expected): scipy.stats.nbinom.pmf(0, ...) gives `expected` too
    pytest.param(0.0, 2.0, 1.0, id="mu 0"),
    pytest.param(-1.0, 2.0, NAN, id="mu negative"),
    pytest.param(2.0, 0.0, NAN, id="theta 0"),
    pytest.param(2.0, -1.0, NAN, id="theta negative"),
    pytest.param(NAN, 2.0, NAN, id="mu NaN"),
    pytest.param(2.0, NAN, NAN, id="theta NaN"),
]


@pytest.mark.parametrize(("mu", "theta", "expected"), P_ZERO_SCIPY_CASES)
def test_p_zero_conventions_match_scipy(every_backend, mu, theta, expected):
    t = np.float64(theta)
    assert_same(scipy_quiet(st.nbinom.pmf, 0, t, t / (t + mu)), expected, "scipy's own convention")
    for k in every_backend:
        assert_same(k.nb_p_zero(mu, theta), expected, f"{k.backend} nb_p_zero{(mu, theta)}")


GAUSS_SCIPY_CASES = [  # (x, mu, sigma2, expected): scipy.stats.norm.logpdf(x, mu, sqrt(sigma2)) too
    pytest.param(0.0, 0.0, 0.0, NAN, id="sigma2 0"),
    pytest.param(0.0, 0.0, -1.0, NAN, id="sigma2 negative"),
    pytest.param(NAN, 0.0, 1.0, NAN, id="x NaN"),
    pytest.param(0.0, NAN, 1.0, NAN, id="mu NaN"),
    pytest.param(0.0, 0.0, NAN, NAN, id="sigma2 NaN"),
    pytest.param(INF, 0.0, 1.0, -INF, id="x inf"),
    pytest.param(0.0, -INF, 1.0, -INF, id="mu -inf"),
    pytest.param(0.0, 0.0, INF, -INF, id="sigma2 inf"),
    pytest.param(INF, INF, 1.0, NAN, id="x and mu inf"),
]


@pytest.mark.parametrize(("x", "mu", "sigma2", "expected"), GAUSS_SCIPY_CASES)
def test_gaussian_conventions_match_scipy(every_backend, x, mu, sigma2, expected):
    scale = np.sqrt(sigma2) if not sigma2 < 0 else -1.0
    assert_same(scipy_quiet(st.norm.logpdf, x, mu, scale), expected, "scipy's own convention")
    for k in every_backend:
        assert_same(k.gaussian_logpdf(x, mu, sigma2), expected, f"{k.backend} gaussian_logpdf{(x, mu, sigma2)}")
        if np.isnan(expected):
            assert_same(k.gaussian_nll_grad_mu(x, mu, sigma2), NAN, f"{k.backend} gaussian_nll_grad_mu")


# ------------------------------------------------------------------------------------------------------
# Limits where scipy's formula gives NaN: theta = +inf (Poisson), mu = +inf, x = +inf


@pytest.mark.parametrize("x", [0.0, 1.0, 3.0, 17.0, 250.0])
@pytest.mark.parametrize("mu", [0.0, 1e-3, 0.7, 12.0, 3e4])
def test_infinite_theta_is_scipy_poisson(any_backend, x, mu):
    expected = st.poisson.logpmf(x, mu)
    for k in (any_backend,):
        np.testing.assert_allclose(k.nb_logpmf(x, mu, INF), expected, rtol=1e-13, err_msg=k.backend)
        with np.errstate(divide="ignore"):
            log_mu = np.log(mu)
        np.testing.assert_allclose(k.nb_logpmf_logmu(x, log_mu, INF), st.poisson.logpmf(x, np.exp(log_mu)),
                                   rtol=1e-13, err_msg=k.backend)
        nll, grad_logmu, grad_logtheta = k.nb_nll_fused(x, log_mu, INF)
        np.testing.assert_allclose(nll, -st.poisson.logpmf(x, np.exp(log_mu)), rtol=1e-13, err_msg=k.backend)
        # d/d log_mu of (mu - x log mu + log x!) is mu - x; the Poisson does not depend on theta
        np.testing.assert_allclose(grad_logmu, np.exp(log_mu) - x, rtol=1e-13, atol=1e-300, err_msg=k.backend)
        assert grad_logtheta == 0.0, (
            f"BUG ({k.backend}): nb_nll_fused{(x, float(log_mu), INF)}[grad_logtheta] = {grad_logtheta}; "
            "the Poisson limit does not depend on theta, so 0 (as nb_nll_grad_logtheta gives)")
        np.testing.assert_allclose(k.nb_p_zero(mu, INF), st.poisson.pmf(0, mu), rtol=1e-13, err_msg=k.backend)
        if mu > 0:
            np.testing.assert_allclose(k.nb_nll_grad_mu(x, mu, INF), 1.0 - x / mu, rtol=1e-13, err_msg=k.backend)
            np.testing.assert_allclose(k.nb_nll_grad_logmu(x, log_mu, INF), np.exp(log_mu) - x, rtol=1e-13,
                                       err_msg=k.backend)
        assert k.nb_nll_grad_theta(x, mu, INF) == 0.0
        assert k.nb_nll_grad_logtheta(x, mu, INF) == 0.0
        # P(x = 0) = e^-mu there: its mu-slope -e^-mu, no theta; the Poisson loss's mu-slope 1 - x/mu
        np.testing.assert_allclose(k.nb_p_zero_grad_mu(mu, INF), -st.poisson.pmf(0, mu), rtol=1e-13,
                                   err_msg=k.backend)
        assert k.nb_p_zero_grad_theta(mu, INF) == 0.0
        if mu > 0:
            np.testing.assert_allclose(k.poisson_nll_grad_mu(x, mu), 1.0 - x / mu, rtol=1e-13, atol=1e-300,
                                       err_msg=k.backend)


def test_the_theta_gradient_vanishes_in_the_poisson_limit():
    """The kernels' 0 at theta = +inf is the limit of the derivation (evaluated in mpmath).

    The derivation's digamma difference cancels to ~1/theta^2: 100 digits leave ~50 at theta = 1e20.
    """
    grad_theta = _lambdify("nb.nll_grad_theta", ("x", "mu", "theta"))
    grad_logtheta = _lambdify("nb.nll_grad_logtheta", ("x", "mu", "lambda"))
    with mp.workdps(100):
        for x, mu in [(0, 0.5), (3, 2.0), (40, 7.5)]:
            for theta in (mp.mpf(10) ** 10, mp.mpf(10) ** 20):
                bound = ((x - mu) ** 2 + x + mu) / theta**2  # the order of the derivation's first term in 1/theta
                assert abs(grad_theta(mp.mpf(x), mp.mpf(mu), theta)) < bound
                assert abs(grad_logtheta(mp.mpf(x), mp.mpf(mu), mp.log(theta))) < theta * bound


@pytest.mark.parametrize("x", [0.0, 1.0, 5.0, 300.0])
@pytest.mark.parametrize("theta", [0.3, 4.0, INF])
def test_infinite_mu_has_no_mass_at_any_count(any_backend, x, theta):
    # scipy gives NaN at mu = inf; its log-PMF at large finite mu decreases without bound
    t = np.float64(theta)
    finite = [scipy_quiet(st.poisson.logpmf, x, m) if np.isinf(t) else scipy_nb_logpmf(x, m, t)
              for m in (1e50, 1e100, 1e200)]
    assert finite[0] > finite[1] > finite[2] and finite[2] < -100
    for k in (any_backend,):
        assert k.nb_logpmf(x, INF, theta) == -INF
        assert k.nb_logpmf_logmu(x, INF, theta) == -INF
        assert k.nb_nll_fused(x, INF, np.log(theta))[0] == INF
        assert k.poisson_logpmf(x, INF) == -INF
        assert k.nb_p_zero(INF, theta) == 0.0
        assert np.isnan(k.nb_nll_grad_theta(x, INF, theta))  # documented: nothing finite to differentiate
        # P(x = 0) and its slopes vanish as mu grows (in mpmath: like mu^-theta log mu, below 1e-80 at mu = 1e300
        # for these theta)
        assert k.nb_p_zero_grad_mu(INF, theta) == 0.0 and k.nb_p_zero_grad_theta(INF, theta) == 0.0
        assert k.poisson_nll_grad_mu(x, INF) == 1.0  # (mu - x)/mu -> 1
        if np.isfinite(t):
            for slope in (oracle.nb_p_zero_grad_mu, oracle.nb_p_zero_grad_theta):
                slopes = [abs(slope(mp.mpf(m), mp.mpf(theta))) for m in (1e50, 1e300)]
                assert slopes[1] < slopes[0] and slopes[1] < 1e-80


@pytest.mark.parametrize("theta", [0.5, 8.0, INF])
def test_infinite_count_has_probability_zero(any_backend, theta):
    # scipy gives NaN at x = inf; at large finite x its log-PMF decreases without bound
    t = np.float64(theta)
    finite = [scipy_quiet(st.poisson.logpmf, x, 3.0) if np.isinf(t) else scipy_nb_logpmf(x, 3.0, t)
              for x in (1e6, 1e12)]
    assert finite[0] > finite[1] and finite[1] < -1e6
    for k in (any_backend,):
        assert k.nb_logpmf(INF, 3.0, theta) == -INF
        assert k.nb_logpmf_logmu(INF, np.log(3.0), theta) == -INF
        assert k.poisson_logpmf(INF, 3.0) == -INF


# ------------------------------------------------------------------------------------------------------
# Gradient conventions, and the limits they state


def _lambdify(name: str, arg_names: tuple[str, ...]):
    e = derive.expr(name)
    by_name = {s.name: s for s in e.free_symbols}
    return sp.lambdify([by_name[a] for a in arg_names], e, modules="mpmath")


#: the NB gradient kernels (one output, a derivative)
GRADIENTS = [name for name in NB_KERNELS if SPECS[name].gradients and len(SPECS[name].outputs) == 1]


@pytest.mark.parametrize("name", GRADIENTS)
@pytest.mark.parametrize(("x", "mu", "theta"), [
    (-1.0, 2.0, 3.0), (1.5, 2.0, 3.0), (INF, 2.0, 3.0), (NAN, 2.0, 3.0), (3.0, NAN, 3.0), (3.0, 2.0, NAN),
    (3.0, 2.0, 0.0), (3.0, 2.0, -1.0), (3.0, -1.0, 3.0),
])
def test_gradients_are_nan_for_invalid_inputs(every_backend, name, x, mu, theta):
    if SPECS[name].input_names[1] == "log_mu":
        if mu < 0:
            return  # log_mu may be any real number
        mu = np.log(mu)
    for k in every_backend:
        assert np.isnan(getattr(k, name)(x, mu, theta)), (k.backend, name, x, mu, theta)


def test_grad_mu_at_mu_zero_is_the_limit_of_the_derivation(any_backend):
    derived = _lambdify("nb.nll_grad_mu", ("x", "mu", "theta"))
    with mp.workdps(DPS):
        tiny = mp.mpf(10) ** -30
        assert abs(derived(mp.mpf(0), tiny, mp.mpf(2)) - 1) < 1e-25
        assert derived(mp.mpf(3), tiny, mp.mpf(2)) < -1e29
    for k in (any_backend,):
        assert k.nb_nll_grad_mu(0.0, 0.0, 2.0) == 1.0
        assert k.nb_nll_grad_mu(3.0, 0.0, 2.0) == -INF


@pytest.mark.parametrize("x", [0.0, 4.0])
@pytest.mark.parametrize("theta", [0.2, 5.0])
def test_log_mean_gradient_limits(any_backend, x, theta):
    derived = _lambdify("nb.nll_grad_logmu", ("x", "eta", "theta"))
    with mp.workdps(DPS):
        at_plus_inf = derived(mp.mpf(x), mp.mpf(2000), mp.mpf(theta))
        at_minus_inf = derived(mp.mpf(x), mp.mpf(-2000), mp.mpf(theta))
    assert abs(at_plus_inf - theta) < 1e-300 and abs(at_minus_inf + x) < 1e-300
    for k in (any_backend,):
        assert k.nb_nll_grad_logmu(x, INF, theta) == theta  # bounded by theta (seed section 7.2)
        assert k.nb_nll_grad_logmu(x, -INF, theta) == -x
        # the theta it is given, e^log_theta (the C backend's own e^x is within an ulp of numpy's)
        assert abs(k.nb_nll_fused(x, INF, np.log(theta))[1] - np.exp(np.log(theta))) <= 2.0**-52 * theta
        # e^log_mu overflows above 709.78; the gradient is still theta (1 - x e^-log_mu)/(1 + theta e^-log_mu)
        wrong = []
        for log_mu in (700.0, 710.0, 800.0):
            expected = float(derived(x, log_mu, theta))
            for name, got in [("nb_nll_grad_logmu", k.nb_nll_grad_logmu(x, log_mu, theta)),
                              ("nb_nll_fused[grad_logmu]", k.nb_nll_fused(x, log_mu, np.log(theta))[1])]:
                if not abs(got - expected) <= 1e-13 * abs(expected):
                    wrong.append(f"{name} at x={x}, log_mu={log_mu}, theta={theta}: {got}, exact {expected}")
        assert not wrong, f"BUG ({k.backend}): " + "; ".join(wrong)


@pytest.mark.parametrize("x", [0.0, 1.0, 6.0])
def test_theta_gradients_at_mu_zero_are_the_derivation_at_mu_zero(any_backend, x):
    grad_theta = _lambdify("nb.nll_grad_theta", ("x", "mu", "theta"))
    for theta in (0.3, 2.0, 50.0):
        with mp.workdps(DPS):
            expected = float(grad_theta(mp.mpf(x), mp.mpf(0), mp.mpf(theta)))
        for k in (any_backend,):
            np.testing.assert_allclose(k.nb_nll_grad_theta(x, 0.0, theta), expected, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(k.nb_nll_grad_logtheta(x, 0.0, theta), theta * expected, rtol=1e-12,
                                       atol=1e-15)
            np.testing.assert_allclose(k.nb_nll_fused(x, -INF, np.log(theta))[2], theta * expected,
                                       rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------------------------------
# The fused kernel's conventions


@pytest.mark.parametrize(("x", "log_mu", "log_theta", "expected"), [
    pytest.param(NAN, 0.5, 0.5, (NAN, NAN, NAN), id="x NaN"),
    pytest.param(2.0, NAN, 0.5, (NAN, NAN, NAN), id="log_mu NaN"),
    pytest.param(2.0, 0.5, NAN, (NAN, NAN, NAN), id="log_theta NaN"),
    pytest.param(-1.0, 0.5, 0.5, (INF, NAN, NAN), id="x negative"),
    pytest.param(2.5, 0.5, 0.5, (INF, NAN, NAN), id="x not an integer"),
    pytest.param(0.0, -INF, 0.5, (0.0, 0.0, 0.0), id="mu 0, x 0"),
    pytest.param(3.0, -INF, 0.5, (INF, -3.0, None), id="mu 0, x > 0"),
])
def test_fused_conventions(every_backend, x, log_mu, log_theta, expected):
    results = [k.nb_nll_fused(x, log_mu, log_theta) for k in every_backend]
    assert_same(results[0], results[1], "numpy and C differ")
    for value, want in zip(results[0], expected, strict=True):
        if want is not None:
            assert_same(value, want)
    # the value is the log-PMF's convention, negated (scipy agrees: see the log-PMF tests)
    if not np.isnan(expected[0]):
        with np.errstate(all="ignore"):
            assert_same(results[0][0], -scipy_nb_logpmf(x, np.exp(log_mu), np.exp(log_theta)))


# ------------------------------------------------------------------------------------------------------
# Inputs where the exact result is finite but exp() of a log input under- or overflows, or x is huge


def mp_nll(x, mu, theta):
    return -(mp.loggamma(x + theta) - mp.loggamma(theta) - mp.loggamma(x + 1)
             + theta * mp.log(theta / (theta + mu)) + x * mp.log(mu / (theta + mu)))


@pytest.mark.parametrize(("x", "log_mu", "log_theta"), [
    (3.0, -700.0, 1.0), (3.0, -730.0, 1.0), (3.0, -745.0, 1.0), (3.0, -800.0, 1.0),
    (0.0, 1.0, -710.0), (3.0, 1.0, -710.0), (3.0, 1.0, -800.0), (0.0, 1.0, -800.0), (3.0, 750.0, 2.0),
])
def test_log_space_kernels_stay_finite_and_accurate_beyond_exp_range(any_backend, x, log_mu,
                                                                     log_theta):
    with mp.workdps(DPS):
        expected = float(mp_nll(mp.mpf(x), mp.exp(mp.mpf(log_mu)), mp.exp(mp.mpf(log_theta))))
    k = any_backend
    wrong = []
    nll = k.nb_nll_fused(x, log_mu, log_theta)[0]
    if not (np.isfinite(nll) and abs(nll - expected) <= 1e-12 * abs(expected) + 1e-300):
        wrong.append(f"nb_nll_fused{(x, log_mu, log_theta)}[nll] = {nll}, exact {expected}")
    if log_theta > -700:  # theta itself is representable: the log-mean kernel takes it directly
        value = k.nb_logpmf_logmu(x, log_mu, np.exp(log_theta))
        if not (np.isfinite(value) and abs(value + expected) <= 1e-12 * abs(expected) + 1e-300):
            wrong.append(f"nb_logpmf_logmu{(x, log_mu, float(np.exp(log_theta)))} = {value}, exact {-expected}")
    assert not wrong, f"BUG ({k.backend}): " + "; ".join(wrong)


@pytest.mark.parametrize("x", [1e15, 1e17, 1e18, 1e30, 1e300])
def test_huge_counts_have_a_finite_log_pmf(any_backend, x):
    mu, theta = 2.0, 3.0
    with mp.workdps(DPS):
        expected = -float(mp_nll(mp.mpf(x), mp.mpf(mu), mp.mpf(theta)))
    for k in (any_backend,):
        got = k.nb_logpmf(x, mu, theta)
        assert np.isfinite(got) and abs(got - expected) <= 1e-12 * abs(expected), (
            f"BUG ({k.backend}): nb_logpmf{(x, mu, theta)} = {got}, exact {expected} "
            f"(scipy: {scipy_nb_logpmf(x, mu, theta)})")


@pytest.mark.parametrize("mu", [1e15, 1e16, 1e20, 1e100, 1e300])
def test_huge_means_have_a_finite_poisson_log_pmf(any_backend, mu):
    wrong = []
    for x in (0.0, 1.0, 7.0):
        expected = st.poisson.logpmf(x, mu)  # x log(mu) - mu - log x!: no cancellation here
        for name, got in [("poisson_logpmf", any_backend.poisson_logpmf(x, mu)),
                          ("nb_logpmf(theta=inf)", any_backend.nb_logpmf(x, mu, INF))]:
            if not (np.isfinite(got) and abs(got - expected) <= 1e-12 * abs(expected)):
                wrong.append(f"{name}{(x, mu)} = {got}, scipy {expected}")
    assert not wrong, f"BUG ({any_backend.backend}): " + "; ".join(wrong)


def _mp_grad_theta(x, mu, theta):
    """d(-log p)/d theta from the log-PMF typed in mp_nll, at enough digits for the 1/theta^2 cancellation."""
    digits = 40 + 3 * max(0, int(mp.log10(theta)))
    with mp.workdps(digits):
        X, M, T = mp.mpf(x), mp.mpf(mu), mp.mpf(theta)
        value = -mp.log(T / (M + T)) + mp.digamma(T) - mp.digamma(T + X) - (M - X) / (M + T)
        return value, value * T


@pytest.mark.parametrize("theta", [1e15, 1e30, 1e60, 1e80, 1e99, 1e150, 1e300])
def test_theta_gradients_at_huge_theta_follow_the_derivation(any_backend, theta):
    """Huge theta is the Poisson limit approached: the gradients are tiny but have a sign and a size."""
    wrong = []
    for x, mu in [(0.0, 3.0), (5.0, 3.0), (40.0, 2.5)]:
        exact, exact_log = (float(v) for v in _mp_grad_theta(x, mu, theta))
        for name, got, want in [("nb_nll_grad_theta", any_backend.nb_nll_grad_theta(x, mu, theta), exact),
                                ("nb_nll_grad_logtheta", any_backend.nb_nll_grad_logtheta(x, mu, theta), exact_log),
                                ("nb_nll_fused[grad_logtheta]",
                                 any_backend.nb_nll_fused(x, np.log(mu), np.log(theta))[2], None)]:
            if want is None:  # the fused kernel sees e^log(theta), e^log(mu): compare with its own exact point
                t, m = float(np.exp(np.log(theta))), float(np.exp(np.log(mu)))
                want = float(_mp_grad_theta(x, m, t)[1])
            # 1e-300: results below the normal range may underflow
            if not (np.isfinite(got) and abs(got - want) <= 1e-12 * abs(want) + 1e-300):
                wrong.append(f"{name}({x}, {mu}, {theta:g}) = {got}, exact {want}")
    assert not wrong, f"BUG ({any_backend.backend}): " + "; ".join(wrong)


def test_extreme_dispersions_do_not_overflow(any_backend):
    """mu/theta or theta/mu beyond the double range, while the results are ordinary numbers."""
    k = any_backend
    wrong = []
    with mp.workdps(DPS):
        # x = 0, theta tiny, mu huge: log p = -theta log1p(mu/theta), a tiny negative number
        for mu, theta in [(1e12, 1e-300), (1e300, 1e-100)]:
            M, T = mp.mpf(mu), mp.mpf(theta)
            exact = float(-T * mp.log1p(M / T))
            for call, got, want in [(f"nb_logpmf(0, {mu:g}, {theta:g})", k.nb_logpmf(0.0, mu, theta), exact),
                                    (f"nb_p_zero({mu:g}, {theta:g})", k.nb_p_zero(mu, theta),
                                     float(mp.exp(-T * mp.log1p(M / T))))]:
                if not (np.isfinite(got) and abs(got - want) <= 1e-12 * abs(want)):
                    wrong.append(f"{call} = {got}, exact {want}")
        # theta huge (a stand-in for the Poisson): d/dlog_mu is theta (mu - x)/(theta + mu), about mu - x
        for x, mu, theta in [(1e12, 3.0, 1e300), (1e15, 1e4, 1e300)]:
            M, T = mp.mpf(mu), mp.mpf(theta)
            exact = float(T * (M - x) / (T + M))
            got = k.nb_nll_grad_logmu(x, np.log(mu), theta)
            if not (np.isfinite(got) and abs(got - exact) <= 1e-12 * abs(exact)):
                wrong.append(f"nb_nll_grad_logmu({x:g}, log {mu:g}, {theta:g}) = {got}, exact {exact}")
    assert not wrong, f"BUG ({k.backend}): " + "; ".join(wrong)


# ------------------------------------------------------------------------------------------------------
# Shapes and types


def _call(k, name, *args):
    result = getattr(k, name)(*args)
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", [n for n in ARITY if n != "nb_nll_sum_genes"])
def test_scalar_in_scalar_out(any_backend, name):
    for out in _call(any_backend, name, *VALID_ARGS[ARITY[name]]):
        assert np.ndim(out) == 0 and not isinstance(out, np.ndarray), (name, type(out))
        assert isinstance(out, np.float64) and np.isfinite(out)


@pytest.mark.parametrize("name", list(ARITY))
def test_integer_and_float32_inputs_give_float64_results(any_backend, name):
    n = ARITY[name]
    args64 = [np.array([[0.0, 1.0, 4.0], [2.0, 7.0, 30.0]]), np.array([[0.5, 2.0, 8.0], [1.0, 3.0, 0.25]]),
              np.array([[1.0, 3.0, 0.5], [2.0, 9.0, 4.0]])][:n]
    reference = _call(any_backend, name, *args64)
    counts = args64[0].astype(np.int64)
    variants = {
        "int64 counts": [counts, *args64[1:]],
        "int32 counts": [counts.astype(np.int32), *args64[1:]],
        "float32 everything": [a.astype(np.float32) for a in args64],
        "python lists": [a.tolist() for a in args64],
    }
    for label, args in variants.items():
        got = _call(any_backend, name, *args)
        expected = reference
        if label == "float32 everything":  # the float32 values, widened exactly, are the inputs
            expected = _call(any_backend, name, *[a.astype(np.float32).astype(np.float64) for a in args64])
        for g, e in zip(got, expected, strict=True):
            assert np.asarray(g).dtype == np.float64, (name, label)
            assert_same(g, e, f"{name} with {label}")


@pytest.mark.parametrize("name", [n for n in ARITY if n != "nb_nll_sum_genes"])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0)])
def test_empty_input_gives_empty_output(any_backend, name, shape):
    args = [np.zeros(shape)] + [np.full(shape, 1.5)] * (ARITY[name] - 1)
    for out in _call(any_backend, name, *args):
        assert isinstance(out, np.ndarray) and out.shape == shape and out.dtype == np.float64


@pytest.mark.parametrize("name", list(ARITY))
def test_shapes_that_do_not_broadcast_raise_numpys_value_error(any_backend, name):
    args = [np.zeros(3), np.ones(4), np.ones(3)][:ARITY[name]]
    with pytest.raises(ValueError):
        getattr(any_backend, name)(*args)
    args = [np.zeros((2, 3)), np.ones((3, 2)), np.ones((2, 3))][:ARITY[name]]
    with pytest.raises(ValueError):
        getattr(any_backend, name)(*args)


@pytest.mark.parametrize("name", [n for n in ARITY if n != "nb_nll_sum_genes"])
def test_broadcasting_follows_numpy(any_backend, name):
    rng = np.random.default_rng(7)
    shapes = [(4, 1, 3), (1, 5, 1), (5, 3)][:ARITY[name]]
    args = [rng.integers(0, 9, shapes[0]).astype(np.float64)]
    args += [rng.uniform(0.2, 9.0, s) for s in shapes[1:]]
    target = np.broadcast_shapes(*shapes)
    full = [np.broadcast_to(a, target) for a in args]
    outputs = _call(any_backend, name, *args)
    for i, out in enumerate(outputs):
        assert out.shape == target
        # element by element, with scalar calls
        for index in [(0, 0, 0), (3, 4, 2), (2, 1, 0)]:
            scalar = _call(any_backend, name, *(float(a[index]) for a in full))[i]
            assert_same(out[index], scalar, f"{name}{index}")


def test_non_contiguous_and_reversed_inputs(any_backend):
    rng = np.random.default_rng(8)
    x = rng.integers(0, 50, (6, 8)).astype(np.float64)
    mu = rng.uniform(0.1, 40.0, (8, 6))
    theta = rng.uniform(0.5, 20.0, 16)
    got = any_backend.nb_logpmf(x[:, ::-1], mu.T, theta[::2])
    expected = scipy_nb_logpmf(x[:, ::-1], mu.T, theta[::2])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# ------------------------------------------------------------------------------------------------------
# The summed loss: shapes


def test_summed_loss_reduces_the_last_axis_of_any_shape(any_backend):
    rng = np.random.default_rng(9)
    x = rng.integers(0, 30, (2, 3, 5)).astype(np.float64)
    mu = rng.uniform(0.1, 20.0, (2, 3, 5))
    theta = 1.7
    expected = -scipy_nb_logpmf(x, mu, theta).sum(axis=-1)
    got = any_backend.nb_nll_sum_genes(x, mu, theta)
    assert np.shape(got) == (2, 3), (
        f"BUG ({any_backend.backend}): nb_nll_sum_genes on (2, 3, 5) inputs returned shape {np.shape(got)}, "
        f"value {got}; expected the per-row sums of shape (2, 3)")
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 0), (0,)])
def test_summed_loss_over_no_genes_is_zero(any_backend, shape):
    try:
        got = any_backend.nb_nll_sum_genes(np.zeros(shape), 2.0, 3.0)
    except ValueError as error:
        pytest.fail(f"BUG ({any_backend.backend}): nb_nll_sum_genes on {shape} raised {error!r}; "
                    f"expected zeros of shape {shape[:-1]}")
    assert np.shape(got) == shape[:-1]
    assert_same(got, np.zeros(shape[:-1]), f"BUG ({any_backend.backend}): nb_nll_sum_genes on {shape} "
                                           f"returned {got!r}, expected zeros (an empty sum)")


def test_summed_loss_of_scalars_is_the_same_in_both_backends(every_backend):
    outcomes = []
    for k in every_backend:
        try:
            outcomes.append(("value", float(k.nb_nll_sum_genes(1.0, 2.0, 3.0))))
        except ValueError:
            outcomes.append(("ValueError", None))
    assert outcomes[0] == outcomes[1], (
        f"BUG: nb_nll_sum_genes(1.0, 2.0, 3.0) differs between backends: numpy {outcomes[0]}, C {outcomes[1]}")


# ------------------------------------------------------------------------------------------------------
# Dispersion layouts (seed section 6.2): shared theta, per-gene theta_g, theta per entry


@pytest.fixture(scope="module")
def layouts():
    rng = np.random.default_rng(10)
    cells, genes = 7, 11
    x = rng.integers(0, 60, (cells, genes)).astype(np.float64)
    mu = np.exp(rng.uniform(np.log(0.1), np.log(80.0), (cells, genes)))
    theta_g = np.exp(rng.uniform(np.log(0.3), np.log(50.0), genes))
    shared = 2.75
    return x, mu, theta_g, shared


@pytest.mark.parametrize("name", NB_KERNELS)
def test_dispersion_layouts_give_the_same_values(any_backend, layouts, name):
    x, mu, theta_g, shared = layouts
    _, mean, dispersion = SPECS[name].input_names
    second = np.log(mu) if mean == "log_mu" else mu
    to_theta = np.log if dispersion == "log_theta" else (lambda t: t)
    for theta in (shared, theta_g):
        per_entry = np.ascontiguousarray(np.broadcast_to(theta, x.shape))
        broadcast = _call(any_backend, name, x, second, to_theta(theta))
        full = _call(any_backend, name, x, second, to_theta(per_entry))
        for b, e in zip(broadcast, full, strict=True):
            assert b.shape == x.shape
            assert_same(b, e, f"{name}: theta {np.shape(theta)} against theta per entry")
    # and the per-gene layout is the per-gene value: column g uses theta_g[g]
    by_column = np.stack([_call(any_backend, name, x[:, g], second[:, g], to_theta(theta_g[g]))[0]
                          for g in range(x.shape[1])], axis=1)
    assert_same(_call(any_backend, name, x, second, to_theta(theta_g))[0], by_column)


def test_dispersion_layouts_of_the_summed_loss_and_log_pmf_match_scipy(any_backend, layouts):
    x, mu, theta_g, shared = layouts
    for theta in (shared, theta_g, np.broadcast_to(theta_g, x.shape).copy()):
        expected = scipy_nb_logpmf(x, mu, np.broadcast_to(theta, x.shape))
        np.testing.assert_allclose(any_backend.nb_logpmf(x, mu, theta), expected, rtol=1e-12)
        np.testing.assert_allclose(any_backend.nb_nll_sum_genes(x, mu, theta), -expected.sum(axis=1), rtol=1e-12)
