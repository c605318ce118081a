"""The Poisson kernels' references: the textbook log-PMF and its mu-derivative in mpmath (see :mod:`derive.oracle`)."""

from __future__ import annotations

from mpmath import mp, mpf


def poisson_logpmf(x: mpf, mu: mpf) -> mpf:
    """Poisson log-PMF: x log mu - mu - log G(x+1)."""
    return x * mp.log(mu) - mu - mp.loggamma(x + 1)


def poisson_nll_grad_mu(x: mpf, mu: mpf) -> mpf:
    """d(-log PMF)/d mu = 1 - x/mu (the derivative of -x log mu + mu)."""
    return 1 - x / mu
