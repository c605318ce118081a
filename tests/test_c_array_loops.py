"""The C array loops' two passes, per-gene values and row segments give what the plain scalar evaluation gives.

The C kernels with a dense x = 0 branch evaluate it over every element of a row segment first, with lets of one
input (theta = e^log_theta) and the reciprocal 1/theta prepared once per gene where theta is the same in every row;
pass 2 then finishes the other elements. These tests pick the layouts and the values where that machinery has
edges: theta outside the range where 1/theta is prepared, mu/theta overflowing, rows longer than one segment, fewer
rows than threads. The reference is the mpmath oracle (independent of both backends) and, for layouts, the same
kernel given theta per element (no per-gene path at all).
"""

from __future__ import annotations

import numpy as np
import pytest

from derive import oracle

#: theta per gene, across the edges of the prepared reciprocal's range (1e-300, 1e300) and inside it.
EDGE_THETA = np.array([3e-306, 1e-300, 2e-299, 1e-200, 0.05, 1.0, 37.0, 1e200, 1e300, 5e300, 1e305])
#: rows of means: ordinary ones, and ones that make mu/theta overflow for the tiny thetas.
EDGE_MU = np.array([1e-3, 0.5, 4.0, 1e10, 1e250, 1e300])
COUNTS = np.array([0.0, 1.0, 3.0, 20.0])


def _grid():
    """(x, mu, theta) with theta per gene (broadcast over rows) covering every combination above."""
    mu = np.repeat(EDGE_MU, len(COUNTS))[:, None] * np.ones((1, len(EDGE_THETA)))
    x = np.tile(COUNTS, len(EDGE_MU))[:, None] * np.ones((1, len(EDGE_THETA)))
    return x, mu, EDGE_THETA


def test_per_gene_theta_at_the_edges_of_the_prepared_reciprocal(c_kernels):
    x, mu, theta = _grid()
    got = c_kernels.nb_logpmf(x, mu, theta)
    exact = oracle.evaluate("nb_logpmf", x, mu, theta)
    finite = np.isfinite(exact)
    assert np.array_equal(np.isfinite(got), finite), "finite where the exact value is, and only there"
    err = np.abs(got[finite] - exact[finite]) / np.maximum(np.abs(exact[finite]), 1e-300)
    assert err.max() <= 1e-14, f"max relative error {err.max():.2e}"


def test_results_do_not_depend_on_the_dispersion_layout(c_kernels):
    x, mu, theta = _grid()
    per_gene = c_kernels.nb_logpmf(x, mu, theta)
    per_element = c_kernels.nb_logpmf(x, mu, np.ascontiguousarray(np.broadcast_to(theta, x.shape)))
    np.testing.assert_array_equal(per_gene, per_element)
    reduced = c_kernels.nb_nll_sum_genes(x, mu, theta)
    finite = np.all(np.isfinite(per_gene), axis=1)
    np.testing.assert_allclose(reduced[finite], -per_gene[finite].sum(axis=1), rtol=1e-13)


@pytest.mark.parametrize("shape", [(1, 1500), (3, 1025), (5, 512), (2, 513), (40, 7)])
def test_segments_and_thread_splits(c_kernels, numpy_kernels, shape):
    """Rows longer than one segment (512), a single row (columns split between threads), segment edges."""
    rng = np.random.default_rng(sum(shape))
    theta = np.exp(rng.uniform(np.log(0.05), np.log(50.0), shape[1]))
    mu = np.exp(rng.uniform(np.log(1e-2), np.log(50.0), shape))
    x = rng.negative_binomial(theta, theta / (theta + mu)).astype(float)
    x[rng.random(shape) < 0.02] = 0.5  # not a count: -inf, left to pass 2
    got = c_kernels.nb_logpmf(x, mu, theta)
    want = numpy_kernels.nb_logpmf(x, mu, theta)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    nll, grad_logmu, grad_logtheta = c_kernels.nb_nll_fused(x, np.log(mu), np.log(theta))
    for name, a, b in zip(("nll", "grad_logmu", "grad_logtheta"), (nll, grad_logmu, grad_logtheta),
                          numpy_kernels.nb_nll_fused(x, np.log(mu), np.log(theta)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=name)
    np.testing.assert_allclose(c_kernels.nb_nll_sum_genes(x, mu, theta), -want.sum(axis=1), rtol=1e-12)


def _fused_zero_grid():
    """x = 0 with mu/theta across the fused kernel's x = 0 forms: the series (1e-150 <= mu/theta <= 1/3, theta <=
    1e150), the log beyond 1/3, and the general form below 1e-150 or above theta = 1e150; both sides of each edge."""
    third = 1.0 / 3.0
    ratios = np.array([1e-300, 1e-160, np.nextafter(1e-150, 0), 1e-150, np.nextafter(1e-150, 1), 1e-40, 1e-8, 1e-3,
                       0.1, np.nextafter(third, 0), third, np.nextafter(third, 1), 0.5, 3.0, 1e8, 1e200])
    theta = np.array([1e-250, 1e-5, 0.7, 12.0, 3e4, 1e100, 1e149, 1e150, 2e150, 1e250])
    with np.errstate(over="ignore"):  # (products beyond the double range are dropped just below)
        mu = ratios[:, None] * theta[None, :]
    keep = (mu > np.exp(-700)) & (mu < np.exp(700))  # the ordinary domain of log_mu (the rest is other branches')
    return np.log(mu[keep]), np.broadcast_to(np.log(theta), mu.shape)[keep]


def test_fused_zero_forms_at_their_edges(c_kernels, numpy_kernels):
    """The x = 0 value and gradients of nb_nll_fused where its series, log and general forms meet (mpmath oracle)."""
    log_mu, log_theta = _fused_zero_grid()
    x = np.zeros_like(log_mu)
    # (mu/theta down to 1e-300: theta/(theta + mu) needs ~300 digits before its log means anything)
    exact = oracle.evaluate("nb_nll_fused", x, log_mu, log_theta, dps=400)
    scalar = np.array([c_kernels.nb_nll_fused(0.0, a, b) for a, b in zip(log_mu, log_theta, strict=True)]).T
    for backend, got in (("c array", c_kernels.nb_nll_fused(x, log_mu, log_theta)), ("c scalar", scalar),
                         ("numpy", numpy_kernels.nb_nll_fused(x, log_mu, log_theta))):
        for name, g, e, goal in zip(("nll", "grad_logmu", "grad_logtheta"), got, exact, (1e-14, 1e-13, 1e-13),
                                    strict=True):
            g = np.asarray(g)
            assert np.all(np.isfinite(g)), f"{backend} {name}: non-finite at x = 0"
            err = np.abs(g - e) / np.maximum(np.abs(e), 1e-300)
            worst = int(np.argmax(err))
            assert err[worst] <= goal, (f"{backend} {name}: relative error {err[worst]:.2e} at mu/theta = "
                                        f"{np.exp(log_mu[worst] - log_theta[worst]):.3g}, "
                                        f"theta = {np.exp(log_theta[worst]):.3g}")


def test_fused_pass_one_gives_the_same_bits_on_contiguous_and_strided_rows(c_kernels):
    """Contiguous rows take the arithmetic-only pass 1 (SIMD where the compiler clones it); rows where an input is
    broadcast along them (stride 0: here log_mu per cell) take the scalar loop. Both must give the same bits, every
    output, at every x = 0 form and beyond."""
    rng = np.random.default_rng(7)
    shape = (40, 700)
    log_theta = rng.uniform(np.log(0.05), np.log(1e6), shape[1])
    log_mu = rng.uniform(np.log(1e-3), np.log(1e4), (shape[0], 1))  # mu/theta from ~1e-9 to ~2e5
    x = np.where(rng.random(shape) < 0.7, 0.0, rng.integers(1, 40, shape).astype(float))
    strided = c_kernels.nb_nll_fused(x, log_mu, log_theta)
    contiguous = c_kernels.nb_nll_fused(x, np.ascontiguousarray(np.broadcast_to(log_mu, shape)), log_theta)
    for a, b in zip(contiguous, strided, strict=True):
        np.testing.assert_array_equal(a, b)
