"""The mpmath oracle (derive/oracle.py, with the closed forms of derive/models/*/oracle.py) against independent
witnesses: scipy where it is reliable, high-precision finite differences for the gradients, and closed values
(geometric NB, Poisson limit asymptotics)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from mpmath import mp, mpf
from scipy import stats

from derive import oracle
from derive.models.gaussian import oracle as gaussian
from derive.models.nb import oracle as nb


@pytest.fixture(scope="module")
def typical() -> dict[str, np.ndarray]:
    """The typical regime (x 0-1000, mu 1e-2..1e3, theta 0.1..100), drawn here, independent of the harness."""
    rng = np.random.default_rng(12345)
    n = 200
    mu = np.exp(rng.uniform(np.log(1e-2), np.log(1e3), n))
    theta = np.exp(rng.uniform(np.log(0.1), np.log(100), n))
    return {"x": rng.integers(0, 1001, n).astype(float), "mu": mu, "theta": theta}


def test_nb_logpmf_matches_scipy_in_the_typical_regime(typical):
    x, mu, theta = typical["x"], typical["mu"], typical["theta"]
    expected = stats.nbinom.logpmf(x, n=theta, p=theta / (theta + mu))
    np.testing.assert_allclose(oracle.evaluate("nb_logpmf", x, mu, theta), expected, rtol=1e-12)


def test_nb_p_zero_matches_scipy_in_the_typical_regime(typical):
    mu, theta = typical["mu"], typical["theta"]
    expected = stats.nbinom.pmf(0, n=theta, p=theta / (theta + mu))
    np.testing.assert_allclose(oracle.evaluate("nb_p_zero", mu, theta), expected, rtol=1e-12)


def test_poisson_and_gaussian_match_scipy(typical):
    x, mu = typical["x"], typical["mu"]
    sigma2 = mu + mu**2 / typical["theta"]
    np.testing.assert_allclose(oracle.evaluate("poisson_logpmf", x, mu), stats.poisson.logpmf(x, mu), rtol=1e-12)
    np.testing.assert_allclose(oracle.evaluate("gaussian_logpdf", x, mu, sigma2),
                               stats.norm.logpdf(x, loc=mu, scale=np.sqrt(sigma2)), rtol=1e-12)


# --- gradients against high-precision finite differences of the log-PMF --------------------------------------

POINTS = [(0.0, 0.5, 2.0), (3.0, 2.5, 0.7), (250.0, 40.0, 12.0), (7.0, 1e-6, 0.05), (1000.0, 900.0, 1e-6),
          (12.0, 30.0, 1e6), (123456.0, 120000.0, 50.0)]


@pytest.mark.parametrize(("x", "mu", "theta"), POINTS)
def test_gradients_match_finite_differences(x, mu, theta):
    with mp.workdps(60):
        X, M, T = mpf(x), mpf(mu), mpf(theta)

        def nll(m: mpf, t: mpf) -> mpf:
            return -nb.nb_logpmf(X, m, t)

        d_mu = mpmath.diff(lambda m: nll(m, T), M)
        d_theta = mpmath.diff(lambda t: nll(M, t), T)
        d_logmu = mpmath.diff(lambda e: nll(mp.exp(e), T), mp.log(M))
        d_logtheta = mpmath.diff(lambda lam: nll(M, mp.exp(lam)), mp.log(T))
        checks = [
            (oracle.value("nb_nll_grad_mu", x, mu, theta), d_mu),
            (oracle.value("nb_nll_grad_theta", x, mu, theta), d_theta),
            (oracle.value("nb_nll_grad_logtheta", x, mu, theta), d_logtheta),
            (nb.nb_nll_grad_logmu(X, mp.log(M), T), d_logmu),
        ]
        for got, expected in checks:
            assert abs(got - expected) <= mpf(10) ** -25 * abs(expected), (got, expected)


def test_fused_is_the_three_separate_values():
    x, log_mu, log_theta = 17.0, 2.25, -0.75
    nll, g_mu, g_theta = oracle.value("nb_nll_fused", x, log_mu, log_theta)
    with mp.workdps(60):
        mu, theta = mp.exp(mpf(log_mu)), mp.exp(mpf(log_theta))
        assert abs(nll + nb.nb_logpmf(mpf(x), mu, theta)) < mpf(10) ** -40
        assert abs(g_mu - mu * nb.nb_nll_grad_mu(mpf(x), mu, theta)) < mpf(10) ** -40
        assert abs(g_theta - theta * nb.nb_nll_grad_theta(mpf(x), mu, theta)) < mpf(10) ** -40


def test_gaussian_and_mse_gradients_match_finite_differences():
    x, mu, sigma2, log_mu = 3.0, 2.5, 0.7, 1.5
    with mp.workdps(60):
        d_gauss = mpmath.diff(lambda m: -gaussian.gaussian_logpdf(mpf(x), m, mpf(sigma2)), mpf(mu))
        d_mse = mpmath.diff(lambda m: gaussian.mse(mpf(x), m), mpf(mu))
        d_mse_log = mpmath.diff(lambda e: gaussian.mse(mpf(x), mp.exp(e)), mpf(log_mu))
        assert abs(oracle.value("gaussian_nll_grad_mu", x, mu, sigma2) - d_gauss) < mpf(10) ** -30
        assert abs(oracle.value("mse_grad_mu", x, mu) - d_mse) < mpf(10) ** -30
        assert abs(oracle.value("mse_grad_logmu", x, log_mu) - d_mse_log) < mpf(10) ** -30


# --- closed values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mu", [1e-12, 0.3, 1.0, 7.5, 1e6])
def test_p_zero_at_theta_one_is_one_over_one_plus_mu(mu):
    with mp.workdps(60):
        assert abs(oracle.value("nb_p_zero", mu, 1.0) - 1 / (1 + mpf(mu))) < mpf(10) ** -50


@pytest.mark.parametrize(("x", "mu"), [(0.0, 0.5), (4.0, 3.0), (60.0, 1e-3), (500.0, 800.0)])
def test_theta_one_is_the_geometric_distribution(x, mu):
    """theta = 1: P(x) = (1/(1+mu)) (mu/(1+mu))^x."""
    with mp.workdps(60):
        m = mpf(mu)
        expected = x * mp.log(m) - (x + 1) * mp.log(1 + m)
        assert abs(oracle.value("nb_logpmf", x, mu, 1.0) - expected) < mpf(10) ** -45 * abs(expected)


def test_theta_two_closed_form():
    """theta = 2: P(x) = (x + 1) (2/(2+mu))^2 (mu/(2+mu))^x."""
    with mp.workdps(60):
        expected = mp.log(10) + 2 * mp.log(mpf(2) / 6) + 9 * mp.log(mpf(4) / 6)
        assert abs(oracle.value("nb_logpmf", 9.0, 4.0, 2.0) - expected) < mpf(10) ** -45


def test_poisson_limit_of_p_zero_and_logpmf():
    """theta -> infinity: P(0) -> exp(-mu), log-PMF -> Poisson, with O(1/theta) corrections."""
    mu, theta = 3.5, 1e30
    with mp.workdps(60):
        assert abs(oracle.value("nb_p_zero", mu, theta) - mp.exp(-mpf(mu))) < 1e-25
        assert abs(oracle.value("nb_logpmf", 6.0, mu, theta) - oracle.value("poisson_logpmf", 6.0, mu)) < 1e-25


@pytest.mark.parametrize("theta", [1e13, 1e30, 1e100])
@pytest.mark.parametrize(("x", "mu"), [(50.0, 40.0), (0.0, 3.0), (7.0, 7.0)])
def test_theta_gradient_in_the_poisson_limit_follows_its_asymptotics(x, mu, theta):
    """psi(x+t) - psi(t) = x/t - x(x-1)/(2t^2) + ..., log(1 + mu/t) = mu/t - mu^2/(2t^2) + ...: the first order
    cancels and d NLL/d theta = ((x - mu)^2 - x) / (2 theta^2) + O(theta^-3). The naive sum loses ~2 log10(theta)
    digits (200 at theta = 1e100, far beyond the default 60); the oracle's precision control must recover them."""
    with mp.workdps(60):
        expected = ((mpf(x) - mpf(mu)) ** 2 - x) / (2 * mpf(theta) ** 2)
        got = oracle.value("nb_nll_grad_theta", x, mu, theta)
        assert abs(got - expected) < 1e-10 * abs(expected)
        assert abs(got - oracle.value("nb_nll_grad_theta", x, mu, theta, dps=300)) < mpf(10) ** -30 * abs(got)


def test_simple_closed_values():
    assert oracle.value("poisson_logpmf", 0.0, 2.5) == -2.5
    with mp.workdps(60):
        assert abs(oracle.value("gaussian_logpdf", 1.5, 1.5, 1.0) + mp.log(2 * mp.pi) / 2) < mpf(10) ** -55
    assert oracle.value("mse", 3.0, 5.0) == 4
    assert oracle.value("mse_grad_mu", 3.0, 5.0) == 4
    assert oracle.value("gaussian_nll_grad_mu", 3.0, 5.0, 4.0) == 0.5


# --- condition numbers, against their closed forms -------------------------------------------------------


@pytest.mark.parametrize(("x", "log_mu", "theta"), [(3.0, 0.2, 2.0), (100.0, 4.5, 0.3), (0.0, -20.0, 5.0)])
def test_condition_of_the_log_mu_kernels(x, log_mu, theta):
    """f(eta): cond = max(|eta|, 1) |f'(eta)| / |f|, with f' = -theta (mu - x)/(theta + mu) for the log-PMF and
    theta mu (theta + x)/(theta + mu)^2 for its eta-gradient theta (mu - x)/(theta + mu)."""
    with mp.workdps(60):
        eta, t = mpf(log_mu), mpf(theta)
        mu = mp.exp(eta)
        scale = max(abs(eta), 1)
        logpmf = nb.nb_logpmf(mpf(x), mu, t)
        grad = t * (mu - x) / (t + mu)
        expected_logpmf = scale * abs(grad) / abs(logpmf)
        expected_grad = scale * abs(t * mu * (t + x) / (t + mu) ** 2) / abs(grad)
        expected_mse = scale * abs(2 * mu - x) / abs(mu - x)
    assert oracle.condition("nb_logpmf_logmu", x, log_mu, theta) == pytest.approx(float(expected_logpmf), rel=1e-9)
    assert oracle.condition("nb_nll_grad_logmu", x, log_mu, theta) == pytest.approx(float(expected_grad), rel=1e-9)
    assert oracle.condition("mse_grad_logmu", x, log_mu) == pytest.approx(float(expected_mse), rel=1e-9)


def test_condition_of_p_zero_is_the_exponent():
    mu, theta = 1e5, 20.0
    expected = theta * np.log1p(mu / theta)
    assert oracle.condition("nb_p_zero", mu, theta) == pytest.approx(expected, rel=1e-12)


def test_exact_inputs_have_no_condition_allowance():
    assert oracle.condition("nb_logpmf", 10.0, 3.0, 2.0) == 0
    assert oracle.condition("nb_nll_grad_theta", 10.0, 3.0, 2.0) == 0


def test_fused_condition_sums_both_log_inputs():
    """nll(eta, lambda): cond = max(|eta|,1)|d nll/d eta|/|nll| + max(|lambda|,1)|d nll/d lambda|/|nll|."""
    x, log_mu, log_theta = 5.0, 2.0, -3.0
    nll, g_mu, g_theta = oracle.value("nb_nll_fused", x, log_mu, log_theta)
    expected = (2 * abs(g_mu) + 3 * abs(g_theta)) / abs(nll)
    assert oracle.condition("nb_nll_fused", x, log_mu, log_theta)[0] == pytest.approx(float(expected), rel=1e-9)


# --- the vectorised interface ------------------------------------------------------------------------------


def test_to_float64_rounds_to_nearest():
    with mp.workdps(60):
        just_below = mpf(0.1) - mpf(10) ** -30
        assert oracle.to_float64(just_below) == 0.1
        assert oracle.to_float64(mpf(1) / 3) == 1 / 3


def test_evaluate_broadcasts_and_returns_float64():
    values = oracle.evaluate("nb_logpmf", np.array([[0.0], [5.0]]), np.array([1.0, 2.0, 3.0]), 2.0)
    assert values.shape == (2, 3) and values.dtype == np.float64
    fused = oracle.evaluate("nb_nll_fused", np.array([0.0, 5.0]), np.array([0.0, 1.0]), 0.5)
    assert len(fused) == 3 and all(v.shape == (2,) for v in fused)
    assert np.all(fused[0] > 0)  # an NLL: the PMF is below 1
