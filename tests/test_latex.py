"""The LaTeX printer writes what a textbook writes, unambiguously."""

from __future__ import annotations

import sympy as sp

from derive.backends.latex.printer import latex
from derive.symbols import MU, eta, g, mu, sigma2, theta, x


def test_special_functions():
    assert latex(sp.loggamma(x + theta)) == r"\log \Gamma\left(\theta + x\right)"
    assert latex(sp.polygamma(0, theta)) == r"\psi\left(\theta\right)"
    assert latex(sp.gamma(theta)) == r"\Gamma\left(\theta\right)"
    assert latex(sp.factorial(x)) == "x!"
    assert latex(sp.factorial(x + 1)) == r"\left(x + 1\right)!"


def test_seed_symbols():
    assert latex(sigma2) == r"\sigma^{2}"
    assert latex(eta) == r"\eta"
    assert latex(MU[g]) == r"\mu_{g}"


def test_explicit_product_before_a_parenthesis():
    assert latex(theta * (mu - x)) == r"\theta \cdot \left(\mu - x\right)"
    assert r"\cdot" not in latex(2 * x * mu)


def test_log_is_written_log_with_parentheses():
    assert latex(sp.log(theta / (theta + mu))) == r"\log\left(\frac{\theta}{\mu + \theta}\right)"
