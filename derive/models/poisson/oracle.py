"""The Poisson kernel's reference: the textbook log-PMF in mpmath (see :mod:`derive.oracle`)."""

from __future__ import annotations

from mpmath import mp, mpf


def poisson_logpmf(x: mpf, mu: mpf) -> mpf:
    """Poisson log-PMF: x log mu - mu - log G(x+1)."""
    return x * mp.log(mu) - mu - mp.loggamma(x + 1)
