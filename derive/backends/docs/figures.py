"""The documentation's figures, drawn with matplotlib from the generated numpy kernels.

The curves come from the kernels (``derive.kernels.load("numpy")``), not from scipy: a figure is then one more
place where a wrong kernel would show. Formulas that have no kernel (the variance) are evaluated from their
derivation with ``lambdify``. Every SVG is byte-for-byte reproducible: fixed hash salt, no date, no version
string, text kept as text (glyph outlines would tie the files to one FreeType build).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

#: SVG settings that make a figure's bytes depend only on what is drawn.
RC = {
    "svg.hashsalt": "nbderive-docs",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
METADATA = {"Date": None, "Creator": "nbderive (derive docs)"}

THETA_COLORS = ("#1b6ca8", "#e07b22", "#3a9a48", "#a23b72")
GAUSS_COLOR = "#555555"


def _lambdified(name: str, *args: str) -> Callable[..., np.ndarray]:
    """A derivation's result as a numpy function of the canonical symbols named ``args``."""
    import sympy as sp

    from derive import registry
    from derive.symbols import BY_NAME

    return sp.lambdify([BY_NAME[a] for a in args], registry.expr(name), "numpy")


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=METADATA, bbox_inches="tight")
    return buffer.getvalue()


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def pmf_vs_gaussian(k: Any) -> str:
    """§5.2: NB PMFs for several theta beside the Gaussian with the same mean and variance."""
    mean, thetas = 5.0, (0.5, 2.0, 20.0)
    variance = _lambdified("nb.variance", "mu", "theta")
    counts = np.arange(0, 26, dtype=float)
    grid = np.linspace(-12.0, 25.0, 741)
    fig, axes = _figure(9.0, 3.0, ncols=len(thetas))
    for ax, theta, color in zip(axes, thetas, THETA_COLORS, strict=False):
        var = float(variance(mean, theta))
        ax.bar(counts, np.exp(k.nb_logpmf(counts, mean, theta)), width=0.8, color=color, alpha=0.8,
               label="NB PMF")
        density = np.exp(k.gaussian_logpdf(grid, mean, var))
        ax.plot(grid, density, color=GAUSS_COLOR, lw=1.5, label="Gaussian density")
        negative = grid <= 0
        ax.fill_between(grid[negative], density[negative], color=GAUSS_COLOR, alpha=0.25, lw=0,
                        label="Gaussian mass below 0")
        ax.set_title(rf"$\theta$ = {theta:g}   (Var = {var:.4g})")
        ax.set_xlabel("count x")
    axes[0].set_ylabel("probability / density")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.suptitle(rf"Same mean ($\mu$ = {mean:g}) and variance: NB against Gaussian", fontsize=10)
    return _svg(fig)


def p_zero(k: Any) -> str:
    """§5.1: P(x = 0) against mu for several theta, with the Poisson limit."""
    means = np.logspace(-2, 3, 201)
    fig, axes = _figure(6.0, 3.6)
    ax = axes[0]
    for theta, color in zip((0.1, 1.0, 10.0, 100.0), THETA_COLORS, strict=False):
        ax.plot(means, k.nb_p_zero(means, theta), color=color, lw=1.8, label=rf"NB, $\theta$ = {theta:g}")
    ax.plot(means, np.exp(k.poisson_logpmf(np.zeros_like(means), means)), color="black", lw=1.2, ls="--",
            label=r"Poisson ($\theta \to \infty$)")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(r"mean $\mu$")
    ax.set_ylabel(r"$P(x = 0)$")
    ax.legend(fontsize=8, loc="lower left")
    return _svg(fig)


def variance_vs_mean(k: Any) -> str:
    """§6.1: variance against mean; lines from the derived formula, dots summed from the PMF kernel."""
    variance = _lambdified("nb.variance", "mu", "theta")
    poisson = _lambdified("nb.variance_limit", "mu")
    means = np.logspace(-1, 3, 161)
    dots = np.logspace(-1, 2, 7)
    counts = np.arange(0, 40001, dtype=float)[:, None]
    fig, axes = _figure(6.0, 3.8)
    ax = axes[0]
    ax.plot(means, np.broadcast_to(poisson(means), means.shape), color="black", lw=1.2, ls="--",
            label=r"Poisson: Var = $\mu$")
    for theta, color in zip((0.5, 5.0, 50.0), THETA_COLORS, strict=False):
        ax.plot(means, variance(means, theta), color=color, lw=1.8, label=rf"NB, $\theta$ = {theta:g}")
        pmf = np.exp(k.nb_logpmf(counts, dots[None, :], theta))
        summed = (pmf * (counts - dots[None, :]) ** 2).sum(axis=0)
        ax.plot(dots, summed, "o", color=color, ms=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"mean $\mu$")
    ax.set_ylabel("variance")
    ax.legend(fontsize=8, loc="upper left", title="lines: formula; dots: summed PMF", title_fontsize=8)
    return _svg(fig)


def gradients(k: Any) -> str:
    """§7.2: d loss / d log mu against mu for one count: NB bounded by theta, MSE growing without bound."""
    count = 10.0
    means = np.logspace(-2, 4, 241)
    log_means = np.log(means)
    bound = _lambdified("nb.nll_grad_logmu_limit", "theta")
    fig, axes = _figure(6.4, 3.8)
    ax = axes[0]
    ax.plot(means, k.mse_grad_logmu(count, log_means), color=GAUSS_COLOR, lw=1.8, label="MSE")
    for theta, color in zip((1.0, 10.0, 100.0), THETA_COLORS, strict=False):
        ax.plot(means, k.nb_nll_grad_logmu(count, log_means, theta), color=color, lw=1.8,
                label=rf"NB, $\theta$ = {theta:g}")
        ax.axhline(float(bound(theta)), color=color, lw=0.8, ls=":")
    ax.axvline(count, color="black", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel(rf"predicted mean $\mu$ (observed count x = {count:g}, dashed)")
    ax.set_ylabel(r"$\partial$ loss / $\partial \log \mu$")
    ax.legend(fontsize=8, loc="upper left")
    return _svg(fig)


#: name -> drawing function; each figure is written to ``figures/<name>.svg``.
FIGURES: dict[str, Callable[[Any], str]] = {
    "pmf_vs_gaussian": pmf_vs_gaussian,
    "p_zero": p_zero,
    "variance_vs_mean": variance_vs_mean,
    "gradients": gradients,
}


def render_all() -> dict[str, str]:
    """Every figure's SVG text, by file name (imports matplotlib and the kernels only here)."""
    import matplotlib

    from derive import kernels

    k = kernels.load("numpy")
    with matplotlib.rc_context(RC):
        return {f"figures/{name}.svg": draw(k) for name, draw in FIGURES.items()}
