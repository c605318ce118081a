"""The Gaussian kernels (log-density and its mu-gradient) and the MSE loss's (value, mu- and log-mu-gradients)."""

from __future__ import annotations

import sympy as sp

from derive.models.common import nan_branch, with_domain
from derive.primitives import IsNaN
from derive.spec import LOG_MU, MU, SIGMA2, Branch, KernelSpec, X, kernel_expr


def _gaussian(name: str, source: str, doc: str, plain: str = "") -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | IsNaN(SIGMA2) | (SIGMA2 <= 0), 1),
        Branch(sp.true, (kernel_expr(source),), doc),
    ]
    sources = (plain, source) if plain else (source,)
    return with_domain(KernelSpec(name, doc, (X, MU, SIGMA2), ("value",), tuple(branches), sources), "rrp",
                        regimes=1)


def _plain(name: str, source: str, inputs: tuple[sp.Symbol, ...], doc: str,
           lets: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()) -> KernelSpec:
    value = kernel_expr(source)
    if lets:
        value = value.subs(sp.exp(LOG_MU), MU)
    return KernelSpec(name, doc, inputs, ("value",), (Branch(sp.true, (value,), doc),), (source,), lets=lets)


def specs() -> tuple[KernelSpec, ...]:
    """The Gaussian kernels, then the MSE ones."""
    return (
        _gaussian("gaussian_logpdf", "stable.gaussian_logpdf", "Gaussian log-density.", plain="gauss.loglik"),
        _gaussian("gaussian_nll_grad_mu", "gauss.grad_mu", "d(-log N(x; mu, sigma2))/d mu."),
        _plain("mse", "mse.loss", (X, MU), "(x - mu)^2."),
        _plain("mse_grad_mu", "mse.grad_mu", (X, MU), "d (x - mu)^2 / d mu."),
        _plain("mse_grad_logmu", "mse.grad_logmu", (X, LOG_MU), "d (x - mu)^2 / d log_mu.",
               lets=((MU, sp.exp(LOG_MU)),)),
    )
