"""The Gaussian kernels (log-density and its mu-gradient) and the MSE loss's (value, mu- and log-mu-gradients)."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.models.common import KINDS, goals, nan_branch, with_domain
from derive.models.gaussian import oracle
from derive.precision import Precision
from derive.primitives import IsNaN
from derive.spec import (
    LOG_MU,
    MU,
    SIGMA2,
    Branch,
    Gradient,
    KernelSpec,
    Oracle,
    X,
    kernel_expr,
)


def moment_matched_variance(sample: dict[str, Any]) -> Any:
    """sigma2 = mu + mu^2/theta, the NB variance: the accuracy regimes' Gaussian is the moment-matched one."""
    mu = sample["mu"]
    return mu + mu * mu / sample["theta"]


def _gaussian(name: str, source: str, doc: str, plain: str = "", **about: Any) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | IsNaN(SIGMA2) | (SIGMA2 <= 0), 1),
        Branch(sp.true, (kernel_expr(source),), doc),
    ]
    sources = (plain, source) if plain else (source,)
    return with_domain(KernelSpec(name, doc, (X, MU, SIGMA2), ("value",), tuple(branches), sources,
                                  draws=(("sigma2", moment_matched_variance),), **about), "rrp", regimes=1)


def _plain(name: str, source: str, inputs: tuple[sp.Symbol, ...], kinds: str, doc: str,
           lets: tuple[tuple[sp.Symbol, sp.Expr], ...] = (), **about: Any) -> KernelSpec:
    """A kernel of one branch and no domain check (nothing to guard: a polynomial in its inputs)."""
    value = kernel_expr(source)
    if lets:
        value = value.subs(sp.exp(LOG_MU), MU)
    return KernelSpec(name, doc, inputs, ("value",), (Branch(sp.true, (value,), doc),), (source,), lets=lets,
                      kinds=tuple(KINDS[kind] for kind in kinds), **about)


#: The kernels float32 computes whole in float64 (KernelSpec.widened), as the NB model's WIDENED.
WIDENED = {
    "mse_grad_logmu": "mu - x = e^log_mu - x cancels where mu ~ x: float32's exponential drops what float64's keeps "
                      "(x = 1, log_mu = 2^-32: 0 for 4.7e-10; float64 loses it below |log_mu| ~ 2^-53, issue 14).",
}


def specs(precision: Precision) -> tuple[KernelSpec, ...]:
    """The Gaussian kernels, then the MSE ones, for ``precision`` (its goals: the branches have no thresholds)."""
    value, gradient = goals(precision, "value"), goals(precision, "gradient")
    return (
        _gaussian("gaussian_logpdf", "stable.gaussian_logpdf", "Gaussian log-density.", plain="gauss.loglik",
                  goals=value, oracle=Oracle(oracle.gaussian_logpdf)),
        _gaussian("gaussian_nll_grad_mu", "gauss.grad_mu", "d(-log N(x; mu, sigma2))/d mu.", goals=gradient,
                  gradients=(Gradient(0, "mu", of="gaussian_logpdf", sign=-1),),
                  oracle=Oracle(oracle.gaussian_nll_grad_mu)),
        _plain("mse", "mse.loss", (X, MU), "rr", "(x - mu)^2.", goals=value, oracle=Oracle(oracle.mse)),
        _plain("mse_grad_mu", "mse.grad_mu", (X, MU), "rr", "d (x - mu)^2 / d mu.", goals=gradient,
               gradients=(Gradient(0, "mu", of="mse"),), oracle=Oracle(oracle.mse_grad_mu)),
        _plain("mse_grad_logmu", "mse.grad_logmu", (X, LOG_MU), "rl", "d (x - mu)^2 / d log_mu.",
               lets=((MU, sp.exp(LOG_MU)),), goals=gradient, gradients=(Gradient(0, "log_mu", of="mse"),),
               oracle=Oracle(oracle.mse_grad_logmu)),
    )
