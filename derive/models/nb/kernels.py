"""The NB kernels: the log-PMF (given mu or log mu), its gradients, the fused value and gradients, P(x = 0).

Each is a list of branches (see :mod:`derive.spec`): the conventions first, then the numerical regimes, every output
from a registered derivation (:mod:`derive.models.nb.stable`, and the Poisson forms for theta = +inf).

The switches between regimes that depend on the floating-point format (where e^log_mu or e^log_theta would overflow
or underflow, where theta's leading asymptotic terms take over, where x + mu is negligible against theta) are the
precision's (:mod:`derive.precision`), passed to every builder here: the derivations stay precision-independent
mathematics, and ``specs(FLOAT32)`` differs from ``specs(FLOAT64)`` only in those numbers and the goals.
"""

from __future__ import annotations

import sympy as sp

from derive.models.common import goals, nan_branch, with_domain
from derive.models.nb import oracle
from derive.models.nb.stable import DEVIANCE_LETS, ZERO_SERIES_LETS, q, rho
from derive.precision import Precision
from derive.primitives import IsInf, IsNaN, NotCount
from derive.series import REMAINDER_SERIES_BELOW, SMALL_COUNT, SMALL_FORM_MIN_THETA, ZERO_SERIES_BELOW
from derive.spec import (
    LOG_MU,
    LOG_THETA,
    MU,
    NAN,
    NEG_INF,
    POS_INF,
    THETA,
    Branch,
    Gradient,
    KernelSpec,
    Oracle,
    X,
    kernel_expr,
    to_kernel,
)

#: From this theta on, the theta-gradient near its zero uses the asymptotic split (GradThetaLead).
ASYMPTOTIC_THETA = 10
#: The relative residual rho = (mu - x)/mu, a let of the mu-gradients (see stable.nb_nll_grad_mu).
RHO_LET = (rho, sp.Piecewise((sp.S.One, IsInf(MU)), ((MU - X) / MU, True)))


def _logpmf_special(count: sp.Symbol, mean: sp.Symbol, disp: sp.Symbol) -> dict[str, Branch]:
    """Limits at the edges of the parameter space (mean 0 or infinite, theta infinite), by name."""
    subs = {X: count, MU: mean, THETA: disp}
    poisson = kernel_expr("stable.poisson_logpmf_deviance").xreplace(subs)
    return {
        "mu0_x0": Branch(sp.Eq(mean, 0) & sp.Eq(count, 0), (sp.S.Zero,), "mu = 0: all mass at 0"),
        "mu0": Branch(sp.Eq(mean, 0), (NEG_INF,), "mu = 0: no mass at x > 0"),
        "mu_inf": Branch(IsInf(mean), (NEG_INF,), "mu = +inf: the mass has escaped to infinity"),
        "poisson_x0": Branch(IsInf(disp) & sp.Eq(count, 0), (-mean,), "theta = +inf (Poisson), x = 0"),
        "poisson": Branch(IsInf(disp), (poisson,), "theta = +inf: Poisson, deviance form"),
    }


def _logpmf_regimes(count: sp.Symbol, mean: sp.Symbol, disp: sp.Symbol) -> list[Branch]:
    """The numerically distinct forms for a valid count and finite, positive mean and dispersion."""
    subs = {X: count, MU: mean, THETA: disp}
    zero = kernel_expr("stable.nb_logpmf_zero").xreplace(subs)
    small = kernel_expr("stable.nb_logpmf_small").xreplace(subs)
    deviance = kernel_expr("stable.nb_logpmf_deviance").xreplace(subs)
    lets = tuple((name, to_kernel(value).xreplace(subs)) for name, value in DEVIANCE_LETS)
    return [
        Branch(sp.Eq(count, 0), (zero,), "x = 0: -theta log1p(mu/theta)", dense=True),
        Branch((count < sp.Integer(SMALL_COUNT)) & (disp >= SMALL_FORM_MIN_THETA), (small,),
               "small counts: x log(mu) + exact sum - log x! - (x+theta) log1p(mu/theta)"),
        Branch(sp.true, (deviance,), "deviance (saddle-point) form", lets),
    ]


def _decimal(power_of_ten: sp.Float) -> str:
    """A power of ten as the notes write it: 1e150, 1e-15."""
    return format(float(power_of_ten), ".0e").replace("e+", "e")


def _in_range(threshold: sp.Float, p: Precision) -> sp.Float:
    """``threshold``, or ``p``'s largest finite number where the threshold lies beyond it (float32's
    lead_from_series, 1e51): the regime past it never occurs for finite inputs, and the branch keeps its shape
    without a number the format cannot hold (it would print as inf in that format's code)."""
    return min(threshold, p.finite_max)


def _nb_logpmf(p: Precision) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | IsNaN(THETA) | (MU < 0) | (THETA <= 0), 1),
        Branch(NotCount(X), (NEG_INF,), "x negative or not an integer: probability 0"),
        *_logpmf_special(X, MU, THETA).values(),
        *_logpmf_regimes(X, MU, THETA),
    ]
    return with_domain(KernelSpec(
        "nb_logpmf", "NB log-PMF log p(x | mu, theta).", (X, MU, THETA), ("logpmf",), tuple(branches),
        ("nb.loglik", "stable.nb_logpmf_zero", "stable.nb_logpmf_small", "stable.nb_logpmf_deviance",
         "stable.poisson_logpmf_deviance"),
        reduction="sum_last_negated", reduction_name="nb_nll_sum_genes",
        goals=goals(p, "value"), oracle=Oracle(oracle.nb_logpmf),
    ), "cpp", regimes=3)


def _logmu_logpmf_branches(p: Precision) -> list[tuple[str, Branch]]:
    """Log-PMF branches given eta = log_mu (mu = e^eta is a let, and may overflow to inf), with their keys. Beyond
    +-p.huge_log_mu e^eta is not formed (p.finite_max: "finite", IsInf tests +inf only)."""
    huge_log_mu, finite_max = p.huge_log_mu, p.finite_max
    special = _logpmf_special(X, MU, THETA)
    numeric = _logpmf_regimes(X, MU, THETA)
    return [
        ("logmu_inf", Branch(IsInf(LOG_MU), (NEG_INF,), "log_mu = +inf: the mass has escaped to infinity")),
        ("poisson_overflow", Branch(IsInf(THETA) & IsInf(MU), (NEG_INF,), "Poisson with e^log_mu overflowing")),
        ("poisson_x0", special["poisson_x0"]),
        ("poisson_tiny", Branch(IsInf(THETA) & (LOG_MU < -huge_log_mu), (kernel_expr("stable.poisson_logpmf_logmu"),),
                                "Poisson with e^log_mu underflowing: x log_mu - mu - log x!")),
        ("poisson", special["poisson"]),
        ("huge", Branch((LOG_MU > huge_log_mu) | ((LOG_MU < -huge_log_mu) & (LOG_MU > -finite_max)),
                        (kernel_expr("stable.nb_loglik_logmu_huge"),),
                        "e^log_mu would overflow or underflow: softplus form")),
        ("mu0_x0", special["mu0_x0"]), ("mu0", special["mu0"]),
        ("x0", numeric[0]), ("small", numeric[1]), ("deviance", numeric[2]),
    ]


def _nb_logpmf_logmu(p: Precision) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(LOG_MU) | IsNaN(THETA) | (THETA <= 0), 1),
        Branch(NotCount(X), (NEG_INF,), "x negative or not an integer: probability 0"),
        *(branch for _, branch in _logmu_logpmf_branches(p)),
    ]
    return with_domain(KernelSpec(
        "nb_logpmf_logmu", "NB log-PMF with the mean given as log_mu (seed §8).", (X, LOG_MU, THETA),
        ("logpmf",), tuple(branches),
        ("nb.loglik_logmu", "stable.nb_loglik_logmu_huge", "stable.nb_logpmf_zero", "stable.nb_logpmf_small",
         "stable.nb_logpmf_deviance"),
        lets=((MU, sp.exp(LOG_MU)),), goals=goals(p, "value"), oracle=Oracle(oracle.nb_logpmf_logmu),
    ), "clp", regimes=3)


def _grad_mu(p: Precision) -> KernelSpec:
    general = kernel_expr("stable.nb_nll_grad_mu")
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | IsNaN(THETA) | (MU < 0) | (THETA <= 0) | NotCount(X), 1),
        Branch(sp.Eq(MU, 0) & sp.Eq(X, 0), (sp.S.One,), "mu = 0, x = 0: the limit theta/(theta+mu) = 1"),
        Branch(sp.Eq(MU, 0), (NEG_INF,), "mu = 0, x > 0: -x/mu"),
        Branch(IsInf(THETA), (general.subs(THETA, sp.oo),), "theta = +inf: Poisson, (mu - x)/mu", (RHO_LET,)),
        Branch(sp.true, (general,), "rho/(1 + mu/theta), rho = (mu - x)/mu", (RHO_LET,)),
    ]
    return with_domain(KernelSpec(
        "nb_nll_grad_mu", "d(-log p)/d mu.", (X, MU, THETA), ("grad_mu",), tuple(branches),
        ("nb.nll_grad_mu", "stable.nb_nll_grad_mu"), goals=goals(p, "gradient"),
        gradients=(Gradient(0, "mu", of="nb_logpmf", sign=-1),), oracle=Oracle(oracle.nb_nll_grad_mu),
    ), "cpp", regimes=1)


def _grad_logmu_output() -> sp.Expr:
    """d nll/d log_mu in terms of MU (= e^log_mu), LOG_MU and THETA, bounded for large log_mu."""
    small_eta = kernel_expr("stable.nb_nll_grad_logmu").subs(sp.exp(LOG_MU), MU)
    # In terms of mu and rho = (mu - x)/mu (a let): 1/inf = 0 gives the bounded limit theta.
    large_eta = kernel_expr("stable.nb_nll_grad_logmu_bounded")
    return sp.Piecewise((large_eta, LOG_MU > 0), (small_eta, True))


def _grad_logmu(p: Precision) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(LOG_MU) | IsNaN(THETA) | (THETA <= 0) | NotCount(X), 1),
        Branch(IsInf(LOG_MU), (kernel_expr("nb.nll_grad_logmu_limit"),),
               "log_mu = +inf: the bounded limit theta (seed §7.2)"),
        Branch(IsInf(THETA), (MU - X,), "theta = +inf: Poisson, mu - x"),
        Branch(sp.true, (_grad_logmu_output(),), "theta (mu - x)/(theta + mu), bounded form for log_mu > 0"),
    ]
    return with_domain(KernelSpec(
        "nb_nll_grad_logmu", "d(-log p)/d log_mu: bounded by theta as mu grows (seed §7.2).",
        (X, LOG_MU, THETA), ("grad_logmu",), tuple(branches),
        ("nb.nll_grad_logmu", "stable.nb_nll_grad_logmu", "stable.nb_nll_grad_logmu_bounded",
         "nb.nll_grad_logmu_limit"),
        lets=((MU, sp.exp(LOG_MU)), RHO_LET), goals=goals(p, "gradient"),
        gradients=(Gradient(0, "log_mu", of="nb_logpmf_logmu", sign=-1),), oracle=Oracle(oracle.nb_nll_grad_logmu),
    ), "clp", regimes=1)


def _grad_theta_regimes(scale: sp.Expr, p: Precision) -> list[Branch]:
    """d nll/d theta times ``scale``: an exact short sum for small counts, digamma remainders beyond; for theta times
    it, the leading asymptotic term beyond p.huge_theta."""
    small = scale * kernel_expr("stable.nb_nll_grad_theta_small")
    general = scale * kernel_expr("stable.nb_nll_grad_theta")
    near_zero = scale * kernel_expr("stable.nb_nll_grad_theta_asymptotic")
    q_let = tuple((name, to_kernel(value)) for name, value in DEVIANCE_LETS if name == q)
    s = (X - MU) / (THETA + MU)
    # (x = 0 has no sign change: the plain small-count form is exact there.)
    # (Beyond p.lead_from_series its leading part is a series in 1/theta, and the huge form below is the leading term:
    # both only where x + mu is negligible against theta.)
    negligible = X + MU < p.negligible_against_theta * THETA
    asymptotic = ((X > 0) & (THETA >= ASYMPTOTIC_THETA) & (sp.Abs(s) < REMAINDER_SERIES_BELOW)
                  & ((X >= sp.Integer(SMALL_COUNT)) | (MU >= 1))
                  & ((THETA <= _in_range(p.lead_from_series, p)) | negligible))
    regimes = [
        Branch(asymptotic, (near_zero,), "theta large, x near mu: the cancelling O(1/theta^2) part done exactly"),
        Branch(X < sp.Integer(SMALL_COUNT), (small,), "small counts: exact sum, no digamma"),
        Branch(sp.true, (general,), "-(Log1pmx((x-mu)/(theta+mu)) + PsilogDiff(x, theta))", q_let),
    ]
    if scale == THETA:  # theta times terms that underflow before the product does: the leading term itself
        huge = Branch((THETA > p.huge_theta) & negligible, (kernel_expr("stable.nb_nll_grad_logtheta_huge"),),
                      f"theta > {_decimal(p.huge_theta)}, x + mu negligible: the leading asymptotic term, "
                      "-(x - (x-mu)^2)/(2 theta)")
        regimes.insert(0, huge)
    return regimes


def _grad_theta(p: Precision, scale_by_theta: bool) -> KernelSpec:
    name = "nb_nll_grad_logtheta" if scale_by_theta else "nb_nll_grad_theta"
    doc = "d(-log p)/d log_theta = theta d(-log p)/d theta." if scale_by_theta else "d(-log p)/d theta."
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | IsNaN(THETA) | (MU < 0) | (THETA <= 0) | NotCount(X), 1),
        Branch(IsInf(MU), (NAN,), "mu = +inf: no finite likelihood to differentiate"),
        Branch(IsInf(THETA), (sp.S.Zero,), "theta = +inf: the Poisson limit does not depend on theta"),
        *(regimes := _grad_theta_regimes(THETA if scale_by_theta else sp.S.One, p)),
    ]
    sources = ("nb.nll_grad_logtheta" if scale_by_theta else "nb.nll_grad_theta", "stable.nb_nll_grad_theta",
               "stable.nb_nll_grad_theta_small", "stable.nb_nll_grad_theta_asymptotic")
    if scale_by_theta:
        sources += ("stable.nb_nll_grad_logtheta_huge",)
    gradient = Gradient(0, "log_theta" if scale_by_theta else "theta", of="nb_logpmf", sign=-1)
    reference = oracle.nb_nll_grad_logtheta if scale_by_theta else oracle.nb_nll_grad_theta
    return with_domain(KernelSpec(name, doc, (X, MU, THETA), ("grad",), tuple(branches), sources,
                                  goals=goals(p, "gradient"), gradients=(gradient,), oracle=Oracle(reference)),
                       "cpp", regimes=len(regimes))


def _fused_zero_fast(grad_logmu: sp.Expr, p: Precision) -> list[Branch]:
    """x = 0 in the fused kernel: the value and the theta-gradient from one series (no log call), or from one log.

    Together they cover x = 0 but for mu/theta < p.zero_series_from (the x = 0 branch after them), where the series'
    products of small quotients could underflow before the result does; there the theta-gradient is its leading term,
    mu^2/(2 theta), to a relative O(mu/theta). The series is the dense branch, the log the sweep over what it leaves.
    """
    lets = tuple((name, to_kernel(value)) for name, value in ZERO_SERIES_LETS)
    series = (kernel_expr("stable.nb_nll_zero_series"), grad_logmu,
              kernel_expr("stable.nb_nll_grad_logtheta_zero_series"))
    logs = (kernel_expr("stable.nb_nll_zero_log"), grad_logmu, kernel_expr("stable.nb_nll_grad_logtheta_zero_log"))
    in_series = (MU <= ZERO_SERIES_BELOW * THETA) & (MU >= p.zero_series_from * THETA)
    return [
        Branch(sp.Eq(X, 0) & in_series, series, "x = 0, mu <= theta/3: 2 theta atanh(v) as a series, shared",
               lets, dense=True),
        Branch(sp.Eq(X, 0) & (MU > ZERO_SERIES_BELOW * THETA), logs, "x = 0, mu > theta/3: theta log(1 + mu/theta)",
               sweep=True),
    ]


def _fused_gradients(p: Precision) -> tuple[dict[str, tuple[sp.Expr, sp.Expr]], tuple[sp.Expr, sp.Expr]]:
    """The fused kernel's (d/d log_mu, d/d log_theta) per key of :func:`_logmu_logpmf_branches`, and the pair for
    the keys without their own."""
    by_count = sp.Piecewise(*((b.outputs[0], b.condition) for b in _grad_theta_regimes(THETA, p)))
    q_value = dict((name, to_kernel(value)) for name, value in DEVIANCE_LETS)[q]
    # q is a let only in the deviance branch; elsewhere the theta-gradient spells it out.
    general = (_grad_logmu_output(), by_count.subs(q, q_value))
    # theta = +inf: the log-mean gradient's theta -> oo value (mu - x); the Poisson likelihood has no theta.
    poisson = (kernel_expr("stable.nb_nll_grad_logmu").subs(sp.exp(LOG_MU), MU).subs(THETA, sp.oo), sp.S.Zero)
    gradients = {
        "logmu_inf": (kernel_expr("nb.nll_grad_logmu_limit"), NAN),
        "poisson_overflow": poisson, "poisson_x0": poisson, "poisson": poisson,
        "poisson_tiny": poisson,
        "huge": (general[0], THETA * kernel_expr("stable.nb_nll_grad_theta_logmu_huge")),
        # x = 0: inside the ordinary domain (|log_mu| <= p.huge_log_mu) mu/(mu + theta) needs no bounded form. The
        # x = 0 forms before this branch leave it mu/theta < p.zero_series_from, where theta d/d theta is
        # mu^2/(2 theta) to O(mu/theta) (mu^2 is finite there: mu < zero_series_from e^huge_log_mu, which
        # Precision.huge_log_mu keeps below the square root of the largest finite number; float64: 1e-150 e^700).
        # (theta times the quotient, in that order: theta mu would overflow for huge theta.)
        "x0": (THETA * sp.UnevaluatedExpr(kernel_expr("stable.nb_nll_grad_logmu_zero").subs(sp.exp(LOG_MU), MU)
                                          / THETA),
               kernel_expr("stable.nb_nll_grad_logtheta_huge").subs(X, 0)),
        "deviance": (general[0], by_count),
    }
    return gradients, general


def _fused(p: Precision) -> KernelSpec:
    """Value and both log-gradients in one pass; each branch of the log-PMF carries the matching gradients."""
    gradients, general = _fused_gradients(p)
    in_mu = {sp.exp(LOG_MU): MU, sp.exp(-LOG_MU): 1 / MU}
    tiny_value = sp.Piecewise((kernel_expr("stable.nb_loglik_logtheta_tiny_zero"), sp.Eq(X, 0)),
                              (kernel_expr("stable.nb_loglik_logtheta_tiny"), True))
    tiny_grad = sp.Piecewise((kernel_expr("stable.nb_nll_grad_logtheta_tiny_zero").subs(in_mu), sp.Eq(X, 0)),
                             (kernel_expr("stable.nb_nll_grad_logtheta_tiny").subs(in_mu), True))
    branches = [nan_branch(IsNaN(X) | IsNaN(LOG_MU) | IsNaN(LOG_THETA), 3),
                Branch(NotCount(X), (POS_INF, NAN, NAN), "x negative or not an integer: nll = +inf"),
                Branch((LOG_THETA < -p.huge_log_mu) & ~IsInf(LOG_MU),
                       (-tiny_value, kernel_expr("nb.nll_grad_logmu").subs(in_mu), tiny_grad),
                       "theta = e^log_theta underflows: log theta taken out of log Gamma(theta) exactly")]
    for key, branch in _logmu_logpmf_branches(p):
        if key == "x0":
            branches.extend(_fused_zero_fast(gradients["x0"][0], p))
        (value,) = branch.outputs
        outputs = (-value, *gradients.get(key, general))
        # rho is computed only in the branches that read it (a division per element otherwise).
        lets = ((RHO_LET,) if any(sp.sympify(o).has(rho) for o in outputs) else ()) + branch.lets
        # (x = 0 is dense in the two forms before it; this one is left for the edges of their ranges.)
        branches.append(Branch(branch.condition, outputs, branch.note, lets, branch.dense and key != "x0"))
    return with_domain(KernelSpec(
        "nb_nll_fused", "(nll, d nll/d log_mu, d nll/d log_theta) in one pass, sharing subexpressions.",
        (X, LOG_MU, LOG_THETA), ("nll", "grad_logmu", "grad_logtheta"), tuple(branches),
        ("nb.loglik_logmu", "nb.nll_grad_logmu", "nb.nll_grad_logtheta", "stable.nb_nll_grad_theta",
         "stable.nb_nll_grad_theta_small", "stable.nb_nll_grad_theta_asymptotic", "stable.nb_nll_grad_logmu_bounded",
         "stable.nb_loglik_logtheta_tiny", "stable.nb_nll_grad_logtheta_tiny", "stable.nb_loglik_logtheta_tiny_zero",
         "stable.nb_nll_grad_logtheta_tiny_zero", "stable.nb_nll_grad_logmu_zero", "stable.nb_nll_zero_series",
         "stable.nb_nll_grad_logtheta_zero_series", "stable.nb_nll_zero_log", "stable.nb_nll_grad_logtheta_zero_log"),
        lets=((MU, sp.exp(LOG_MU)), (THETA, sp.exp(LOG_THETA))),
        goals=goals(p, "value", "gradient", "gradient"), output_labels=("nll", "dlog_mu", "dlog_theta"),
        gradients=(Gradient(1, "log_mu"), Gradient(2, "log_theta")), oracle=Oracle(oracle.nb_nll_fused),
    ), "cll", regimes=5)


def _p_zero(p: Precision) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(MU) | IsNaN(THETA) | (MU < 0) | (THETA <= 0), 1),
        Branch(IsInf(THETA), (sp.exp(-MU),), "theta = +inf: Poisson, e^-mu"),
        Branch(sp.true, (kernel_expr("stable.nb_p_zero"),), "exp(-theta log1p(mu/theta))"),
    ]
    # (A probability, not a log: issue 4 gives it the gradients' goal, and exp() amplifies the rounding of its
    # argument, which the oracle's condition number allows for.)
    return with_domain(KernelSpec(
        "nb_p_zero", "P(x = 0) = (theta/(theta+mu))^theta.", (MU, THETA), ("p_zero",), tuple(branches),
        ("nb.p_zero", "stable.nb_p_zero"), goals=goals(p, "gradient"),
        oracle=Oracle(oracle.nb_p_zero, condition=oracle.nb_p_zero_condition),
    ), "pp", regimes=1)


#: t = mu/theta, a let of P(x = 0)'s gradients (mu^2/theta^2 of the stable form would overflow where t does not).
RATIO = sp.Symbol("t", nonnegative=True)
RATIO_LET = (RATIO, MU / THETA)


def _in_ratio(form: sp.Expr) -> sp.Expr:
    """A stable form of P(x = 0)'s gradients in t = mu/theta, but for P(x = 0) itself (stable.nb_p_zero, whose
    Log1pDiv takes mu and theta)."""
    p_zero = kernel_expr("stable.nb_p_zero")
    return form.subs(MU, RATIO * THETA).subs(p_zero.subs(MU, RATIO * THETA), p_zero)


def _p_zero_gradient(p: Precision, wrt: sp.Symbol) -> KernelSpec:
    """d P(x = 0)/d mu or d theta: its limits at theta = +inf and mu = +inf, then the stable forms."""
    if wrt == MU:
        poisson, general = -sp.exp(-MU), _in_ratio(kernel_expr("stable.nb_p_zero_grad_mu"))
        limit = "theta = +inf: the derivative of the Poisson's e^-mu"
        sources = ("nb.p_zero_grad_mu", "stable.nb_p_zero_grad_mu")
    else:
        poisson, limit = sp.S.Zero, "theta = +inf: the limit 0 (P(x = 0) tends to e^-mu, which has no theta)"
        general = sp.Piecewise((kernel_expr("stable.nb_p_zero_grad_theta_far"), RATIO > 1),
                               (_in_ratio(kernel_expr("stable.nb_p_zero_grad_theta")), True))
        sources = ("nb.p_zero_grad_theta", "stable.nb_p_zero_grad_theta", "stable.nb_p_zero_grad_theta_far")
    branches = [
        nan_branch(IsNaN(MU) | IsNaN(THETA) | (MU < 0) | (THETA <= 0), 1),
        Branch(IsInf(THETA), (poisson,), limit),
        Branch(IsInf(MU), (sp.S.Zero,), "mu = +inf: P(x = 0) and its derivatives vanish"),
        Branch(sp.true, (general,), "the stable forms in t = mu/theta", (RATIO_LET,)),
    ]
    name = f"nb_p_zero_grad_{wrt.name}"
    return with_domain(KernelSpec(
        name, f"d P(x = 0)/d {wrt.name}.", (MU, THETA), (f"grad_{wrt.name}",), tuple(branches), sources,
        goals=goals(p, "gradient"), gradients=(Gradient(0, wrt.name, of="nb_p_zero"),),
        oracle=Oracle(getattr(oracle, name), condition=oracle.nb_p_zero_condition),
    ), "pp", regimes=1)


#: The kernels float32 computes whole in float64 (KernelSpec.widened), with what their float32 forms gave against the
#: oracle at float32 inputs (1000 cases per accuracy regime, seed 7; goals 8 and 16 units of 2^-24, issue 13). Each
#: needs a float32 form of its own before it can run in float32: the sums kept compensated (a float32 pair) where
#: they cancel, L = log P(0) to more than float32's digits before e^L.
WIDENED = {
    "nb_logpmf": "its float32 small-count and deviance sums reach 29 units of 2^-24 at small theta (goal 8).",
    "nb_logpmf_logmu": "the same sums as nb_logpmf's, 29 units of 2^-24 (goal 8).",
    "nb_nll_grad_logmu": "mu - x = e^log_mu - x cancels where mu ~ x: float32's exponential drops what float64's keeps "
                         "(x = 1, log_mu = 2^-32: 0 for 2.3e-10; float64 loses it below |log_mu| ~ 2^-53, issue 14).",
    "nb_nll_grad_theta": "its float32 parts reach 15.8 units of 2^-24 against the goal of 16: no margin.",
    "nb_nll_grad_logtheta": "as nb_nll_grad_theta's, 15.4 units of 2^-24 against 16.",
    "nb_nll_fused": "its value's sums as nb_logpmf's (29 units of 2^-24), its d/dlog theta 1.2 times its allowance.",
    "nb_p_zero": "e^L loses |L| times L's float32 rounding: 1.3 times the allowance at L = -65.",
    "nb_p_zero_grad_mu": "P(x = 0) as nb_p_zero's, 1.3 times the allowance.",
    "nb_p_zero_grad_theta": "P(x = 0) as nb_p_zero's, 1.2 times the allowance.",
}
#: Of those, the kernels whose x = 0 branch (-theta log1p(mu/theta): three roundings, no cancellation) float32 still
#: computes in float32, measured within the goal in every regime (1000 cases each): most entries of single-cell data.
NARROW_DENSE = frozenset({"nb_logpmf", "nb_logpmf_logmu"})


def specs(precision: Precision) -> tuple[KernelSpec, ...]:
    """The NB kernels for ``precision``, in the order the generated files list them."""
    return (
        _nb_logpmf(precision),
        _nb_logpmf_logmu(precision),
        _grad_mu(precision),
        _grad_logmu(precision),
        _grad_theta(precision, scale_by_theta=False),
        _grad_theta(precision, scale_by_theta=True),
        _fused(precision),
        _p_zero(precision),
        _p_zero_gradient(precision, MU),
        _p_zero_gradient(precision, THETA),
    )
