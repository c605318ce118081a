"""The Negative Binomial: every result of the seed document, derived from the classic (r, p) PMF.

Section numbers refer to the seed document (``nb-loglik-derivation.txt``). Each builder returns a verified
chain; results that the document states (mean, variance, limits, gradients) are computed by SymPy
(summation, ``diff``, ``limit``) and only then shown in a readable form, which is proved equal.
"""

from __future__ import annotations

import sympy as sp

from derive.registry import derivation, register
from derive.steps import Chain, Derivation, VerificationError
from derive.symbols import MU, THETA, G, X, alpha, eta, g, lam, mu, mu_g, p, r, s, theta, theta_g, x, x_g

P = sp.Function("P")
#: Readable left-hand sides (for show and the docs).
LHS_PMF = P(x)
LL = sp.Function(r"\ell")
LOSS = sp.Symbol(r"\mathcal{L}")

# Terms of the log-likelihood, typed as the document writes them (§4).
TERM_COMBINATORIAL = sp.loggamma(x + theta) - sp.loggamma(theta) - sp.log(sp.factorial(x))
TERM_DISPERSION = theta * sp.log(theta / (theta + mu))
TERM_COUNT = x * sp.log(mu / (theta + mu))


def _per_gene(expr: sp.Expr) -> sp.Expr:
    return expr.subs({x: x_g, mu: mu_g, theta: theta_g}, simultaneous=True)


def _convergent_branch(expr: sp.Expr) -> sp.Expr:
    """Keep the branch of a summed series that holds where it converges (|s (1 - p)| < 1)."""
    expr = sp.piecewise_fold(expr)
    if isinstance(expr, sp.Piecewise):
        return expr.args[0].expr
    return expr


def _limit(var: sp.Symbol, point: sp.Expr):
    def take(expr: sp.Expr) -> sp.Expr:
        return sp.limit(expr, var, point)

    return take


def _limit_by_parts(parts: list[sp.Expr], var: sp.Symbol, point: sp.Expr):
    """Limit of a sum taken part by part (each part has a finite limit), after checking the parts add up."""

    def take(expr: sp.Expr) -> sp.Expr:
        if sp.expand(sp.expand_log(sum(parts) - expr, force=True)) != 0:
            raise VerificationError("the parts do not add up to the expression")
        return sum(sp.limit(part, var, point) for part in parts)

    return take


def _diff(var: sp.Symbol):
    def take(expr: sp.Expr) -> sp.Expr:
        return sp.diff(expr, var)

    return take


def _subs(mapping: dict):
    def take(expr: sp.Expr) -> sp.Expr:
        return expr.subs(mapping)

    return take


def _negate(expr: sp.Expr) -> sp.Expr:
    return -expr


def _log(expr: sp.Expr) -> sp.Expr:
    return sp.log(expr)


def _exp(expr: sp.Expr) -> sp.Expr:
    return sp.exp(expr)


# ----------------------------------------------------------------------------------------------------------
# §1: the PMF and its moments


@register("nb.pmf_rp")
def pmf_rp() -> Derivation:
    return (
        Chain("nb.pmf_rp", "The classic NB PMF in (r, p)", LHS_PMF, "1.1")
        .define(sp.binomial(x + r - 1, x) * p**r * (1 - p) ** x,
                "the classic NB: the probability of x failures before the r-th success, success probability p")
        .rewrite(sp.gamma(x + r) / (sp.gamma(r) * sp.factorial(x)) * p**r * (1 - p) ** x,
                 "write the binomial coefficient with Gamma functions, so that r need not be an integer")
        .build()
    )


@register("nb.pmf")
def pmf() -> Derivation:
    return (
        Chain("nb.pmf", "The NB PMF in (mu, theta)", LHS_PMF, "1.2")
        .continue_from(derivation("nb.pmf_rp"))
        .apply(_subs({r: theta, p: theta / (theta + mu)}),
               "substitute r = theta (inverse dispersion) and p = theta/(theta + mu), which makes mu the mean",
               shown=sp.gamma(x + theta) / (sp.gamma(theta) * sp.factorial(x))
               * (theta / (theta + mu)) ** theta * (mu / (theta + mu)) ** x)
        .build()
    )


@register("nb.pmf_alpha")
def pmf_alpha() -> Derivation:
    return (
        Chain("nb.pmf_alpha", "The NB PMF in (mu, alpha), alpha = 1/theta", LHS_PMF, "1.1")
        .continue_from(derivation("nb.pmf"))
        .apply(_subs({theta: 1 / alpha}), "substitute theta = 1/alpha (alpha is the dispersion)",
               shown=sp.gamma(x + 1 / alpha) / (sp.gamma(1 / alpha) * sp.factorial(x))
               * (1 / (1 + alpha * mu)) ** (1 / alpha) * (alpha * mu / (1 + alpha * mu)) ** x)
        .build()
    )


@register("nb.pgf")
def pgf() -> Derivation:
    return (
        Chain("nb.pgf", "The probability generating function E[s^x]", sp.Function("G")(s), "1.3")
        .continue_from(derivation("nb.pmf_rp"))
        .apply(lambda e: sp.Sum(sp.expand_func(sp.gammasimp(e)).rewrite(sp.binomial) * s**x,
                                (x, 0, sp.oo)).doit(),
               "the generating function: sum s^x P(x) over x = 0, 1, 2, ...")
        .apply(_convergent_branch, "keep the value where the series converges, |s (1 - p)| < 1",
               shown=p**r / (1 - (1 - p) * s) ** r)
        .build()
    )


def _mean_from_pgf(expr: sp.Expr) -> sp.Expr:
    return sp.diff(expr, s).subs(s, 1)


def _variance_from_pgf(expr: sp.Expr) -> sp.Expr:
    first = sp.diff(expr, s).subs(s, 1)
    return sp.diff(expr, s, 2).subs(s, 1) + first - first**2


@register("nb.mean")
def mean() -> Derivation:
    return (
        Chain("nb.mean", "The NB mean", sp.Symbol(r"\mathbb{E}[x]"), "1.3")
        .continue_from(derivation("nb.pgf"))
        .apply(_mean_from_pgf, "the mean is G'(1)", shown=r * (1 - p) / p)
        .apply(_subs({r: theta, p: theta / (theta + mu)}), "substitute r = theta, p = theta/(theta + mu)",
               shown=mu)
        .build()
    )


@register("nb.variance")
def variance() -> Derivation:
    return (
        Chain("nb.variance", "The NB variance", sp.Symbol(r"\mathrm{Var}[x]"), "1.3")
        .continue_from(derivation("nb.pgf"))
        .apply(_variance_from_pgf, "the variance is G''(1) + G'(1) - G'(1)^2", shown=r * (1 - p) / p**2)
        .apply(_subs({r: theta, p: theta / (theta + mu)}), "substitute r = theta, p = theta/(theta + mu)",
               shown=mu + mu**2 / theta)
        .build()
    )


@register("nb.variance_limit")
def variance_limit() -> Derivation:
    return (
        Chain("nb.variance_limit", "The variance as theta -> infinity (Poisson-like)",
              sp.Symbol(r"\lim_{\theta\to\infty}\mathrm{Var}[x]"), "6.1")
        .continue_from(derivation("nb.variance"))
        .apply(_limit(theta, sp.oo), "let theta -> infinity: the overdispersion term mu^2/theta vanishes")
        .build()
    )


# ----------------------------------------------------------------------------------------------------------
# §2: the log-likelihood


@register("nb.loglik")
def loglik() -> Derivation:
    return (
        Chain("nb.loglik", "The NB log-likelihood", LL(x), "2")
        .continue_from(derivation("nb.pmf"))
        .apply(_log, "take the log of the PMF",
               shown=sp.loggamma(x + theta) - sp.loggamma(theta) - sp.log(sp.factorial(x))
               + theta * sp.log(theta / (theta + mu)) + x * sp.log(mu / (theta + mu)))
        .rewrite(TERM_COMBINATORIAL + TERM_DISPERSION + TERM_COUNT,
                 "group into three terms: combinatorial, dispersion, count (§4)")
        .build()
    )


def _select_terms(predicate):
    def take(expr: sp.Expr) -> sp.Expr:
        return sp.Add(*[term for term in sp.Add.make_args(expr) if predicate(term)])

    return take


@register("nb.term_combinatorial")
def term_combinatorial() -> Derivation:
    return (
        Chain("nb.term_combinatorial", "Term 1: combinatorial normalization", sp.Symbol("T_1"), "4")
        .continue_from(derivation("nb.loglik"))
        .apply(_select_terms(lambda t: not t.has(mu)),
               "keep the terms without mu: the number of ways to arrange x counts", shown=TERM_COMBINATORIAL)
        .build()
    )


@register("nb.term_dispersion")
def term_dispersion() -> Derivation:
    return (
        Chain("nb.term_dispersion", "Term 2: the dispersion contribution", sp.Symbol("T_2"), "4")
        .continue_from(derivation("nb.loglik"))
        .apply(_select_terms(lambda t: t.has(mu) and not t.has(x)),
               "keep the term with mu but without x: theta times the log-probability of 'failure'",
               shown=TERM_DISPERSION)
        .build()
    )


@register("nb.term_count")
def term_count() -> Derivation:
    return (
        Chain("nb.term_count", "Term 3: the contribution of the observed count", sp.Symbol("T_3"), "4")
        .continue_from(derivation("nb.loglik"))
        .apply(_select_terms(lambda t: t.has(mu) and t.has(x)),
               "keep the term with both mu and x: where the decoder's mean meets the count", shown=TERM_COUNT)
        .build()
    )


@register("nb.loglik_p")
def loglik_p() -> Derivation:
    return (
        Chain("nb.loglik_p", "The simplified log-likelihood in p = theta/(theta + mu)", LL(x), "2.1")
        .continue_from(derivation("nb.loglik"))
        .introduce(p, theta / (theta + mu),
                   sp.loggamma(x + theta) - sp.loggamma(theta) - sp.log(sp.factorial(x))
                   + theta * sp.log(p) + x * sp.log(1 - p),
                   "let p = theta/(theta + mu); then mu/(theta + mu) = 1 - p")
        .build()
    )


@register("nb.loglik_logmu")
def loglik_logmu() -> Derivation:
    return (
        Chain("nb.loglik_logmu", "The log-likelihood in log space (eta = log mu)", LL(x), "8")
        .continue_from(derivation("nb.loglik"))
        .apply(_subs({mu: sp.exp(eta)}), "predict eta = log mu and substitute mu = e^eta",
               shown=sp.loggamma(x + theta) - sp.loggamma(theta) - sp.log(sp.factorial(x))
               + theta * (sp.log(theta) - sp.log(theta + sp.exp(eta))) + x * (eta - sp.log(theta + sp.exp(eta))))
        .build()
    )


# ----------------------------------------------------------------------------------------------------------
# §2.2: the VAE reconstruction loss


@register("nb.loss")
def loss() -> Derivation:
    return (
        Chain("nb.loss", "The reconstruction loss for one gene g", sp.Symbol(r"\mathcal{L}_{g}"), "2.2")
        .continue_from(derivation("nb.loglik"))
        .apply(lambda e: -_per_gene(e),
               "the loss is -log p(x_g | z): negate, with gene g's count, mean and dispersion",
               shown=-sp.loggamma(x_g + theta_g) + sp.loggamma(theta_g) + sp.log(sp.factorial(x_g))
               - theta_g * sp.log(theta_g / (theta_g + mu_g)) - x_g * sp.log(mu_g / (theta_g + mu_g)))
        .build()
    )


@register("nb.loss_total")
def loss_total() -> Derivation:
    chain = Chain("nb.loss_total", "The reconstruction loss summed over G genes", LOSS, "2.2",
                  numeric_extra={G: 3})
    return (
        chain.continue_from(derivation("nb.loss"))
        .apply(lambda e: sp.Sum(e, (g, 1, G)), "sum the per-gene losses over the G genes")
        .build()
    )


# ----------------------------------------------------------------------------------------------------------
# §5: the probability of zero


@register("nb.p_zero")
def p_zero() -> Derivation:
    return (
        Chain("nb.p_zero", "P(x = 0) under the NB", P(0), "5.1")
        .continue_from(derivation("nb.pmf"))
        .apply(_subs({x: 0}), "set x = 0: Gamma(theta)/Gamma(theta) = 0! = 1 and the mu-factor is 1",
               shown=(theta / (theta + mu)) ** theta)
        .build()
    )


@register("nb.p_zero_grad_mu")
def p_zero_grad_mu() -> Derivation:
    return (
        Chain("nb.p_zero_grad_mu", "The mu-derivative of P(x = 0)", sp.Symbol(r"\partial_{\mu} P(0)"), "5.1")
        .continue_from(derivation("nb.p_zero"))
        .apply(_diff(mu), "differentiate w.r.t. mu: the base's derivative is -theta/(theta + mu)^2",
               shown=-theta / (theta + mu) * (theta / (theta + mu)) ** theta)
        .build()
    )


@register("nb.p_zero_grad_theta")
def p_zero_grad_theta() -> Derivation:
    return (
        Chain("nb.p_zero_grad_theta", "The theta-derivative of P(x = 0)", sp.Symbol(r"\partial_{\theta} P(0)"),
              "5.1")
        .continue_from(derivation("nb.p_zero"))
        .apply(_diff(theta), "differentiate w.r.t. theta: P(0) = e^(theta log(theta/(theta + mu)))",
               shown=(theta / (theta + mu)) ** theta * (sp.log(theta / (theta + mu)) + mu / (theta + mu)))
        .build()
    )


@register("nb.p_zero_mu0")
def p_zero_mu0() -> Derivation:
    return (
        Chain("nb.p_zero_mu0", "P(x = 0) as mu -> 0", sp.Symbol(r"\lim_{\mu\to 0} P(0)"), "5.1")
        .continue_from(derivation("nb.p_zero"))
        .apply(_limit(mu, 0), "let mu -> 0: a gene that is not expressed gives zeros")
        .build()
    )


@register("nb.p_zero_muinf")
def p_zero_muinf() -> Derivation:
    return (
        Chain("nb.p_zero_muinf", "P(x = 0) as mu -> infinity", sp.Symbol(r"\lim_{\mu\to\infty} P(0)"), "5.1")
        .continue_from(derivation("nb.p_zero"))
        .apply(_limit(mu, sp.oo), "let mu -> infinity: a zero becomes a rare event")
        .build()
    )


# ----------------------------------------------------------------------------------------------------------
# §6: the Poisson limit


@register("nb.poisson_limit")
def poisson_limit() -> Derivation:
    rising = sp.loggamma(x + theta) - sp.loggamma(theta) - x * sp.log(theta)
    parts = [rising, theta * sp.log(theta / (theta + mu)), x * sp.log(mu * theta / (theta + mu)),
             -sp.log(sp.factorial(x))]
    return (
        Chain("nb.poisson_limit", "The Poisson limit theta -> infinity of the PMF", LHS_PMF, "6.1")
        .continue_from(derivation("nb.pmf"))
        .apply(_log, "take the log and isolate log Gamma(x + theta) - log Gamma(theta) - x log theta",
               shown=sum(parts))
        .apply(_limit_by_parts(parts, theta, sp.oo),
               "let theta -> infinity term by term: Gamma(x+theta)/(Gamma(theta) theta^x) -> 1, "
               "(theta/(theta+mu))^theta -> e^-mu, theta/(theta+mu) -> 1",
               shown=x * sp.log(mu) - mu - sp.log(sp.factorial(x)))
        .apply(_exp, "exponentiate: this is the Poisson PMF with mean mu",
               shown=mu**x * sp.exp(-mu) / sp.factorial(x))
        .build()
    )


# ----------------------------------------------------------------------------------------------------------
# §7: gradients of the loss (the negative log-likelihood)


@register("nb.nll_grad_mu")
def nll_grad_mu() -> Derivation:
    return (
        Chain("nb.nll_grad_mu", "Gradient of the NB loss w.r.t. mu", sp.Symbol(r"\partial_{\mu}\mathcal{L}"), "7.2")
        .continue_from(derivation("nb.loglik"))
        .apply(_negate, "the loss is the negative log-likelihood")
        .apply(_diff(mu), "differentiate w.r.t. mu", shown=-x / mu + (x + theta) / (theta + mu))
        .rewrite(theta * (mu - x) / (mu * (theta + mu)), "put over a common denominator")
        .build()
    )


@register("nb.nll_grad_logmu")
def nll_grad_logmu() -> Derivation:
    return (
        Chain("nb.nll_grad_logmu", "Gradient of the NB loss w.r.t. log mu",
              sp.Symbol(r"\partial_{\eta}\mathcal{L}"), "7.2")
        .continue_from(derivation("nb.loglik_logmu"))
        .apply(_negate, "the loss is the negative log-likelihood")
        .apply(_diff(eta), "differentiate w.r.t. eta = log mu (the chain rule gives mu times d/dmu)",
               shown=theta * (sp.exp(eta) - x) / (theta + sp.exp(eta)))
        .rewrite(theta * (1 - x * sp.exp(-eta)) / (1 + theta * sp.exp(-eta)),
                 "divide by e^eta = mu: as mu -> infinity numerator -> theta and denominator -> 1, "
                 "so the gradient stays bounded by theta whatever the count")
        .build()
    )


@register("nb.nll_grad_logmu_limit")
def nll_grad_logmu_limit() -> Derivation:
    return (
        Chain("nb.nll_grad_logmu_limit", "The bounded gradient: d loss/d log mu as mu -> infinity",
              sp.Symbol(r"\lim_{\mu\to\infty}\partial_{\eta}\mathcal{L}"), "7.2")
        .continue_from(derivation("nb.nll_grad_logmu"))
        .apply(_limit(eta, sp.oo), "let mu = e^eta -> infinity: the gradient tends to theta, not to infinity")
        .build()
    )


@register("nb.nll_grad_theta")
def nll_grad_theta() -> Derivation:
    return (
        Chain("nb.nll_grad_theta", "Gradient of the NB loss w.r.t. theta",
              sp.Symbol(r"\partial_{\theta}\mathcal{L}"), "7.2")
        .continue_from(derivation("nb.loglik"))
        .apply(_negate, "the loss is the negative log-likelihood")
        .apply(_diff(theta), "differentiate w.r.t. theta (d log Gamma = psi, the digamma function)",
               shown=-(sp.polygamma(0, x + theta) - sp.polygamma(0, theta) + sp.log(theta / (theta + mu))
                       + (mu - x) / (theta + mu)))
        .build()
    )


@register("nb.nll_grad_logtheta")
def nll_grad_logtheta() -> Derivation:
    th = sp.exp(lam)
    return (
        Chain("nb.nll_grad_logtheta", "Gradient of the NB loss w.r.t. log theta",
              sp.Symbol(r"\partial_{\lambda}\mathcal{L}"), "6.2")
        .continue_from(derivation("nb.loglik"))
        .apply(_negate, "the loss is the negative log-likelihood")
        .apply(_subs({theta: th}), "learn lambda = log theta, which keeps theta positive: theta = e^lambda")
        .apply(_diff(lam), "differentiate w.r.t. lambda (the chain rule gives theta times d/dtheta)",
               shown=-th * (sp.polygamma(0, x + th) - sp.polygamma(0, th) + sp.log(th / (th + mu))
                            + (mu - x) / (th + mu)))
        .build()
    )


__all__ = ["X", "MU", "THETA"]
