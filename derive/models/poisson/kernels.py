"""The Poisson kernels: the log-PMF (conventions as scipy's, then x = 0 and the deviance form) and the mu-gradient of
its loss."""

from __future__ import annotations

import sympy as sp

from derive.models.common import goals, nan_branch, with_domain
from derive.models.poisson import oracle
from derive.precision import Precision
from derive.primitives import IsInf, IsNaN, NotCount
from derive.spec import MU, NEG_INF, Branch, Gradient, KernelSpec, Oracle, X, kernel_expr


def _poisson_logpmf(p: Precision) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | (MU < 0), 1),
        Branch(NotCount(X), (NEG_INF,), "x negative or not an integer: probability 0"),
        Branch(sp.Eq(MU, 0) & sp.Eq(X, 0), (sp.S.Zero,), "mu = 0: all mass at 0"),
        Branch(sp.Eq(MU, 0) | IsInf(MU), (NEG_INF,), "mu = 0 (x > 0) or mu = +inf"),
        Branch(sp.Eq(X, 0), (-MU,), "x = 0: -mu"),
        Branch(sp.true, (kernel_expr("stable.poisson_logpmf_deviance"),), "deviance form"),
    ]
    return with_domain(KernelSpec("poisson_logpmf", "Poisson log-PMF.", (X, MU), ("logpmf",), tuple(branches),
                                  ("poisson.logpmf", "stable.poisson_logpmf_deviance"), goals=goals(p, "value"),
                                  oracle=Oracle(oracle.poisson_logpmf)), "cp", regimes=2)


def _poisson_nll_grad_mu(p: Precision) -> KernelSpec:
    branches = [
        nan_branch(IsNaN(X) | IsNaN(MU) | (MU < 0) | NotCount(X), 1),
        Branch(sp.Eq(MU, 0) & sp.Eq(X, 0), (sp.S.One,), "mu = 0, x = 0: the loss is mu, its slope 1"),
        Branch(sp.Eq(MU, 0), (NEG_INF,), "mu = 0, x > 0: -x/mu"),
        Branch(IsInf(MU), (sp.S.One,), "mu = +inf: the limit of (mu - x)/mu"),
        Branch(sp.true, (kernel_expr("poisson.nll_grad_mu"),), "(mu - x)/mu"),
    ]
    return with_domain(KernelSpec("poisson_nll_grad_mu", "d(-log p)/d mu of the Poisson.", (X, MU), ("grad_mu",),
                                  tuple(branches), ("poisson.nll_grad_mu",), goals=goals(p, "gradient"),
                                  gradients=(Gradient(0, "mu", of="poisson_logpmf", sign=-1),),
                                  oracle=Oracle(oracle.poisson_nll_grad_mu)), "cp", regimes=1)


#: The kernels float32 computes whole in float64 (KernelSpec.widened), with what their float32 forms gave (as the NB
#: model's WIDENED: 1000 cases per regime against the oracle at float32 inputs).
WIDENED = {
    "poisson_logpmf": "its float32 deviance sum reaches 9.6 units of 2^-24 at large counts (goal 8).",
}


def specs(precision: Precision) -> tuple[KernelSpec, ...]:
    """The Poisson kernels for ``precision`` (its goals: the branches have no thresholds)."""
    return (_poisson_logpmf(precision), _poisson_nll_grad_mu(precision))
