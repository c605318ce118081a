"""The chain machinery: a false step is an error, a true one records how it was proved."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.primitives import Dev1p, Log1pmx, Stirlerr, unfold
from derive.steps import Chain, VerificationError, equal_numerically, prove_equal
from derive.symbols import mu, theta, x


def test_false_rewrite_is_rejected():
    chain = Chain("t.false", "a false step").define(sp.log(mu * theta), "start")
    with pytest.raises(VerificationError):
        chain.rewrite(sp.log(mu) * sp.log(theta), "not the log of a product")


def test_false_operation_claim_is_rejected():
    chain = Chain("t.diff", "diff").define(mu**3, "start")
    with pytest.raises(VerificationError):
        chain.apply(lambda e: sp.diff(e, mu), "differentiate", shown=2 * mu**2)


def test_true_rewrite_is_recorded_as_symbolic():
    d = (Chain("t.true", "true").define(sp.log(mu * theta), "start")
         .rewrite(sp.log(mu) + sp.log(theta), "log of a product").build())
    assert d.methods == ("definition", "symbolic")
    d.reverify()


def test_numeric_check_separates_true_from_nearly_true():
    a = sp.loggamma(theta + 10) - sp.loggamma(theta)
    b = sum(sp.log(theta + k) for k in range(10))
    assert equal_numerically(a, b)
    assert not equal_numerically(a, b + sp.Rational(1, 10**25))


def test_primitives_are_unfolded_for_proofs():
    assert unfold(Log1pmx(mu)) == sp.log(1 + mu) - mu
    assert prove_equal(Dev1p(mu), (1 + mu) * sp.log(1 + mu) - mu)[0] in ("symbolic", "numeric")
    with pytest.raises(VerificationError):
        prove_equal(Stirlerr(theta), sp.loggamma(theta))


def test_introduced_symbol_is_checked_after_substitution():
    p = sp.Symbol("p", positive=True)
    chain = Chain("t.p", "p").define(theta * sp.log(theta / (theta + mu)), "start")
    chain.introduce(p, theta / (theta + mu), theta * sp.log(p), "let p = theta/(theta+mu)")
    with pytest.raises(VerificationError):
        chain.introduce(p, theta / (theta + mu), x * sp.log(p), "wrong")


def test_asymptotic_step_is_checked_in_its_region():
    chain = Chain("t.asym", "asymptotic").define(sp.log(1 + mu / theta), "start")
    chain.approximate(mu / theta, "leading term for theta >> mu", {mu: (1e-3, 1e3), theta: (1e60, 1e65)},
                      rtol=1e-50, digits=120)
    assert chain.steps[-1].method == "asymptotic"
    chain.build().reverify()
    bad = Chain("t.asym_bad", "asymptotic").define(sp.log(1 + mu / theta), "start")
    with pytest.raises(VerificationError):
        bad.approximate(mu / theta, "not valid for theta ~ mu", {mu: (1e-3, 1e3), theta: (1, 10)}, rtol=1e-50,
                        digits=120)
