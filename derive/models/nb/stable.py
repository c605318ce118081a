"""Stable forms of the NB results: rewrites that keep their digits in double precision.

Every form here is a step proved equal to a result of :mod:`derive.models.nb.derivations` (symbolically where SymPy
can, else at 40 digits); the numerical primitives it uses (:mod:`derive.primitives`) are unfolded for the proof.
Each form names the regime it is for; the kernels (:mod:`derive.models.nb.kernels`) choose between them.

Why each form exists (the plain formula's failure it removes):
- x = 0: theta*log(theta/(theta+mu)) loses everything when mu/theta is tiny; log1p does not.
- small counts: log Gamma(x+theta) - log Gamma(theta) + x log(mu/(theta+mu)) cancels x*log(theta) terms that
  are huge in the Poisson limit; taking them out symbolically leaves a short, exact sum (LogRising1p).
- the deviance (saddle-point) form: for large counts and means every log Gamma is ~x log x while the answer is
  ~log x; writing the log-PMF as Stirling remainders and two non-negative deviances keeps only small terms.
- the theta-gradient: psi(x+theta) - psi(theta) - log1p(mu/theta) + (mu-x)/(theta+mu) cancels to O(1/theta^2);
  PsilogDiff and Log1pmx carry exactly that residue. Where the gradient changes sign these two parts cancel in turn:
  ScoreTheta refines their sum there. For theta >= 10 near the zero the asymptotic split's three parts cancel there
  instead: ScoreThetaAsymptotic.
"""

from __future__ import annotations

import sympy as sp

from derive.models.common import start
from derive.primitives import (
    AtanhTail,
    Dev1p,
    GradThetaLead,
    Lfact,
    Log1pDiv,
    Log1pmx,
    Log1pmx4,
    LogPowRising,
    LogRising1p,
    PsilogDiff,
    PsilogDiffR,
    RisingRecipDev,
    ScoreTheta,
    ScoreThetaAsymptotic,
    Softplus,
    Stirlerr,
    StirlerrCount,
    log1p,
)
from derive.registry import register
from derive.series import DEVIANCE_SERIES_BELOW, ZERO_SERIES_BELOW
from derive.steps import Chain, Derivation
from derive.symbols import eta, lam, mu, theta, x, x_pos

# Sub-expressions of the deviance form, named so that kernels compute them once and without overflow.
q = sp.Symbol("q", positive=True)
"""q = (x + theta)/(theta + mu)."""
w = sp.Symbol("w", positive=True)
"""w = theta/(x + theta)."""
DEVIANCE_LETS = ((q, (x + theta) / (theta + mu)), (w, theta / (x + theta)))


@register("stable.nb_logpmf_zero")
def nb_logpmf_zero() -> Derivation:
    return (
        start(Chain("stable.nb_logpmf_zero", "Log-PMF at x = 0 (stable)", section="5.1"), "nb.loglik")
        .apply(lambda e: e.subs(x, 0), "set x = 0", shown=theta * sp.log(theta / (theta + mu)))
        .rewrite(-theta * Log1pDiv(mu, theta),
                 "write log(theta/(theta+mu)) = -log1p(mu/theta): exact for tiny mu/theta (and log mu - log theta "
                 "where mu/theta overflows)")
        .build()
    )


@register("stable.nb_logpmf_small")
def nb_logpmf_small() -> Derivation:
    return (
        start(Chain("stable.nb_logpmf_small", "Log-PMF for small counts (stable)", section="2"), "nb.loglik")
        .rewrite(x * sp.log(mu) + LogRising1p(x, theta) - Lfact(x) - (x + theta) * log1p(mu / theta),
                 "cancel x log(theta) symbolically: log Gamma(x+theta) - log Gamma(theta) = x log(theta) + "
                 "sum_{k<x} log(1 + k/theta), and x log(mu/(theta+mu)) = x log(mu) - x log(theta) - x log1p(mu/theta)")
        .rewrite(LogPowRising(x, mu, theta) - Lfact(x) - (x + theta) * Log1pDiv(mu, theta),
                 "x log(mu) + sum_{k<x} log(1 + k/theta) = log(prod_{k<x} mu (1 + k/theta)): one logarithm")
        .build()
    )


def _deviance_form(count: sp.Expr) -> sp.Expr:
    b1, t1 = theta * q, (mu - count) / (count + theta)
    b2, t2 = mu * q, (count - mu) * w / mu
    return (-sp.log(2 * sp.pi * count) / 2 - Log1pDiv(count, theta) / 2
            + Stirlerr(count + theta) - Stirlerr(theta) - StirlerrCount(count)
            - b1 * Dev1p(t1) - b2 * Dev1p(t2))


@register("stable.nb_logpmf_deviance")
def nb_logpmf_deviance() -> Derivation:
    chain = start(Chain("stable.nb_logpmf_deviance", "Log-PMF in deviance (saddle-point) form, x >= 1",
                         section="2"), "nb.loglik", x_pos)
    # q and w are names for sub-expressions (the kernels' lets): the step is checked with them put back.
    lets = {name: value.subs(x, x_pos) for name, value in DEVIANCE_LETS}
    return chain.rewrite_where(
        _deviance_form(x_pos),
        "write every log Gamma as Stirling's approximation plus its remainder Stirlerr; what is left collects into "
        "two deviances b*Dev1p(t) >= 0 with b1 = theta*q, t1 = (mu-x)/(x+theta), b2 = mu*q, t2 = (x-mu)*w/mu",
        lets).build()


def _log1pmx_given_log(t: sp.Expr, log_one_plus_t: sp.Expr) -> sp.Expr:
    """log1p(t) - t: the series near 0, else an accurately computed log(1 + t) minus t.

    Near t = -1, 1 + t formed from a rounded t loses digits; the caller passes log(1 + t) computed from
    the quantities t came from (e.g. -log1p(mu/theta), or log q with q = (x + theta)/(theta + mu)).
    """
    return sp.Piecewise((Log1pmx(t), sp.Abs(t) < DEVIANCE_SERIES_BELOW), (log_one_plus_t - t, True))


@register("stable.nb_nll_grad_theta")
def nb_nll_grad_theta() -> Derivation:
    s = (x - mu) / (theta + mu)
    chain = start(Chain("stable.nb_nll_grad_theta", "Gradient w.r.t. theta (stable)", section="7.2"),
                   "nb.nll_grad_theta")
    chain.rewrite(-(Log1pmx(s) + PsilogDiff(x, theta)),
                  "psi(x+theta) - psi(theta) = log1p(x/theta) + PsilogDiff and log1p(x/theta) - log1p(mu/theta) = "
                  "log1p(s), s = (x-mu)/(theta+mu): the O(1/theta) parts cancel exactly, leaving log1p(s) - s")
    lets = dict(DEVIANCE_LETS[:1])
    chain.rewrite_where(-(_log1pmx_given_log(s, sp.log(q)) + PsilogDiff(x, theta)),
                        "away from s = 0 take log(1 + s) = log q, q = (x+theta)/(theta+mu), not from the rounded s",
                        lets)
    chain.rewrite_where(-ScoreTheta(PsilogDiff(x, theta), _log1pmx_given_log(s, sp.log(q)), x, mu, theta),
                        _REFINE_WHY, lets, operation=lambda e: e.subs(lets))
    return chain.build()


_REFINE_WHY = ("the two parts cancel where the gradient changes sign: ScoreTheta returns their sum, recomputed in "
               "extended precision (long double, then double-double) where it is small next to them")


@register("stable.nb_nll_grad_theta_asymptotic")
def nb_nll_grad_theta_asymptotic() -> Derivation:
    s = (x - mu) / (theta + mu)
    return (
        start(Chain("stable.nb_nll_grad_theta_asymptotic", "Gradient w.r.t. theta near its zero (stable)",
                     section="7.2"), "nb.nll_grad_theta")
        .rewrite(-(GradThetaLead(x, mu, theta) + Log1pmx4(s) + PsilogDiffR(x, theta)),
                 "split off x/(2 theta (x+theta)) - s^2/2 + s^3/3, whose terms cancel where the gradient changes "
                 "sign; GradThetaLead forms it exactly, what is left (O(s^4), O(x/theta^3)) is small")
        .rewrite(-ScoreThetaAsymptotic(GradThetaLead(x, mu, theta), Log1pmx4(s), PsilogDiffR(x, theta), x, mu, theta),
                 "at the zero itself the three parts cancel in turn: ScoreThetaAsymptotic returns their sum, "
                 "recomputed in double-double where it is small next to them, from x/(2 theta (x+theta)) + "
                 "PsilogDiffR + Log1pmx(s), whose terms do not cancel before the last sum at any theta")
        .build()
    )


@register("stable.nb_nll_grad_theta_small")
def nb_nll_grad_theta_small() -> Derivation:
    return (
        start(Chain("stable.nb_nll_grad_theta_small", "Gradient w.r.t. theta for small counts (stable)",
                     section="7.2"), "nb.nll_grad_theta")
        .rewrite(-(RisingRecipDev(x, theta, mu) + Log1pmx(-mu / (theta + mu))),
                 "psi(x+theta) - psi(theta) - x/(theta+mu) = sum_{k<x} (mu-k)/((theta+k)(theta+mu)) and "
                 "-log1p(mu/theta) + mu/(theta+mu) = log1p(t) - t with t = -mu/(theta+mu): nothing left to cancel "
                 "as mu -> 0 or theta -> infinity")
        .rewrite(-(RisingRecipDev(x, theta, mu) + _log1pmx_given_log(-mu / (theta + mu), -Log1pDiv(mu, theta))),
                 "away from t = 0 take log(1 + t) = -log1p(mu/theta), exact even where mu >> theta")
        .rewrite(-ScoreTheta(RisingRecipDev(x, theta, mu), _log1pmx_given_log(-mu / (theta + mu), -Log1pDiv(mu, theta)),
                             x, mu, theta), _REFINE_WHY)
        .build()
    )


rho = sp.Symbol("rho", real=True)
"""rho = (mu - x)/mu, the relative residual: exact where x is close to mu (mu - x is). (Not r: symbols.r is the
classic NB's number of successes.)"""


@register("stable.nb_nll_grad_mu")
def nb_nll_grad_mu() -> Derivation:
    chain = start(Chain("stable.nb_nll_grad_mu", "Gradient w.r.t. mu (stable)", section="7.2"), "nb.nll_grad_mu")
    chain.rewrite_where(rho / (1 + mu / theta),
                        "divide by theta (finite as theta -> infinity) and keep rho = (mu - x)/mu apart: mu - x is "
                        "exact near the mode, 1 - x/mu is not", {rho: (mu - x) / mu})
    return chain.build()


@register("stable.nb_nll_grad_logmu_bounded")
def nb_nll_grad_logmu_bounded() -> Derivation:
    chain = start(Chain("stable.nb_nll_grad_logmu_bounded", "Gradient w.r.t. log mu for eta > 0 (stable)",
                         section="7.2"), "nb.nll_grad_logmu")
    def in_mu(e: sp.Expr) -> sp.Expr:
        return e.subs(sp.exp(eta), mu)

    chain.rewrite_where(rho / (1 / theta + 1 / mu),
                        "write e^eta = mu, rho = (mu - x)/mu in place of 1 - x/mu in the bounded form, and divide by "
                        "theta: no product theta rho that could overflow",
                        {rho: (mu - x) / mu}, operation=in_mu)
    return chain.build()


def _p_zero_stable() -> sp.Expr:
    """P(x = 0) in its stable form: exp of the stable log (its gradients' forms reuse it)."""
    return sp.exp(-theta * Log1pDiv(mu, theta))


@register("stable.nb_p_zero")
def nb_p_zero() -> Derivation:
    return (
        start(Chain("stable.nb_p_zero", "P(x = 0) (stable)", section="5.1"), "nb.p_zero")
        .rewrite(_p_zero_stable(), "exp of the stable log: (1 + mu/theta)^-theta")
        .build()
    )


@register("stable.nb_p_zero_grad_mu")
def nb_p_zero_grad_mu() -> Derivation:
    return (
        start(Chain("stable.nb_p_zero_grad_mu", "d P(x = 0)/d mu (stable)", section="5.1"), "nb.p_zero_grad_mu")
        .rewrite(-_p_zero_stable() / (1 + mu / theta),
                 "P(0) as its stable form, over 1 + mu/theta: no power, nothing that cancels")
        .build()
    )


@register("stable.nb_p_zero_grad_theta")
def nb_p_zero_grad_theta() -> Derivation:
    t = mu / theta
    return (
        start(Chain("stable.nb_p_zero_grad_theta", "d P(x = 0)/d theta for mu <= theta (stable)", section="5.1"),
              "nb.p_zero_grad_theta")
        .rewrite(-_p_zero_stable() * (Log1pmx(t) + t**2 / (1 + t)),
                 "with t = mu/theta, log(theta/(theta + mu)) + mu/(theta + mu) = -(log1p(t) - t) - t^2/(1 + t): "
                 "two terms of one sign (about -t^2/2 for small t), where the log and the ratio cancel")
        .build()
    )


@register("stable.nb_p_zero_grad_theta_far")
def nb_p_zero_grad_theta_far() -> Derivation:
    return (
        start(Chain("stable.nb_p_zero_grad_theta_far", "d P(x = 0)/d theta for mu > theta (stable)",
                    section="5.1"), "nb.p_zero_grad_theta")
        .rewrite(_p_zero_stable() * (mu / (theta + mu) - Log1pDiv(mu, theta)),
                 "beyond mu = theta the log is at least log 2 and the ratio below 1: they do not cancel, and "
                 "log1p(mu/theta) needs no mu/theta that could overflow")
        .build()
    )


@register("stable.nb_loglik_logmu_huge")
def nb_loglik_logmu_huge() -> Derivation:
    return (
        start(Chain("stable.nb_loglik_logmu_huge", "Log-space log-PMF where mu = e^eta overflows", section="8"),
               "nb.loglik_logmu")
        .rewrite(sp.loggamma(x + theta) - sp.loggamma(theta) - Lfact(x)
                 - theta * Softplus(eta - sp.log(theta)) - x * Softplus(sp.log(theta) - eta),
                 "log(theta + e^eta) - log(theta) = softplus(eta - log theta): no e^eta is ever formed")
        .build()
    )


#: Where the leading-term step below is checked: from this theta on, what it drops (O((x + mu)/theta) relative, at most
#: ~1e-144 for the sampled x and mu) is far below the check's 1e-100. A choice of the proof, not of a format: the form
#: is the same mathematics in every precision. Kernels switch to it at their precision's huge_theta (where the exact
#: forms' O(1/theta^2) terms would underflow), and only where x + mu < negligible_against_theta theta, which keeps
#: the dropped part below that precision's series tail (derive.models.nb.kernels, derive.precision).
_LEADING_TERM_CHECKED_FROM = sp.Float("1e150")


@register("stable.nb_nll_grad_logtheta_huge")
def nb_nll_grad_logtheta_huge() -> Derivation:
    return (
        start(Chain("stable.nb_nll_grad_logtheta_huge", "Gradient w.r.t. log theta as theta -> infinity",
                     section="6.1"), "nb.nll_grad_theta")
        .apply(lambda e: theta * e, "d/d log theta = theta d/d theta")
        .approximate(-(x - (x - mu) ** 2) / (2 * theta),
                     "keep the leading term of the expansion in 1/theta, (x - (x-mu)^2)/(2 theta^2), times theta; "
                     "what is dropped is O((x+mu)/theta) relative, largest at the smallest theta, where it is checked",
                     {x: (1, 1e6), mu: (1e-3, 1e6),
                      theta: (_LEADING_TERM_CHECKED_FROM, _LEADING_TERM_CHECKED_FROM * 1e5)})
        .build()
    )


@register("stable.nb_nll_grad_theta_logmu_huge")
def nb_nll_grad_theta_logmu_huge() -> Derivation:
    chain = start(Chain("stable.nb_nll_grad_theta_logmu_huge", "Gradient w.r.t. theta where e^eta overflows",
                         section="8"), "nb.nll_grad_theta")
    chain.apply(lambda e: e.subs(mu, sp.exp(eta)), "substitute mu = e^eta")
    residual = sp.Piecewise(((1 - x * sp.exp(-eta)) / (1 + theta * sp.exp(-eta)), eta > 0),
                            ((sp.exp(eta) - x) / (theta + sp.exp(eta)), True))
    chain.rewrite(-(sp.polygamma(0, x + theta) - sp.polygamma(0, theta) - Softplus(eta - sp.log(theta)) + residual),
                  "log(theta/(theta+mu)) = -softplus(eta - log theta), and (mu-x)/(theta+mu) divided by mu "
                  "when eta > 0: no e^eta that could overflow")
    return chain.build()


@register("stable.nb_loglik_logtheta_tiny")
def nb_loglik_logtheta_tiny() -> Derivation:
    th = sp.exp(lam)
    chain = start(Chain("stable.nb_loglik_logtheta_tiny", "Log-PMF where theta = e^lambda underflows",
                         section="8"), "nb.loglik_logmu")
    chain.apply(lambda e: e.subs(theta, th), "learn lambda = log theta: substitute theta = e^lambda")
    chain.rewrite(lam + sp.loggamma(x + th) - sp.loggamma(1 + th) - Lfact(x)
                  - th * Softplus(eta - lam) - x * Softplus(lam - eta),
                  "Gamma(theta) = Gamma(1 + theta)/theta takes log theta = lambda out exactly; the dispersion and "
                  "count terms become softplus of eta - lambda: no 1/theta is ever formed")
    return chain.build()


@register("stable.nb_loglik_logtheta_tiny_zero")
def nb_loglik_logtheta_tiny_zero() -> Derivation:
    th = sp.exp(lam)
    return (
        start(Chain("stable.nb_loglik_logtheta_tiny_zero", "Log-PMF at x = 0 where theta = e^lambda underflows",
                     section="8"), "nb.loglik_logmu")
        .apply(lambda e: e.subs({theta: th, x: 0}), "x = 0 and theta = e^lambda")
        .rewrite(-th * Softplus(eta - lam), "log(theta/(theta + e^eta)) = -softplus(eta - lambda)")
        .build()
    )


@register("stable.nb_nll_grad_logtheta_tiny_zero")
def nb_nll_grad_logtheta_tiny_zero() -> Derivation:
    th = sp.exp(lam)
    return (
        start(Chain("stable.nb_nll_grad_logtheta_tiny_zero", "Gradient w.r.t. log theta at x = 0, theta underflowing",
                     section="8"), "nb.nll_grad_logtheta")
        .apply(lambda e: e.subs({mu: sp.exp(eta), x: 0}), "x = 0 and mu = e^eta")
        .rewrite(th * (Softplus(eta - lam) - sp.exp(eta) / (th + sp.exp(eta))),
                 "psi(theta) - psi(theta) = 0 and log(theta/(theta + e^eta)) = -softplus(eta - lambda)")
        .build()
    )


@register("stable.nb_nll_grad_logtheta_tiny")
def nb_nll_grad_logtheta_tiny() -> Derivation:
    th = sp.exp(lam)
    chain = start(Chain("stable.nb_nll_grad_logtheta_tiny", "Gradient w.r.t. log theta where theta underflows",
                         section="8"), "nb.nll_grad_logtheta")
    chain.apply(lambda e: e.subs(mu, sp.exp(eta)), "substitute mu = e^eta")
    chain.rewrite(-1 - th * (sp.polygamma(0, x + th) - sp.polygamma(0, 1 + th)) + th * Softplus(eta - lam)
                  - th * (sp.exp(eta) - x) / (th + sp.exp(eta)),
                  "theta psi(theta) = theta psi(1 + theta) - 1: the -1 is the whole gradient as theta -> 0 (x >= 1)")
    return chain.build()


@register("stable.nb_nll_grad_logmu")
def nb_nll_grad_logmu() -> Derivation:
    return (
        start(Chain("stable.nb_nll_grad_logmu", "Gradient w.r.t. log mu for eta <= 0 (stable)", section="7.2"),
               "nb.nll_grad_logmu")
        .rewrite((sp.exp(eta) - x) / (1 + sp.exp(eta) / theta),
                 "divide by theta: finite as theta -> infinity; for eta > 0 nb.nll_grad_logmu's bounded form is used")
        .build()
    )


@register("stable.nb_nll_grad_logmu_zero")
def nb_nll_grad_logmu_zero() -> Derivation:
    return (
        start(Chain("stable.nb_nll_grad_logmu_zero", "Gradient w.r.t. log mu at x = 0", section="7.2"),
               "nb.nll_grad_logmu")
        .apply(lambda e: e.subs(x, 0), "set x = 0")
        .rewrite(theta * (sp.exp(eta) / (sp.exp(eta) + theta)),
                 "theta times mu/(mu + theta) (finite and exact to an ulp for |eta| <= 700, where kernels use it; "
                 "the quotient is the one the theta-gradient at x = 0 needs too)")
        .build()
    )


# The x = 0 forms of the fused kernel (value and theta-gradient from one series, or from one log): v names the
# atanh argument mu/(2 theta + mu).
v = sp.Symbol("v", positive=True)
"""v = mu/(2 theta + mu), so that log1p(mu/theta) = 2 atanh(v)."""
ZERO_SERIES_LETS = ((v, mu / (2 * theta + mu)),)
_NLL_ZERO = -theta * sp.log(theta / (theta + mu))
_GRAD_LOGTHETA_ZERO = theta * (sp.log(1 + mu / theta) - mu / (mu + theta))


def _nll_at_zero(name: str, title: str) -> Chain:
    """The NLL at x = 0, theta log(1 + mu/theta), as the start of a chain."""
    return (start(Chain(name, title, section="5.1"), "nb.loglik")
            .apply(lambda e: -e.subs(x, 0), "set x = 0 and change sign", shown=_NLL_ZERO))


def _grad_logtheta_at_zero(name: str, title: str) -> Chain:
    """theta d NLL/d theta at x = 0, theta (log1p(mu/theta) - mu/(mu + theta)), as the start of a chain."""
    return (start(Chain(name, title, section="7.2"), "nb.nll_grad_theta")
            .apply(lambda e: theta * e.subs(x, 0), "set x = 0; d/d log theta = theta d/d theta",
                   shown=_GRAD_LOGTHETA_ZERO))


@register("stable.nb_nll_zero_series")
def nb_nll_zero_series() -> Derivation:
    return (
        _nll_at_zero("stable.nb_nll_zero_series", f"NLL at x = 0 for mu <= theta/{1 / ZERO_SERIES_BELOW}: a series")
        .rewrite_where(2 * theta * v * (1 + AtanhTail(v**2)),
                       "log(1 + u) = 2 atanh(u/(2 + u)) with u = mu/theta, and atanh(v) = v (1 + AtanhTail(v^2)): "
                       "for mu <= theta/3, v <= 1/7 and the tail is a short polynomial, with no log call",
                       dict(ZERO_SERIES_LETS))
        .build()
    )


@register("stable.nb_nll_grad_logtheta_zero_series")
def nb_nll_grad_logtheta_zero_series() -> Derivation:
    return (
        _grad_logtheta_at_zero("stable.nb_nll_grad_logtheta_zero_series",
                               f"Gradient w.r.t. log theta at x = 0 for mu <= theta/{1 / ZERO_SERIES_BELOW}: "
                               "the same series")
        .rewrite_where(theta * v * (mu / (mu + theta) + 2 * AtanhTail(v**2)),
                       "log1p(u) - mu/(mu + theta) = 2v - mu/(mu + theta) + 2v AtanhTail(v^2), and "
                       "2v - mu/(mu + theta) = v mu/(mu + theta) exactly: the difference that cancels to O(u^2) is "
                       "never formed, and the value's series serves again",
                       dict(ZERO_SERIES_LETS))
        .build()
    )


@register("stable.nb_nll_zero_log")
def nb_nll_zero_log() -> Derivation:
    return (
        _nll_at_zero("stable.nb_nll_zero_log", f"NLL at x = 0 for mu > theta/{1 / ZERO_SERIES_BELOW}: a log")
        .rewrite(theta * sp.log((theta + mu) / theta),
                 "for mu > theta/3 the quotient is >= 4/3: its rounding moves the log by <= 2^-53 against a log >= "
                 "0.28, a few ulps, and log costs less than log1p there")
        .build()
    )


@register("stable.nb_nll_grad_logtheta_zero_log")
def nb_nll_grad_logtheta_zero_log() -> Derivation:
    return (
        _grad_logtheta_at_zero("stable.nb_nll_grad_logtheta_zero_log",
                               f"Gradient w.r.t. log theta at x = 0 for mu > theta/{1 / ZERO_SERIES_BELOW}: a log")
        .rewrite(theta * (sp.log((theta + mu) / theta) - mu / (mu + theta)),
                 "for mu > theta/3 the difference keeps more than 1/8 of the log: no cancellation to avoid")
        .build()
    )


__all__ = ["DEVIANCE_LETS", "ZERO_SERIES_LETS", "q", "rho", "v", "w"]
