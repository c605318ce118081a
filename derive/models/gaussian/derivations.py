"""The Gaussian likelihood and the MSE loss it reduces to (§3.1, §5.2, §7.1)."""

from __future__ import annotations

import sympy as sp

from derive.registry import derivation, register
from derive.steps import Chain, Derivation
from derive.symbols import eta, mu, sigma2, x

DENSITY = sp.exp(-((x - mu) ** 2) / (2 * sigma2)) / sp.sqrt(2 * sp.pi * sigma2)
LL = sp.Function(r"\ell")


@register("gauss.loglik")
def loglik() -> Derivation:
    return (
        Chain("gauss.loglik", "The Gaussian log-likelihood", LL(x), "3.1")
        .define(DENSITY, "the Gaussian density N(x; mu, sigma^2)")
        .apply(sp.log, "take the log",
               shown=-sp.log(2 * sp.pi * sigma2) / 2 - (x - mu) ** 2 / (2 * sigma2))
        .build()
    )


@register("gauss.p_zero")
def p_zero() -> Derivation:
    return (
        Chain("gauss.p_zero", "The Gaussian density at x = 0", sp.Function("p")(0), "5.2")
        .define(DENSITY, "the Gaussian density N(x; mu, sigma^2)")
        .apply(lambda e: e.subs(x, 0), "set x = 0: a density, not a probability",
               shown=sp.exp(-(mu**2) / (2 * sigma2)) / sp.sqrt(2 * sp.pi * sigma2))
        .build()
    )


@register("gauss.grad_mu")
def grad_mu() -> Derivation:
    return (
        Chain("gauss.grad_mu", "Gradient of the Gaussian NLL w.r.t. mu", sp.Symbol(r"\partial_{\mu}\mathcal{L}"),
              "7.1")
        .continue_from(derivation("gauss.loglik"))
        .apply(lambda e: -e, "the loss is the negative log-likelihood")
        .apply(lambda e: sp.diff(e, mu), "differentiate w.r.t. mu", shown=(mu - x) / sigma2)
        .build()
    )


@register("mse.loss")
def mse_loss() -> Derivation:
    return (
        Chain("mse.loss", "The MSE loss", sp.Symbol(r"\mathcal{L}_{\mathrm{MSE}}"), "3.1")
        .continue_from(derivation("gauss.loglik"))
        .apply(lambda e: -e, "the loss is the negative log-likelihood",
               shown=sp.log(2 * sp.pi * sigma2) / 2 + (x - mu) ** 2 / (2 * sigma2))
        .apply(lambda e: e - sp.log(2 * sp.pi * sigma2) / 2,
               "drop the constant log(2 pi sigma^2)/2 (sigma^2 is fixed, so it does not move the optimum)",
               shown=(x - mu) ** 2 / (2 * sigma2))
        .apply(lambda e: 2 * sigma2 * e, "drop the constant factor 1/(2 sigma^2)", shown=(x - mu) ** 2)
        .build()
    )


@register("mse.grad_mu")
def mse_grad_mu() -> Derivation:
    return (
        Chain("mse.grad_mu", "Gradient of the MSE loss w.r.t. mu",
              sp.Symbol(r"\partial_{\mu}\mathcal{L}_{\mathrm{MSE}}"), "7.1")
        .continue_from(derivation("mse.loss"))
        .apply(lambda e: sp.diff(e, mu), "differentiate w.r.t. mu: linear in the residual",
               shown=2 * (mu - x))
        .build()
    )


@register("mse.grad_logmu")
def mse_grad_logmu() -> Derivation:
    return (
        Chain("mse.grad_logmu", "Gradient of the MSE loss w.r.t. log mu",
              sp.Symbol(r"\partial_{\eta}\mathcal{L}_{\mathrm{MSE}}"), "7.1")
        .continue_from(derivation("mse.loss"))
        .apply(lambda e: e.subs(mu, sp.exp(eta)), "substitute mu = e^eta", shown=(x - sp.exp(eta)) ** 2)
        .apply(lambda e: sp.diff(e, eta), "differentiate w.r.t. eta: grows like mu^2, without bound",
               shown=2 * sp.exp(eta) * (sp.exp(eta) - x))
        .build()
    )
