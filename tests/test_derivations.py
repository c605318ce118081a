"""Every required derivation exists, is proven, and equals a closed form typed here from the literature.

The closed forms below are written independently of derive/models (as in Hilbe 2011, Negative Binomial
Regression, and the seed document's text) and evaluated with mpmath; derive's results are lambdified and
compared at 30 digits at random points.
"""

from __future__ import annotations

import random

import mpmath as mp
import pytest
import sympy as sp

import derive
from derive.symbols import MU, THETA, G, X, alpha, eta, lam, mu, p, sigma2, theta, x

REQUIRED = [
    "nb.pmf", "nb.pmf_alpha", "nb.mean", "nb.variance",
    "nb.loglik", "nb.term_combinatorial", "nb.term_dispersion", "nb.term_count", "nb.loglik_p",
    "nb.loss", "nb.loss_total",
    "nb.p_zero", "nb.p_zero_mu0", "nb.p_zero_muinf",
    "nb.poisson_limit", "nb.variance_limit",
    "nb.nll_grad_mu", "nb.nll_grad_logmu", "nb.nll_grad_logmu_limit", "nb.nll_grad_theta",
    "nb.nll_grad_logtheta", "nb.loglik_logmu",
    "gauss.loglik", "gauss.p_zero", "mse.loss", "mse.grad_mu", "mse.grad_logmu", "gauss.grad_mu",
    "poisson.logpmf",
]


def lgam(z):
    return mp.loggamma(z)


# Closed forms, typed from the literature: functions of a dict of mpmath values.
CLOSED = {
    "nb.pmf": lambda v: mp.gamma(v["x"] + v["theta"]) / (mp.gamma(v["theta"]) * mp.factorial(v["x"]))
    * (v["theta"] / (v["theta"] + v["mu"])) ** v["theta"] * (v["mu"] / (v["theta"] + v["mu"])) ** v["x"],
    "nb.pmf_alpha": lambda v: mp.gamma(v["x"] + 1 / v["alpha"]) / (mp.gamma(1 / v["alpha"]) * mp.factorial(v["x"]))
    * (1 + v["alpha"] * v["mu"]) ** (-1 / v["alpha"])
    * (v["alpha"] * v["mu"] / (1 + v["alpha"] * v["mu"])) ** v["x"],
    "nb.mean": lambda v: v["mu"],
    "nb.variance": lambda v: v["mu"] + v["mu"] ** 2 / v["theta"],
    "nb.loglik": lambda v: lgam(v["x"] + v["theta"]) - lgam(v["theta"]) - lgam(v["x"] + 1)
    + v["theta"] * mp.log(v["theta"] / (v["theta"] + v["mu"])) + v["x"] * mp.log(v["mu"] / (v["theta"] + v["mu"])),
    "nb.term_combinatorial": lambda v: lgam(v["x"] + v["theta"]) - lgam(v["theta"]) - lgam(v["x"] + 1),
    "nb.term_dispersion": lambda v: v["theta"] * mp.log(v["theta"] / (v["theta"] + v["mu"])),
    "nb.term_count": lambda v: v["x"] * mp.log(v["mu"] / (v["theta"] + v["mu"])),
    "nb.loglik_p": lambda v: lgam(v["x"] + v["theta"]) - lgam(v["theta"]) - lgam(v["x"] + 1)
    + v["theta"] * mp.log(v["p"]) + v["x"] * mp.log(1 - v["p"]),
    "nb.p_zero": lambda v: (v["theta"] / (v["theta"] + v["mu"])) ** v["theta"],
    "nb.poisson_limit": lambda v: v["mu"] ** v["x"] * mp.exp(-v["mu"]) / mp.factorial(v["x"]),
    "nb.variance_limit": lambda v: v["mu"],
    "nb.nll_grad_mu": lambda v: v["x"] / v["mu"] * -1 + (v["x"] + v["theta"]) / (v["theta"] + v["mu"]),
    "nb.nll_grad_logmu": lambda v: v["theta"] * (mp.exp(v["eta"]) - v["x"]) / (v["theta"] + mp.exp(v["eta"])),
    "nb.nll_grad_theta": lambda v: -(mp.digamma(v["x"] + v["theta"]) - mp.digamma(v["theta"])
                                     + mp.log(v["theta"] / (v["theta"] + v["mu"]))
                                     + (v["mu"] - v["x"]) / (v["theta"] + v["mu"])),
    "nb.nll_grad_logtheta": lambda v: -mp.exp(v["lambda"]) * (
        mp.digamma(v["x"] + mp.exp(v["lambda"])) - mp.digamma(mp.exp(v["lambda"]))
        + mp.log(mp.exp(v["lambda"]) / (mp.exp(v["lambda"]) + v["mu"]))
        + (v["mu"] - v["x"]) / (mp.exp(v["lambda"]) + v["mu"])),
    "nb.loglik_logmu": lambda v: lgam(v["x"] + v["theta"]) - lgam(v["theta"]) - lgam(v["x"] + 1)
    + v["theta"] * mp.log(v["theta"] / (v["theta"] + mp.exp(v["eta"])))
    + v["x"] * (v["eta"] - mp.log(v["theta"] + mp.exp(v["eta"]))),
    "gauss.loglik": lambda v: -mp.log(2 * mp.pi * v["sigma2"]) / 2 - (v["x"] - v["mu"]) ** 2 / (2 * v["sigma2"]),
    "gauss.p_zero": lambda v: mp.exp(-v["mu"] ** 2 / (2 * v["sigma2"])) / mp.sqrt(2 * mp.pi * v["sigma2"]),
    "gauss.grad_mu": lambda v: (v["mu"] - v["x"]) / v["sigma2"],
    "mse.loss": lambda v: (v["x"] - v["mu"]) ** 2,
    "mse.grad_mu": lambda v: 2 * (v["mu"] - v["x"]),
    "mse.grad_logmu": lambda v: 2 * mp.exp(v["eta"]) * (mp.exp(v["eta"]) - v["x"]),
    "poisson.logpmf": lambda v: v["x"] * mp.log(v["mu"]) - v["mu"] - lgam(v["x"] + 1),
}

CONSTANTS = {
    "nb.p_zero_mu0": sp.Integer(1),
    "nb.p_zero_muinf": sp.Integer(0),
    "nb.nll_grad_logmu_limit": theta,
}


def _points(n: int = 12, seed: int = 7):
    rng = random.Random(seed)
    for _ in range(n):
        yield {
            "x": mp.mpf(rng.randint(0, 25)), "mu": mp.mpf(10 ** rng.uniform(-2, 2)),
            "theta": mp.mpf(10 ** rng.uniform(-1.5, 2.5)), "alpha": mp.mpf(10 ** rng.uniform(-2, 1)),
            "p": mp.mpf(rng.uniform(0.01, 0.99)), "eta": mp.mpf(rng.uniform(-4, 6)),
            "lambda": mp.mpf(rng.uniform(-2, 4)), "sigma2": mp.mpf(10 ** rng.uniform(-1, 2)),
        }


SYMBOLS = {"x": x, "mu": mu, "theta": theta, "alpha": alpha, "p": p, "eta": eta, "lambda": lam, "sigma2": sigma2}


def test_every_required_name_is_registered():
    names = derive.names()
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"missing derivations: {missing}"


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_result_equals_closed_form(name):
    result = derive.expr(name)
    free = sorted(result.free_symbols, key=lambda s: s.name)
    assert set(free) <= set(SYMBOLS.values()), f"{name} has unexpected symbols {free}"
    f = sp.lambdify(free, result, modules="mpmath")
    with mp.workdps(40):
        for values in _points():
            got = f(*(values[s.name] for s in free))
            want = CLOSED[name](values)
            assert abs(got - want) <= mp.mpf("1e-28") * max(1, abs(want)), (name, values, got, want)


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_limits(name):
    assert sp.simplify(derive.expr(name) - CONSTANTS[name]) == 0


def test_loss_is_negated_per_gene_loglik():
    per_gene = derive.expr("nb.loss")
    g = sp.Symbol("g", integer=True, positive=True)
    values = {X[g]: 3, MU[g]: sp.Rational(5, 2), THETA[g]: sp.Rational(7, 3)}
    got = sp.N(per_gene.subs(values), 30)
    with mp.workdps(30):
        v = {"x": mp.mpf(3), "mu": mp.mpf(5) / 2, "theta": mp.mpf(7) / 3}
        assert abs(got + CLOSED["nb.loglik"](v)) < mp.mpf("1e-25")


def test_loss_total_sums_the_genes():
    total = derive.expr("nb.loss_total")
    assert isinstance(total, sp.Sum)
    counts, means, dispersions = [0, 4, 11], [0.5, 3.0, 20.0], [2.0, 0.3, 50.0]
    g = total.limits[0][0]
    concrete = total.subs(G, 3).doit()
    values = {}
    for i in range(3):
        values[X[i + 1]] = counts[i]
        values[MU[i + 1]] = sp.Float(means[i], 30)
        values[THETA[i + 1]] = sp.Float(dispersions[i], 30)
    got = sp.N(concrete.subs(values), 30)
    with mp.workdps(30):
        want = -sum(CLOSED["nb.loglik"]({"x": mp.mpf(c), "mu": mp.mpf(m), "theta": mp.mpf(t)})
                    for c, m, t in zip(counts, means, dispersions, strict=True))
        assert abs(mp.mpf(str(got)) - want) < mp.mpf("1e-25")
    assert g.name == "g"


def test_three_terms_add_up_to_the_loglik():
    terms = derive.expr("nb.term_combinatorial") + derive.expr("nb.term_dispersion") + derive.expr("nb.term_count")
    assert sp.simplify(terms - derive.expr("nb.loglik")) == 0


@pytest.mark.parametrize("name", sorted(set(REQUIRED) | set(derive.names())))
def test_chain_reverifies(name):
    d = derive.derivation(name)
    assert d.steps[0].method == "definition"
    assert all(step.method in ("definition", "computed", "symbolic", "numeric", "asymptotic") for step in d.steps)
    # an asymptotic step is not an identity: it must carry the check that reverify() re-runs
    assert all(step.check is not None for step in d.steps if step.method == "asymptotic")
    assert all(step.why for step in d.steps)
    d.reverify()


def test_derived_not_typed():
    """Mean and variance come from the generating function, limits from limit, gradients from diff."""
    whys = " ".join(step.why for step in derive.derivation("nb.mean").steps)
    assert "generating function" in whys and "G'(1)" in whys
    assert "computed" in derive.derivation("nb.pgf").methods
    for name in ("nb.p_zero_mu0", "nb.p_zero_muinf", "nb.variance_limit", "nb.nll_grad_logmu_limit"):
        assert derive.derivation(name).steps[-1].method == "computed", name
    for name in ("nb.nll_grad_mu", "nb.nll_grad_theta", "nb.nll_grad_logmu"):
        assert any("differentiate" in step.why for step in derive.derivation(name).steps), name


def test_grad_logmu_tells_the_story_from_the_pmf_to_the_bound():
    steps = derive.derivation("nb.nll_grad_logmu").steps
    text = " | ".join(step.why for step in steps)
    for fragment in ("classic NB", "log of the PMF", "e^eta", "negative log-likelihood", "differentiate", "bounded"):
        assert fragment in text, fragment
    assert sp.limit(derive.expr("nb.nll_grad_logmu"), eta, sp.oo) == theta


def test_unknown_name_lists_close_names():
    with pytest.raises(derive.UnknownNameError) as info:
        derive.derivation("nb.loglk")
    assert "nb.loglik" in str(info.value)
    with pytest.raises(TypeError):
        derive.derivation(3)
