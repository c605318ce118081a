"""The canonical symbols, with the assumptions every derivation relies on.

One place, so that two modules never build two different ``mu`` (SymPy treats symbols with different
assumptions as different objects, and equalities silently stop holding).
"""

from __future__ import annotations

import sympy as sp

x = sp.Symbol("x", integer=True, nonnegative=True)
"""An observed count."""
x_pos = sp.Symbol("x", integer=True, positive=True)
"""A count known to be >= 1 (forms with log x, valid only there); prints as x."""
mu = sp.Symbol("mu", positive=True)
"""The NB (and Poisson, Gaussian) mean."""
theta = sp.Symbol("theta", positive=True)
"""Inverse dispersion: Var = mu + mu**2/theta."""
alpha = sp.Symbol("alpha", positive=True)
"""Dispersion, alpha = 1/theta."""
r = sp.Symbol("r", positive=True)
"""Classic NB 'number of failures' (r = theta)."""
p = sp.Symbol("p", positive=True)
"""Classic NB success probability, 0 < p < 1 (p = theta/(theta + mu))."""
eta = sp.Symbol("eta", real=True)
"""Log mean, eta = log(mu): the decoder's output in log space."""
lam = sp.Symbol("lambda", positive=True)
"""log theta (used by the fused kernel's inputs); real in general, named apart from eta."""
sigma2 = sp.Symbol("sigma2", positive=True)
"""Gaussian variance sigma^2."""
s = sp.Symbol("s", positive=True)
"""Argument of a probability generating function."""
k = sp.Symbol("k", integer=True, nonnegative=True)
"""A summation index."""

g = sp.Symbol("g", integer=True, positive=True)
"""Gene index, 1..G."""
G = sp.Symbol("G", integer=True, positive=True)
"""Number of genes."""
X = sp.IndexedBase("x")
MU = sp.IndexedBase("mu")
THETA = sp.IndexedBase("theta")
x_g = X[g]
mu_g = MU[g]
theta_g = THETA[g]

#: How each symbol is written in the seed document (used by the LaTeX printer).
LATEX_NAMES: dict[str, str] = {
    "mu": r"\mu",
    "theta": r"\theta",
    "alpha": r"\alpha",
    "eta": r"\eta",
    "lambda": r"\lambda",
    "sigma2": r"\sigma^{2}",
}

#: Every canonical scalar symbol by name (the parser side of a LaTeX round trip maps names back here).
BY_NAME: dict[str, sp.Symbol] = {
    sym.name: sym for sym in (x, mu, theta, alpha, r, p, eta, lam, sigma2, s, k, g, G)
}
