"""Kernels at the zeros of what they compute: where their O(1) terms cancel, the relative error must still hold.

The theta-gradient -[psi(x+theta) - psi(theta) + log(theta/(theta+mu)) + (mu-x)/(theta+mu)] changes sign twice in
mu for every count x >= 2 (it is largest at mu = x); the Gaussian log-density is zero where the density is 1. The
roots are found here with mpmath (root finding on the textbook closed forms, written out in this file: an oracle
independent of derive), rounded to the nearest double and to a few doubles around it, and the kernels must meet
issue 4's goal there (inputs are exact doubles: no condition-number allowance), in both backends. These are the
hardest inputs: the exact result is about 2^-53 of the terms it is the difference of.

theta runs from 0.05 to 1e60. Below 10 (derive.models.nb.kernels.ASYMPTOTIC_THETA) the kernels' two parts near the
zero are refined by ScoreTheta; from 10 on they use the asymptotic split (GradThetaLead + Log1pmx4 + PsilogDiffR),
refined by ScoreThetaAsymptotic from a form whose precision does not depend on theta. At theta = 1e20 and 1e60 the
zeros of the counts 1 and 16 are within an ulp of exact squares (mu = x -+ sqrt(x)), where GradThetaLead's leading
terms vanish exactly: its expanded form (and, beyond theta = 1e50, its 1/theta^3 term) is what meets the goal there.
The exact values take more digits as theta grows (the closed form cancels up to ~3 log10(theta) digits more):
``_digits``.
nb_nll_fused shares these kernels' regimes but takes log mu: its rounded exp(log_mu) is not at the zero, so it is
measured by ``derive accuracy`` (with the condition-number allowance), not here.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from derive import oracle

GRADIENT_GOAL = 1e-13
VALUE_GOAL = 1e-14
#: Enough digits for a result ~1e-17 of its terms, to 30 digits more (at theta <= 1; see _digits).
DIGITS = 80
#: Doubles on either side of the rounded root (0 is the nearest double itself).
NEIGHBOURS = (-3, -1, 0, 1, 3)


def score(x, mu, theta):
    """d log p / d theta, the textbook closed form (the kernels return minus this)."""
    return mp.digamma(x + theta) - mp.digamma(theta) + mp.log(theta / (theta + mu)) + (mu - x) / (theta + mu)


def gaussian_logpdf(x, mu, sigma2):
    return -mp.log(2 * mp.pi * sigma2) / 2 - (x - mu) ** 2 / (2 * sigma2)


def _nearby_doubles(root: mp.mpf) -> list[float]:
    """The double nearest to ``root`` and its neighbours at the offsets NEIGHBOURS (in ulps)."""
    nearest = mp.libmp.to_float(mp.mpf(root)._mpf_, rnd=mp.libmp.round_nearest)
    out = []
    for k in NEIGHBOURS:
        v = nearest
        for _ in range(abs(k)):
            v = math.nextafter(v, math.copysign(math.inf, k))
        out.append(v)
    return out


def _digits(theta: float) -> int:
    """DIGITS, plus what the closed form cancels at large theta: digammas ~ log theta against a score ~ x/theta^2, and
    ~ 1/theta^3 where x = (x - mu)^2 exactly."""
    return DIGITS + 3 * max(0, math.ceil(math.log10(theta)))


def _score_roots(x: int, theta: float) -> list[mp.mpf]:
    """The zeros of the score in mu: one below x (x >= 2), one above; the score is largest at mu = x."""
    t = mp.mpf(theta)

    def f(m):
        return score(x, m, t)

    brackets = [(mp.mpf(x) * mp.mpf("1e-12"), mp.mpf(x))] if x >= 2 else []
    high = mp.mpf(2 * x + 1)
    while f(high) > 0:
        high *= 2
    brackets.append((mp.mpf(x), high))
    roots = []
    for bracket in brackets:
        low, high = bracket  # bisection in log mu to ~15 digits, then the secant method
        negative_at_low = f(low) < 0
        for _ in range(60):
            middle = mp.sqrt(low * high)
            if (f(middle) < 0) == negative_at_low:
                low = middle
            else:
                high = middle
        root = mp.findroot(f, mp.sqrt(low * high))
        assert bracket[0] < root < bracket[1] and abs(f(root)) < mp.mpf(10) ** (20 - mp.mp.dps), (x, theta, root)
        roots.append(root)
    return roots


THETAS = (0.05, 0.3, 1.1, 3.7, 9.5, 9.99, 10.0, 13.08, 25.0, 1e3, 1e6, 1e12, 1e20, 1e60)
COUNTS = (1, 2, 5, 13, 16, 40, 373, 5000, 389514)


@pytest.fixture(scope="module")
def score_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, mu, theta, exact score) at the doubles around every root, for every (theta, x)."""
    xs, mus, thetas, exact = [], [], [], []
    for theta in THETAS:
        with mp.workdps(_digits(theta)):
            for x in COUNTS:
                for root in _score_roots(x, theta):
                    for mu in _nearby_doubles(root):
                        if mu > 0:
                            xs.append(float(x))
                            mus.append(mu)
                            thetas.append(theta)
                            exact.append(score(mp.mpf(x), mp.mpf(mu), mp.mpf(theta)))
    assert len(xs) > 400
    return (np.array(xs), np.array(mus), np.array(thetas), np.array(exact, dtype=object))


def _relative_errors(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    with mp.workdps(DIGITS):
        return np.array([float(abs((mp.mpf(float(g)) - e) / e)) for g, e in zip(got, exact, strict=True)])


def _report(err: np.ndarray, goal: float, *inputs: np.ndarray) -> str:
    worst = np.argsort(-err)[:3]
    return "; ".join(f"inputs {tuple(float(a[i]) for a in inputs)}: rel err {err[i]:.2e}" for i in worst
                     if err[i] > goal)


def test_the_cases_are_at_the_zeros(score_cases):
    """The exact scores are tiny next to their terms (psi(x+theta) - psi(theta) alone is O(1/theta) or O(1))."""
    x, mu, theta, exact = score_cases
    with mp.workdps(_digits(max(THETAS))):
        terms = np.array([float(mp.digamma(mp.mpf(a) + t) - mp.digamma(t)) for a, t in zip(x, theta, strict=True)])
    ratios = np.abs(exact.astype(float)) / terms
    assert np.median(ratios) < 1e-14


@pytest.mark.parametrize("kernel", ["nb_nll_grad_theta", "nb_nll_grad_logtheta"])
def test_theta_gradient_meets_the_goal_at_its_zeros(any_backend, score_cases, kernel):
    x, mu, theta, exact = score_cases
    want = -exact * theta if kernel == "nb_nll_grad_logtheta" else -exact
    got = np.asarray(getattr(any_backend, kernel)(x, mu, theta), dtype=np.float64)
    err = _relative_errors(got, want)
    assert np.all(err <= GRADIENT_GOAL), _report(err, GRADIENT_GOAL, x, mu, theta)


SIGMA2S = (1e-6, 0.01, 0.05, 0.1, 0.15, 0.159)


@pytest.fixture(scope="module")
def gaussian_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, mu, sigma2, exact log-density) where the density is 1: x = mu +- sqrt(-sigma2 log(2 pi sigma2)), and
    x = mu with sigma2 at the doubles around 1/(2 pi)."""
    xs, mus, s2s, exact = [], [], [], []
    with mp.workdps(DIGITS):
        for mu in (0.0, 0.7, -3.25, 1234.5):
            for sigma2 in SIGMA2S:
                half_width = mp.sqrt(-sigma2 * mp.log(2 * mp.pi * sigma2))
                for root in (mu - half_width, mu + half_width):
                    for x in _nearby_doubles(mp.mpf(mu) + (root - mu)):
                        xs.append(x)
                        mus.append(mu)
                        s2s.append(sigma2)
            for sigma2 in _nearby_doubles(1 / (2 * mp.pi)):
                xs.append(mu)
                mus.append(mu)
                s2s.append(sigma2)
        exact = [gaussian_logpdf(mp.mpf(a), mp.mpf(m), mp.mpf(s)) for a, m, s in zip(xs, mus, s2s, strict=True)]
    return np.array(xs), np.array(mus), np.array(s2s), np.array(exact, dtype=object)


def test_gaussian_logpdf_meets_the_goal_where_the_density_is_one(any_backend, gaussian_cases):
    x, mu, sigma2, exact = gaussian_cases
    got = np.asarray(any_backend.gaussian_logpdf(x, mu, sigma2), dtype=np.float64)
    err = _relative_errors(got, exact)
    assert np.all(err <= VALUE_GOAL), _report(err, VALUE_GOAL, x, mu, sigma2)


def test_gradthetalead_forms_are_its_expansions():
    """The forms the backends' GradThetaLead takes besides its double-double numerator (written out in both templates):
    that numerator expanded in powers of theta (where it cancels), and the series in 1/theta (beyond theta = 1e50)."""
    import sympy as sp

    from derive.primitives import GradThetaLead

    x, mu, theta, eps = sp.symbols("x mu theta epsilon", positive=True)
    d, a, b = x - mu, x + theta, theta + mu
    numerator = 3 * x * b**3 - 3 * d**2 * theta * a * b + 2 * d**3 * theta * a
    assert sp.simplify(numerator / (6 * theta * a * b**3) - GradThetaLead.definition(x, mu, theta)) == 0
    e2 = 9 * x * mu - 3 * d**2 * (x + mu) + 2 * d**3
    e1 = x * (9 * mu**2 - 3 * d**2 * mu + 2 * d**3)
    e0 = 3 * x * mu**3
    assert sp.expand(numerator - (3 * (x - d**2) * theta**3 + e2 * theta**2 + e1 * theta + e0)) == 0
    c3 = x * (d**2 - x / 2) - 2 * d**3 / 3
    series = sp.series(GradThetaLead.definition(x, mu, 1 / eps), eps, 0, 4).removeO()
    assert sp.expand(series - ((x - d**2) / 2 * eps**2 + c3 * eps**3)) == 0


def test_theta_gradients_for_huge_theta_with_a_mean_of_its_order(any_backend):
    """Above theta = 1e50 (GradThetaLead's series) and 1e150 (the leading-term form) the kernels use forms that drop
    O((x + mu)/theta): only where x + mu is negligible against theta. A mean of theta's order takes the exact forms
    (these inputs once gave inf, NaN and a 13% error)."""
    x = np.array([0.0, 3.0, 0.0, 3.0, 20.0, 1.0, 5.0])
    mu = np.array([1e249, 1e249, 1e140, 1e140, 1e200, 1e60, 2e60])
    theta = np.array([1e250, 1e250, 1e151, 1e151, 1e200, 1e60, 1e60])
    for kernel in ("nb_nll_grad_theta", "nb_nll_grad_logtheta"):
        exact = oracle.evaluate(kernel, x, mu, theta, dps=600)
        got = getattr(any_backend, kernel)(x, mu, theta)
        err = np.abs(got - exact) / np.abs(exact)
        assert np.all(err <= 1e-13), f"{kernel}: relative errors {err}"
    exact = oracle.evaluate("nb_nll_fused", x, np.log(mu), np.log(theta), dps=600)
    for name, got, want in zip(("nll", "grad_logmu", "grad_logtheta"),
                               any_backend.nb_nll_fused(x, np.log(mu), np.log(theta)), exact, strict=True):
        err = np.abs(got - want) / np.abs(want)
        assert np.all(err <= 1e-13), f"nb_nll_fused[{name}]: relative errors {err}"
