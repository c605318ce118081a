"""The Poisson distribution: the theta -> infinity limit of the NB, and the reference it is compared to."""

from __future__ import annotations

import sympy as sp

from derive.registry import derivation, register
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


@register("poisson.nll_grad_mu")
def nll_grad_mu() -> Derivation:
    return (
        Chain("poisson.nll_grad_mu", "Gradient of the Poisson loss w.r.t. mu",
              sp.Symbol(r"\partial_{\mu}\mathcal{L}_{\mathrm{Poisson}}"), "7.2")
        .continue_from(derivation("poisson.logpmf"))
        .apply(lambda e: -e, "the loss is the negative log-likelihood")
        .apply(lambda e: sp.diff(e, mu), "differentiate w.r.t. mu", shown=1 - x / mu)
        .rewrite((mu - x) / mu, "over the common denominator mu: mu - x is exact where x is near mu (no 1 - x/mu "
                 "cancelling)")
        .build()
    )
