"""The Gaussian and MSE kernels' references: their textbook closed forms in mpmath (see :mod:`derive.oracle`)."""

from __future__ import annotations

from mpmath import mp, mpf


def gaussian_logpdf(x: mpf, mu: mpf, sigma2: mpf) -> mpf:
    """Gaussian log-density: -1/2 log(2 pi sigma^2) - (x - mu)^2/(2 sigma^2)."""
    return -mp.log(2 * mp.pi * sigma2) / 2 - (x - mu) ** 2 / (2 * sigma2)


def gaussian_nll_grad_mu(x: mpf, mu: mpf, sigma2: mpf) -> mpf:
    """d(-log pdf)/d mu = (mu - x)/sigma^2."""
    return (mu - x) / sigma2


def mse(x: mpf, mu: mpf) -> mpf:
    """Squared error (x - mu)^2."""
    return (x - mu) ** 2


def mse_grad_mu(x: mpf, mu: mpf) -> mpf:
    """d(x - mu)^2/d mu = 2 (mu - x)."""
    return 2 * (mu - x)


def mse_grad_logmu(x: mpf, log_mu: mpf) -> mpf:
    """d(x - mu)^2/d log mu = 2 mu (mu - x), at mu = exp(log_mu)."""
    mu = mp.exp(log_mu)
    return 2 * mu * (mu - x)
