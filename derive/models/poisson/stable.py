"""Stable forms of the Poisson log-PMF (the NB's theta -> infinity branches use them too).

- x >= 1: x log mu - mu - log x! cancels for large x and mu; Stirling's series for log x! and the deviance
  mu Dev1p((x - mu)/mu) >= 0 keep only small terms.
- log space: x log mu needs no exp, so mu = e^eta may underflow without harm.
"""

from __future__ import annotations

import sympy as sp

from derive.models.common import start
from derive.primitives import Dev1p, Lfact, StirlerrCount
from derive.registry import register
from derive.steps import Chain, Derivation
from derive.symbols import eta, mu, x, x_pos


@register("stable.poisson_logpmf_deviance")
def poisson_logpmf_deviance() -> Derivation:
    return (
        start(Chain("stable.poisson_logpmf_deviance", "Poisson log-PMF in deviance form, x >= 1", section="6.1"),
              "poisson.logpmf", x_pos)
        .rewrite(-mu * Dev1p((x_pos - mu) / mu) - sp.log(2 * sp.pi * x_pos) / 2 - StirlerrCount(x_pos),
                 "Stirling for log x! and the deviance mu*Dev1p((x-mu)/mu) = x log(x/mu) - x + mu")
        .build()
    )


@register("stable.poisson_logpmf_logmu")
def poisson_logpmf_logmu() -> Derivation:
    return (
        start(Chain("stable.poisson_logpmf_logmu", "Poisson log-PMF in log space", section="8"), "poisson.logpmf")
        .apply(lambda e: e.subs(mu, sp.exp(eta)), "substitute mu = e^eta: x eta needs no exp",
               shown=x * eta - sp.exp(eta) - Lfact(x))
        .build()
    )
