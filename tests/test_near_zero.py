"""Kernels at the zeros of what they compute: where their O(1) terms cancel, the relative error must still hold.

The theta-gradient -[psi(x+theta) - psi(theta) + log(theta/(theta+mu)) + (mu-x)/(theta+mu)] changes sign twice in
mu for every count x >= 2 (it is largest at mu = x); the Gaussian log-density is zero where the density is 1. The
roots are found here with mpmath (root finding on the textbook closed forms, written out in this file: an oracle
independent of derive), rounded to the nearest double and to a few doubles around it, and the kernels must meet
issue 4's goal there (inputs are exact doubles: no condition-number allowance), in both backends. These are the
hardest inputs: the exact result is about 2^-53 of the terms it is the difference of.

theta stays below 10 (derive.spec.ASYMPTOTIC_THETA): from there on the kernels use the asymptotic form near the zero
(GradThetaLead + Log1pmx4 + PsilogDiffR), which ScoreTheta does not refine; it is not tested here.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

GRADIENT_GOAL = 1e-13
VALUE_GOAL = 1e-14
#: Enough digits for a result ~1e-17 of its terms, to 30 digits more.
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
        assert bracket[0] < root < bracket[1] and abs(f(root)) < mp.mpf(10) ** (20 - DIGITS), (x, theta, root)
        roots.append(root)
    return roots


THETAS = (0.05, 0.3, 1.1, 3.7, 9.5, 9.99)
COUNTS = (1, 2, 5, 13, 16, 40, 373, 5000, 389514)


@pytest.fixture(scope="module")
def score_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, mu, theta, exact score) at the doubles around every root, for every (theta, x)."""
    xs, mus, thetas, exact = [], [], [], []
    with mp.workdps(DIGITS):
        for theta in THETAS:
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
    with mp.workdps(DIGITS):
        terms = np.array([float(mp.digamma(a + t) - mp.digamma(t)) for a, t in zip(x, theta, strict=True)])
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
