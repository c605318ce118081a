"""Every generated kernel, in every backend, against independent references.

* values against scipy (``nbinom.logpmf`` with n = theta, p = theta/(theta+mu); ``poisson.logpmf``;
  ``norm.logpdf``) in moderate ranges where scipy's own evaluation is accurate (rtol 1e-12);
* gradients against the plain derivations (``derive.expr``) evaluated in mpmath at 50 digits, against
  mpmath-precision numerical derivatives of the log-PMF typed below, and against high-order finite
  differences of the kernels' own log-PMF in float64 (loose tolerance: it checks that value and gradient
  kernels belong together);
* the loss summed over genes against ``nb.loss_total`` (a SymPy Sum) expanded for a small G and evaluated in
  mpmath, and against scipy.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import sympy as sp

import derive
from derive.symbols import MU as MU_BASE
from derive.symbols import THETA as THETA_BASE
from derive.symbols import G as G_SYM
from derive.symbols import X as X_BASE

DPS = 50
RTOL = 1e-12
EPS = 2.0**-53
SEED = 20240611


def moderate_sample(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x in 0..200, mu in [0.1, 100], theta in [0.5, 100] (log-uniform), plus the corners of that box."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 201, n).astype(np.float64)
    mu = np.exp(rng.uniform(np.log(0.1), np.log(100.0), n))
    theta = np.exp(rng.uniform(np.log(0.5), np.log(100.0), n))
    corners = np.array([(cx, cm, ct) for cx in (0.0, 1.0, 200.0) for cm in (0.1, 100.0) for ct in (0.5, 100.0)])
    return (np.concatenate([x, corners[:, 0]]), np.concatenate([mu, corners[:, 1]]),
            np.concatenate([theta, corners[:, 2]]))


def scipy_nb_logpmf(x, mu, theta):
    return st.nbinom.logpmf(x, theta, theta / (theta + mu))


@pytest.fixture(scope="module")
def sample():
    return moderate_sample(4000)


@pytest.fixture(scope="module")
def small_sample():
    """Fewer points, for references evaluated one by one in mpmath."""
    return moderate_sample(250, seed=SEED + 1)


# ------------------------------------------------------------------------------------------------------
# Values against scipy


def test_nb_logpmf_matches_scipy(any_backend, sample):
    x, mu, theta = sample
    np.testing.assert_allclose(any_backend.nb_logpmf(x, mu, theta), scipy_nb_logpmf(x, mu, theta), rtol=RTOL)


def test_nb_logpmf_logmu_matches_scipy(any_backend, sample):
    x, mu, theta = sample
    log_mu = np.log(mu)
    expected = scipy_nb_logpmf(x, np.exp(log_mu), theta)
    np.testing.assert_allclose(any_backend.nb_logpmf_logmu(x, log_mu, theta), expected, rtol=RTOL)


def test_fused_nll_matches_scipy(any_backend, sample):
    x, mu, theta = sample
    log_mu, log_theta = np.log(mu), np.log(theta)
    nll, _, _ = any_backend.nb_nll_fused(x, log_mu, log_theta)
    np.testing.assert_allclose(nll, -scipy_nb_logpmf(x, np.exp(log_mu), np.exp(log_theta)), rtol=RTOL)


def test_nb_p_zero_matches_scipy(any_backend, sample):
    _, mu, theta = sample
    got = any_backend.nb_p_zero(mu, theta)
    # scipy's pmf goes through Boost's ibeta_derivative (measured up to 7e-13 off here); exp of its log-PMF at
    # 0 is accurate to ~1e-14 in this range, so it is the 1e-12 reference, and pmf a looser second one.
    np.testing.assert_allclose(got, np.exp(st.nbinom.logpmf(0, theta, theta / (theta + mu))), rtol=RTOL)
    np.testing.assert_allclose(got, st.nbinom.pmf(0, theta, theta / (theta + mu)), rtol=1e-11)


def test_poisson_logpmf_matches_scipy(any_backend, sample):
    x, mu, _ = sample
    np.testing.assert_allclose(any_backend.poisson_logpmf(x, mu), st.poisson.logpmf(x, mu), rtol=RTOL)


def test_nb_logpmf_at_infinite_theta_is_scipy_poisson(any_backend, sample):
    x, mu, _ = sample
    expected = st.poisson.logpmf(x, mu)
    np.testing.assert_allclose(any_backend.nb_logpmf(x, mu, np.inf), expected, rtol=RTOL)
    np.testing.assert_allclose(any_backend.nb_logpmf_logmu(x, np.log(mu), np.inf),
                               st.poisson.logpmf(x, np.exp(np.log(mu))), rtol=RTOL)
    nll, _, _ = any_backend.nb_nll_fused(x, np.log(mu), np.inf)
    np.testing.assert_allclose(nll, -st.poisson.logpmf(x, np.exp(np.log(mu))), rtol=RTOL)
    np.testing.assert_allclose(any_backend.nb_p_zero(mu, np.inf), st.poisson.pmf(0, mu), rtol=RTOL)


def test_gaussian_logpdf_matches_scipy(any_backend):
    rng = np.random.default_rng(SEED + 2)
    x = rng.uniform(-100.0, 100.0, 4000)
    mu = rng.uniform(-100.0, 100.0, 4000)
    sigma2 = np.exp(rng.uniform(np.log(0.01), np.log(100.0), 4000))
    np.testing.assert_allclose(any_backend.gaussian_logpdf(x, mu, sigma2), st.norm.logpdf(x, mu, np.sqrt(sigma2)),
                               rtol=RTOL, atol=1e-14)


def test_mse_kernels_are_their_closed_forms(any_backend):
    rng = np.random.default_rng(SEED + 3)
    x = rng.integers(0, 1000, 2000).astype(np.float64)
    mu = np.exp(rng.uniform(-5.0, 7.0, 2000))
    log_mu = np.log(mu)
    np.testing.assert_allclose(any_backend.mse(x, mu), (x - mu) ** 2, rtol=1e-15)
    np.testing.assert_allclose(any_backend.mse_grad_mu(x, mu), 2.0 * (mu - x), rtol=1e-15)
    e = np.exp(log_mu)
    # exp() may differ by an ulp between libm and numpy; the result can lose digits to mu - x cancellation.
    np.testing.assert_allclose(any_backend.mse_grad_logmu(x, log_mu), 2.0 * e * (e - x), rtol=1e-15,
                               atol=1e-15 * np.max(2.0 * e * (e + x)))


# ------------------------------------------------------------------------------------------------------
# Gradients against the plain derivations, evaluated in mpmath


def _lambdify(name: str, arg_names: tuple[str, ...]):
    e = derive.expr(name)
    by_name = {s.name: s for s in e.free_symbols}
    assert set(by_name) == set(arg_names), (name, by_name)
    return sp.lambdify([by_name[a] for a in arg_names], e, modules="mpmath")


@pytest.fixture(scope="module")
def derived_gradients(small_sample):
    """The plain derivations at the sample's exact double inputs, to 50 digits, rounded once."""
    x, mu, theta = small_sample
    log_mu, log_theta = np.log(mu), np.log(theta)
    grad_mu = _lambdify("nb.nll_grad_mu", ("x", "mu", "theta"))
    grad_logmu = _lambdify("nb.nll_grad_logmu", ("x", "eta", "theta"))
    grad_theta = _lambdify("nb.nll_grad_theta", ("x", "mu", "theta"))
    grad_logtheta = _lambdify("nb.nll_grad_logtheta", ("x", "mu", "lambda"))
    out = {k: [] for k in ("mu", "logmu", "theta", "logtheta", "fused_logmu", "fused_logtheta")}
    with mp.workdps(DPS):
        for xi, mi, ti, lmi, lti in zip(x, mu, theta, log_mu, log_theta, strict=True):
            X, M, T, LM, LT = (mp.mpf(float(v)) for v in (xi, mi, ti, lmi, lti))
            out["mu"].append(grad_mu(X, M, T))
            out["logmu"].append(grad_logmu(X, LM, T))
            out["theta"].append(grad_theta(X, M, T))
            out["logtheta"].append(grad_logtheta(X, M, mp.log(T)))
            # the fused kernel takes (log_mu, log_theta): the exact point is (e^log_mu, e^log_theta)
            out["fused_logmu"].append(grad_logmu(X, LM, mp.exp(LT)))
            out["fused_logtheta"].append(grad_logtheta(X, mp.exp(LM), LT))
    return {k: np.array([float(v) for v in vals]) for k, vals in out.items()}


def test_gradients_match_the_derivations_in_mpmath(any_backend, small_sample, derived_gradients):
    x, mu, theta = small_sample
    log_mu, log_theta = np.log(mu), np.log(theta)
    ref = derived_gradients
    np.testing.assert_allclose(any_backend.nb_nll_grad_mu(x, mu, theta), ref["mu"], rtol=RTOL,
                               err_msg="nb_nll_grad_mu")
    np.testing.assert_allclose(any_backend.nb_nll_grad_logmu(x, log_mu, theta), ref["logmu"], rtol=RTOL,
                               err_msg="nb_nll_grad_logmu")
    np.testing.assert_allclose(any_backend.nb_nll_grad_theta(x, mu, theta), ref["theta"], rtol=RTOL,
                               err_msg="nb_nll_grad_theta")
    np.testing.assert_allclose(any_backend.nb_nll_grad_logtheta(x, mu, theta), ref["logtheta"], rtol=RTOL,
                               err_msg="nb_nll_grad_logtheta")
    _, fused_logmu, fused_logtheta = any_backend.nb_nll_fused(x, log_mu, log_theta)
    np.testing.assert_allclose(fused_logmu, ref["fused_logmu"], rtol=RTOL, err_msg="nb_nll_fused[grad_logmu]")
    np.testing.assert_allclose(fused_logtheta, ref["fused_logtheta"], rtol=RTOL,
                               err_msg="nb_nll_fused[grad_logtheta]")


# ------------------------------------------------------------------------------------------------------
# Gradients against numerical derivatives of the log-PMF written out here


def mp_nb_logpmf(x, mu, theta):
    """log NB(x | mu, theta), typed from the textbook form (no code from the package)."""
    return (mp.loggamma(x + theta) - mp.loggamma(theta) - mp.loggamma(x + 1)
            + theta * mp.log(theta / (theta + mu)) + x * mp.log(mu / (theta + mu)))


FD_POINTS = [  # (x, mu, theta): every regime of the log-PMF kernel (x = 0, small counts, deviance form)
    (0, 0.3, 2.0), (0, 50.0, 0.7), (1, 0.1, 0.5), (3, 2.5, 1.5), (7, 7.0, 30.0), (15, 4.0, 0.05),
    (16, 20.0, 3.0), (40, 35.5, 100.0), (120, 90.0, 8.0), (200, 0.5, 0.6), (5, 60.0, 1e4), (500, 480.0, 2e5),
]


@pytest.mark.parametrize(("x", "mu", "theta"), FD_POINTS)
def test_gradients_match_mpmath_derivatives_of_the_log_pmf(any_backend, x, mu, theta):
    lmu, ltheta = float(np.log(mu)), float(np.log(theta))
    with mp.workdps(DPS):
        X, M, T = mp.mpf(x), mp.mpf(mu), mp.mpf(theta)
        # kernels given log_mu / log_theta see the rounded logs: their exact point is e^(rounded log)
        FLM, FLT = mp.mpf(lmu), mp.mpf(ltheta)

        def nll(e, lt):
            return -mp_nb_logpmf(X, mp.exp(e), mp.exp(lt))

        def d(f, point, orders):
            return float(mp.diff(f, point, orders))

        at = (FLM, FLT)
        exact = {
            "nb_nll_grad_mu": (float(-mp.diff(lambda m: mp_nb_logpmf(X, m, T), M)), 0.0),
            "nb_nll_grad_theta": (float(-mp.diff(lambda t: mp_nb_logpmf(X, M, t), T)), 0.0),
            # a kernel given log_mu must round e^log_mu: allow the change of the exact gradient under a
            # relative change of mu of 2 ulps (the gradient is 0 at x = mu, where no relative bound holds)
            "nb_nll_grad_logmu": (d(lambda e: nll(e, mp.log(T)), FLM, 1),
                                  2 * EPS * abs(d(lambda e: nll(e, mp.log(T)), FLM, 2))),
            "nb_nll_grad_logtheta": (d(lambda lt: nll(mp.log(M), lt), mp.log(T), 1), 0.0),
            "nb_nll_fused[nll]": (float(nll(FLM, FLT)), 0.0),
            "nb_nll_fused[grad_logmu]": (d(nll, at, (1, 0)),
                                         2 * EPS * (abs(d(nll, at, (2, 0))) + abs(d(nll, at, (1, 1))))),
            "nb_nll_fused[grad_logtheta]": (d(nll, at, (0, 1)),
                                            2 * EPS * (abs(d(nll, at, (1, 1))) + abs(d(nll, at, (0, 2))))),
        }
    k = any_backend
    fused = k.nb_nll_fused(x, lmu, ltheta)
    got = {
        "nb_nll_grad_mu": k.nb_nll_grad_mu(x, mu, theta),
        "nb_nll_grad_theta": k.nb_nll_grad_theta(x, mu, theta),
        "nb_nll_grad_logmu": k.nb_nll_grad_logmu(x, lmu, theta),
        "nb_nll_grad_logtheta": k.nb_nll_grad_logtheta(x, mu, theta),
        "nb_nll_fused[nll]": fused[0], "nb_nll_fused[grad_logmu]": fused[1], "nb_nll_fused[grad_logtheta]": fused[2],
    }
    for name, (value, allowance) in exact.items():
        # 1e-30: mp.diff's own error at 50 digits (the gradients are exactly 0 at x = mu)
        np.testing.assert_allclose(got[name], value, rtol=RTOL, atol=allowance + 1e-30,
                                   err_msg=f"{name} at {(x, mu, theta)}")


def _fd5(f, p, h):
    """Fourth-order central difference f'(p), a bound of its rounding error, and its truncation error h^4 f^(5)/30,
    estimated from the same difference at 2h (whose truncation is 16 times as large, so D(2h) - D(h) is 15 times
    D(h)'s). Where the derivative is ~0 (x = mu) the truncation is most of the difference's error."""

    def difference(step):
        values = [f(p + k * step) for k in (-2, -1, 1, 2)]
        return (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * step), max(abs(v) for v in values)

    derivative, largest = difference(h)
    coarse, _ = difference(2 * h)
    rounding = 18 * 2.0**-52 * largest / (12 * h)
    return derivative, rounding, abs(coarse - derivative) / 15


@pytest.mark.parametrize(("x", "mu", "theta"), FD_POINTS)
def test_gradients_match_float64_finite_differences_of_the_kernels_log_pmf(any_backend, x, mu, theta):
    k = any_backend
    lmu, ltheta = np.log(mu), np.log(theta)
    nll_mu = lambda m: -float(k.nb_logpmf(x, m, theta))  # noqa: E731
    nll_theta = lambda t: -float(k.nb_logpmf(x, mu, t))  # noqa: E731
    nll_logmu = lambda e: -float(k.nb_logpmf_logmu(x, e, theta))  # noqa: E731
    nll_logtheta = lambda lt: -float(k.nb_logpmf(x, mu, np.exp(lt)))  # noqa: E731
    nll_fused_logmu = lambda e: float(k.nb_nll_fused(x, e, ltheta)[0])  # noqa: E731
    nll_fused_logtheta = lambda lt: float(k.nb_nll_fused(x, lmu, lt)[0])  # noqa: E731
    fused = k.nb_nll_fused(x, lmu, ltheta)
    cases = {
        "nb_nll_grad_mu": (nll_mu, mu, 1e-3 * mu, k.nb_nll_grad_mu(x, mu, theta)),
        "nb_nll_grad_theta": (nll_theta, theta, 1e-3 * theta, k.nb_nll_grad_theta(x, mu, theta)),
        "nb_nll_grad_logmu": (nll_logmu, lmu, 1e-3, k.nb_nll_grad_logmu(x, lmu, theta)),
        "nb_nll_grad_logtheta": (nll_logtheta, ltheta, 1e-3, k.nb_nll_grad_logtheta(x, mu, theta)),
        "nb_nll_fused[grad_logmu]": (nll_fused_logmu, lmu, 1e-3, fused[1]),
        "nb_nll_fused[grad_logtheta]": (nll_fused_logtheta, ltheta, 1e-3, fused[2]),
    }
    for name, (f, p, h, got) in cases.items():
        fd, rounding, truncation = _fd5(f, p, h)
        assert abs(got - fd) <= 1e-6 * abs(fd) + 10 * rounding + 2 * truncation + 1e-300, (
            name, (x, mu, theta), got, fd, rounding, truncation)


def _mp_gauss_logpdf(x, mu, s2):
    return -mp.log(2 * mp.pi * s2) / 2 - (x - mu) ** 2 / (2 * s2)


@pytest.mark.parametrize(("x", "mu", "s2"), [(0.0, 1.5, 0.25), (-3.0, 40.0, 7.0), (12.5, 12.0, 1e-3),
                                             (1e3, 2e3, 5e4)])
def test_gaussian_and_mse_gradients_match_mpmath_derivatives(any_backend, x, mu, s2):
    log_mu = float(np.log(mu))
    with mp.workdps(DPS):
        X, M, S = mp.mpf(x), mp.mpf(mu), mp.mpf(s2)
        d_gauss = -mp.diff(lambda m: _mp_gauss_logpdf(X, m, S), M)
        d_mse = mp.diff(lambda m: (X - m) ** 2, M)
        d_mse_log = mp.diff(lambda e: (X - mp.exp(e)) ** 2, mp.mpf(log_mu))
    np.testing.assert_allclose(any_backend.gaussian_nll_grad_mu(x, mu, s2), float(d_gauss), rtol=RTOL)
    np.testing.assert_allclose(any_backend.gaussian_logpdf(x, mu, s2), float(_mp_gauss_logpdf(X, M, S)), rtol=RTOL)
    np.testing.assert_allclose(any_backend.mse_grad_mu(x, mu), float(d_mse), rtol=RTOL)
    # e^log_mu is rounded once: allow 2 ulps of mu in d/dlog_mu (2 mu (mu - x)), i.e. 2 eps * 2 mu (2 mu - x)
    allowance = 2 * EPS * abs(2 * mu * (2 * mu - x))
    np.testing.assert_allclose(any_backend.mse_grad_logmu(x, log_mu), float(d_mse_log), rtol=RTOL, atol=allowance)


# ------------------------------------------------------------------------------------------------------
# The loss summed over genes


def _loss_total_mpmath(x, mu, theta) -> float:
    """derive.expr('nb.loss_total') (a Sum over g = 1..G) expanded for G = len(x), evaluated at 50 digits."""
    n = len(x)
    total = derive.expr("nb.loss_total").subs(G_SYM, n).doit()
    values = {}
    for i in range(n):
        values[X_BASE[i + 1]] = sp.Integer(int(x[i]))
        values[MU_BASE[i + 1]] = sp.Float(float(mu[i]), DPS)
        values[THETA_BASE[i + 1]] = sp.Float(float(theta[i]), DPS)
    expanded = total.xreplace(values)
    assert not expanded.free_symbols, expanded.free_symbols
    return float(expanded.evalf(DPS))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summed_loss_equals_loss_total(any_backend, seed):
    rng = np.random.default_rng(seed)
    genes = 6
    x = rng.integers(0, 60, genes).astype(np.float64)
    x[0] = 0.0
    mu = np.exp(rng.uniform(np.log(0.1), np.log(100.0), genes))
    theta = np.exp(rng.uniform(np.log(0.05), np.log(1e3), genes))
    exact = _loss_total_mpmath(x, mu, theta)
    summed = any_backend.nb_nll_sum_genes(x[None, :], mu[None, :], theta[None, :])
    assert np.shape(summed) == (1,)
    np.testing.assert_allclose(summed[0], exact, rtol=1e-13)
    np.testing.assert_allclose(-np.sum(any_backend.nb_logpmf(x, mu, theta)), exact, rtol=1e-13)
    np.testing.assert_allclose(any_backend.nb_nll_sum_genes(x, mu, theta), exact, rtol=1e-13)


def test_summed_loss_over_a_cells_by_genes_matrix_matches_scipy(any_backend):
    rng = np.random.default_rng(SEED + 4)
    cells, genes = 50, 300
    x = rng.integers(0, 201, (cells, genes)).astype(np.float64)
    mu = np.exp(rng.uniform(np.log(0.1), np.log(100.0), (cells, genes)))
    theta = np.exp(rng.uniform(np.log(0.5), np.log(100.0), genes))
    expected = -scipy_nb_logpmf(x, mu, theta).sum(axis=1)
    got = any_backend.nb_nll_sum_genes(x, mu, theta)
    assert got.shape == (cells,)
    np.testing.assert_allclose(got, expected, rtol=RTOL)
