"""The NB kernels' references: the textbook closed forms (NB log-PMF, its gradients, P(x = 0)), in mpmath.

Typed from the literature, deliberately *not* from the derivations: they are the independent witness that the
derived kernels are right. :mod:`derive.oracle` evaluates them at the exact values of float64 inputs, raising the
precision until two evaluations agree (naive closed forms cancel in some regimes).
"""

from __future__ import annotations

from mpmath import mp, mpf


def nb_logpmf(x: mpf, mu: mpf, theta: mpf) -> mpf:
    """NB log-PMF: log G(x+t) - log G(t) - log G(x+1) + t log(t/(t+mu)) + x log(mu/(t+mu))."""
    return (mp.loggamma(x + theta) - mp.loggamma(theta) - mp.loggamma(x + 1)
            + theta * mp.log(theta / (theta + mu)) + x * mp.log(mu / (theta + mu)))


def nb_logpmf_logmu(x: mpf, log_mu: mpf, theta: mpf) -> mpf:
    """The NB log-PMF at mu = exp(log_mu), the exponential taken in high precision."""
    return nb_logpmf(x, mp.exp(log_mu), theta)


def nb_nll_grad_mu(x: mpf, mu: mpf, theta: mpf) -> mpf:
    """d(-log PMF)/d mu = (x + theta)/(theta + mu) - x/mu (the derivative of the two log terms)."""
    return (x + theta) / (theta + mu) - x / mu


def nb_nll_grad_logmu(x: mpf, log_mu: mpf, theta: mpf) -> mpf:
    """d(-log PMF)/d log mu = mu * d(-log PMF)/d mu, at mu = exp(log_mu)."""
    mu = mp.exp(log_mu)
    return mu * nb_nll_grad_mu(x, mu, theta)


def nb_nll_grad_theta(x: mpf, mu: mpf, theta: mpf) -> mpf:
    """d(-log PMF)/d theta = -[psi(x+t) - psi(t) + log(t/(t+mu)) + (mu-x)/(t+mu)]."""
    return -(mp.digamma(x + theta) - mp.digamma(theta) + mp.log(theta / (theta + mu)) + (mu - x) / (theta + mu))


def nb_nll_grad_logtheta(x: mpf, mu: mpf, theta: mpf) -> mpf:
    """d(-log PMF)/d log theta = theta * d(-log PMF)/d theta."""
    return theta * nb_nll_grad_theta(x, mu, theta)


def nb_nll_fused(x: mpf, log_mu: mpf, log_theta: mpf) -> tuple[mpf, mpf, mpf]:
    """(NLL, dNLL/d log mu, dNLL/d log theta) at mu = exp(log_mu), theta = exp(log_theta)."""
    mu, theta = mp.exp(log_mu), mp.exp(log_theta)
    return (-nb_logpmf(x, mu, theta), mu * nb_nll_grad_mu(x, mu, theta), nb_nll_grad_logtheta(x, mu, theta))


def nb_p_zero(mu: mpf, theta: mpf) -> mpf:
    """P(x = 0) = (theta/(theta + mu))^theta, as exp(-theta log1p(mu/theta)): theta + mu would round to theta at the
    working precision once theta exceeds mu by its digits (theta = 1e160, mu = 2: the power would give 1, not e^-2)."""
    return mp.exp(-theta * mp.log1p(mu / theta))


def nb_p_zero_grad_mu(mu: mpf, theta: mpf) -> mpf:
    """d P(x = 0)/d mu = -theta/(theta + mu) P(x = 0)."""
    return -theta / (theta + mu) * nb_p_zero(mu, theta)


def nb_p_zero_grad_theta(mu: mpf, theta: mpf) -> mpf:
    """d P(x = 0)/d theta = P(x = 0) (log(theta/(theta + mu)) + mu/(theta + mu)) = P(x = 0) (t/(1 + t) - log1p(t)),
    t = mu/theta: the two terms are ~t and their sum ~t^2/2, so it is summed with log10(1/t) more digits."""
    t = mu / theta
    if t == 0:
        return mpf(0)
    with mp.extradps(max(0, int(-mp.log10(t))) + 10):
        return nb_p_zero(mu, theta) * (t / (1 + t) - mp.log1p(t))


def nb_p_zero_condition(mu: mpf, theta: mpf) -> mpf:
    """P(x = 0) = exp(L), L = theta log(theta/(theta + mu)): |L|, the amplification of exp(), whose argument can be no
    more accurate than one rounding."""
    return abs(theta * mp.log(theta / (theta + mu)))
