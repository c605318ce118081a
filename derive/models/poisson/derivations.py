"""The Poisson distribution: the theta -> infinity limit of the NB, and the reference it is compared to."""

from __future__ import annotations

import sympy as sp

from derive.registry import register
from derive.steps import Chain, Derivation
from derive.symbols import mu, x


@register("poisson.logpmf")
def logpmf() -> Derivation:
    return (
        Chain("poisson.logpmf", "The Poisson log-PMF", sp.Function(r"\ell")(x), "6.1")
        .define(mu**x * sp.exp(-mu) / sp.factorial(x), "the Poisson PMF with mean mu")
        .apply(sp.log, "take the log", shown=x * sp.log(mu) - mu - sp.log(sp.factorial(x)))
        .build()
    )
