"""``derive accuracy``: measure every kernel (and the usual alternatives) against the mpmath oracle.

Seven regimes cover where NB likelihoods break in practice (sparse single-cell counts, the Poisson limit,
tiny means and dispersions, huge counts, counts at the mode). For each, the max relative error against
:mod:`derive.oracle` is reported for scipy, a SymPy ``lambdify`` of the plain formula, the scvi-tools formula
and every backend of our kernels. Every output of every kernel must meet its goal per case (issue 4's, which each
kernel's spec records: :attr:`derive.spec.KernelSpec.goals`):

    relative error <= goal + cond * 2^-53

where ``cond`` is the problem's own condition number (see :func:`derive.oracle.reference_scalar`): rounded
log inputs and exp() of a large argument cost accuracy that no float64 kernel can recover. Backends that compute
float32 in float32 (torch: ``Backend.narrow``) are measured in float32 too: the samples rounded to float32, the oracle
at those inputs, float32's goals (issue 13: 8 and 16 units of 2^-24) plus cond * 2^-24, with the float32 formulas
people use (scvi-tools' in torch, torch.distributions) as comparators. Which kernels there are,
their arguments, outputs and goals come from the registry of kernels (:func:`derive.spec.kernel_specs`), the backends
from their folders (:func:`derive.kernels.backends`).

numpy, scipy, mpmath and the registry are imported inside functions: ``derive --help`` imports every command module.
"""

from __future__ import annotations

import argparse
import functools
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from derive.spec import KernelSpec

#: float64 unit roundoff: a condition number times this is the error the problem itself forces.
UNIT_ROUNDOFF = 2.0**-53
#: Smallest normal float64: relative errors of values below it (underflow) are measured against it.
TINY = 2.2250738585072014e-308
FLOAT32 = "float32"
#: Per precision: (unit roundoff, smallest normal).
_FORMATS = {"float64": (UNIT_ROUNDOFF, TINY), FLOAT32: (2.0**-24, 1.1754943508222875e-38)}
DEFAULT_CASES = 300
#: The kernel the comparators (scipy, lambdify, scvi-tools) compute too, and are measured against with its goal.
COMPARED = "nb_logpmf"


# ----------------------------------------------------------------------------------------------------------
# Regimes


@dataclass(frozen=True)
class Regime:
    """A region of (x, mu, theta) space; x is an integer count, mu and theta are log-uniform."""

    key: str
    label: str
    x: tuple[str, float, float]  # ("uniform" | "log-uniform" integer, lo, hi) or ("near-mu", -frac, +frac)
    mu: tuple[float, float]
    theta: tuple[float, float]

    def describe(self) -> str:
        """The ranges in words, e.g. 'x 0 to 1e3, mu 1e-2 to 1e3, theta 0.1 to 100'."""
        kind, lo, hi = self.x
        if kind == "near-mu":
            xs = f"x = round(mu (1 + u)), u uniform in [{lo:g}, {hi:g}]"
        else:
            xs = f"x {_num(lo)} to {_num(hi)}" + (" (log-uniform)" if kind == "log-uniform" else "")
        mu, theta = (f"{_num(lo)} to {_num(hi)}" for lo, hi in (self.mu, self.theta))
        return f"{xs}, mu {mu}, theta {theta}"


def _num(v: float) -> str:
    if v == 0 or 1e-2 < abs(v) < 1e3:
        return f"{v:g}"
    return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


REGIMES: dict[str, Regime] = {
    r.key: r
    for r in (
        Regime("typical", "typical", ("uniform", 0, 1000), (1e-2, 1e3), (0.1, 100)),
        Regime("sparse", "single-cell sparse", ("uniform", 0, 20), (1e-3, 5), (0.05, 50)),
        Regime("poisson", "Poisson limit", ("uniform", 0, 100), (0.1, 100), (1e6, 1e13)),
        Regime("tiny_mu", "tiny mu", ("uniform", 0, 5), (1e-12, 1e-4), (1e-2, 100)),
        Regime("tiny_theta", "tiny theta", ("uniform", 0, 1000), (0.1, 1000), (1e-9, 1e-3)),
        # x spans four decades: log-uniform, so that 1e3..1e5 is sampled too.
        Regime("huge", "huge counts", ("log-uniform", 1e3, 1e7), (1e3, 1e7), (0.1, 1000)),
        Regime("mode", "near the mode", ("near-mu", -0.03, 0.03), (1e4, 1e8), (10, 1e6)),
    )
}


def sample_regime(name: str, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """n cases of regime ``name``: float64 arrays x, mu, theta, log_mu, log_theta, then every other kernel input.

    log_mu and log_theta are the rounded logs (what a log-space kernel receives). Inputs that are not coordinates of
    the regime are drawn as their kernels' specs say (:attr:`derive.spec.KernelSpec.draws`): sigma2 = mu + mu^2/theta,
    the NB variance, so that the Gaussian kernels see the moment-matched Gaussian.
    """
    import numpy as np

    regime = REGIMES[name]

    def log_uniform(lo: float, hi: float) -> np.ndarray:
        return np.exp(rng.uniform(np.log(lo), np.log(hi), n))

    mu = log_uniform(*regime.mu)
    theta = log_uniform(*regime.theta)
    kind, lo, hi = regime.x
    if kind == "uniform":
        x = rng.integers(int(lo), int(hi) + 1, n).astype(np.float64)
    elif kind == "log-uniform":
        x = np.rint(log_uniform(lo, hi))
    else:
        x = np.rint(mu * (1.0 + rng.uniform(lo, hi, n)))
    sample = {"x": x, "mu": mu, "theta": theta, "log_mu": np.log(mu), "log_theta": np.log(theta)}
    for spec in kernels():
        for key, draw in spec.draws:
            if key not in sample:
                sample[key] = draw(sample)
    return sample


def sample_all(seed: int, n: int) -> dict[str, dict[str, np.ndarray]]:
    """Every regime, n cases each; regime i draws from its own stream (seed, i), so regimes are independent."""
    import numpy as np

    return {name: sample_regime(name, n, np.random.default_rng([seed, i])) for i, name in enumerate(REGIMES)}


# ----------------------------------------------------------------------------------------------------------
# What is measured


def kernels(precision: str = "float64") -> tuple[KernelSpec, ...]:
    """The kernels measured: every kernel of the registry (built for ``precision``), in its order."""
    from derive.spec import kernel_specs

    return kernel_specs(precision)


@functools.cache
def goals(precision: str = "float64") -> dict[str, float]:
    """Output label -> goal in ``precision``, for every kernel output (labels as
    :attr:`derive.spec.KernelSpec.labels`)."""
    return {label: goal for spec in kernels(precision) for label, goal in zip(spec.labels, spec.goals, strict=True)}


def narrow_backends(loaded: dict[str, Any]) -> dict[str, Any]:
    """The loaded backends that compute float32 in float32 (their configs' ``narrow``), as float32 columns: name ->
    the kernels called with float32 tensors (numpy and C take float32 arrays but compute in float64)."""
    from derive import kernels as generated
    from derive.backends import backend

    return {f"{name} {FLOAT32}": generated.NumpyView(generated.load(name), dtype=FLOAT32)
            for name in loaded if FLOAT32 in backend(name).narrow}


def backend_names() -> tuple[str, ...]:
    """The code backends measured by default: every one (:func:`derive.kernels.backends`)."""
    from derive import kernels as generated

    return generated.backends()


def core_backend_names() -> tuple[str, ...]:
    """The backends that need no optional framework: the docs' table measures these, so that it is the same on every
    machine (``derive accuracy`` measures the others where their framework is installed)."""
    from derive.backends import backend

    return tuple(name for name in backend_names() if not backend(name).requires)


#: The alternatives to our nb_logpmf, in table order (all compared with the oracle's NB log-PMF).
COMPARATORS: dict[str, str] = {
    "scipy": "scipy.stats.nbinom.logpmf(x, n=theta, p=theta/(theta+mu))",
    "lambdify": 'sympy.lambdify of derive.expr("nb.loglik"), modules=["scipy", "numpy"]',
    "scvi": "the scvi-tools formula in float64 numpy, eps = 1e-8",
}


#: The float32 alternatives, in torch (measured where torch is installed, on the samples rounded to float32).
COMPARATORS_FLOAT32: dict[str, str] = {
    "scvi float32": "the scvi-tools formula in float32 torch, eps = 1e-8",
    "torch.distributions float32": "torch.distributions.NegativeBinomial(theta, logits=log mu - log theta), float32",
}


def narrow_comparators() -> tuple[str, ...]:
    """The float32 comparators that can run here (torch installed)."""
    import importlib.util

    return tuple(COMPARATORS_FLOAT32) if importlib.util.find_spec("torch") else ()


def _torch_float32_logpmf(name: str, x: np.ndarray, mu: np.ndarray, theta: np.ndarray) -> np.ndarray:
    import numpy as np
    import torch

    x, mu, theta = (torch.as_tensor(np.asarray(a, dtype=np.float32)) for a in (x, mu, theta))
    if name == "scvi float32":
        eps = 1e-8
        log_theta_mu_eps = torch.log(theta + mu + eps)
        value = (theta * (torch.log(theta + eps) - log_theta_mu_eps) + x * (torch.log(mu + eps) - log_theta_mu_eps)
                 + torch.lgamma(x + theta) - torch.lgamma(theta) - torch.lgamma(x + 1))
    else:
        nb = torch.distributions.NegativeBinomial(theta, logits=torch.log(mu) - torch.log(theta), validate_args=False)
        value = nb.log_prob(x)
    return value.to(torch.float64).numpy()


@functools.lru_cache(maxsize=1)
def _lambdified() -> Callable[..., Any]:
    import sympy as sp

    import derive
    from derive.symbols import mu, theta, x

    return sp.lambdify((x, mu, theta), derive.expr("nb.loglik"), modules=["scipy", "numpy"])


def comparator_logpmf(name: str, x: np.ndarray, mu: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The NB log-PMF as computed by comparator ``name`` (see :data:`COMPARATORS` and :data:`COMPARATORS_FLOAT32`)."""
    import numpy as np
    from scipy import special, stats

    if name in COMPARATORS_FLOAT32:
        return _torch_float32_logpmf(name, x, mu, theta)
    with np.errstate(all="ignore"):
        if name == "scipy":
            return stats.nbinom.logpmf(x, n=theta, p=theta / (theta + mu))
        if name == "lambdify":
            return np.asarray(_lambdified()(x, mu, theta), dtype=np.float64)
        if name == "scvi":
            eps = 1e-8
            log_theta_mu_eps = np.log(theta + mu + eps)
            return (theta * (np.log(theta + eps) - log_theta_mu_eps) + x * (np.log(mu + eps) - log_theta_mu_eps)
                    + special.gammaln(x + theta) - special.gammaln(theta) - special.gammaln(x + 1))
    raise KeyError(f"unknown comparator {name!r}; known: {', '.join(COMPARATORS)}")


def references(sample: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Output label -> (exact value, condition number) from the oracle, for every kernel output."""
    from derive import oracle

    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for spec in kernels():
        values, conds = oracle.reference(spec.name, *(sample[a] for a in spec.input_names))
        if len(spec.outputs) == 1:
            values, conds = (values,), (conds,)
        for label, v, c in zip(spec.labels, values, conds, strict=True):
            out[label] = (v, c)
    return out


def kernel_outputs(loaded: Any, sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output label -> what a loaded backend computes on ``sample``, for every kernel output."""
    import numpy as np

    out: dict[str, np.ndarray] = {}
    for spec in kernels():
        try:
            with np.errstate(all="ignore"):
                result = getattr(loaded, spec.name)(*(sample[a] for a in spec.input_names))
            if len(spec.outputs) == 1:
                result = (result,)
            arrays = [np.broadcast_to(np.asarray(r, dtype=np.float64), sample["x"].shape) for r in result]
            if len(arrays) != len(spec.outputs):
                raise ValueError(f"returned {len(arrays)} outputs, expected {len(spec.outputs)}")
        except Exception as error:  # a broken kernel is a failed column (NaN), not a crashed report
            print(f"derive accuracy: {spec.name} raised {type(error).__name__}: {error}", file=sys.stderr)
            arrays = [np.full(sample["x"].shape, np.nan)] * len(spec.outputs)
        out.update(zip(spec.labels, arrays, strict=True))
    return out


def relative_error(got: np.ndarray, exact: np.ndarray, tiny: float = TINY) -> np.ndarray:
    """|got - exact| / |exact|: 0 where they are equal, inf where got is NaN/inf and exact is not.

    Exact values that underflow are measured against the smallest normal number (``tiny``, float64's by default:
    absolute error there).
    """
    import numpy as np

    got = np.asarray(got, dtype=np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(got - exact) / np.maximum(np.abs(exact), tiny)
    err = np.where(np.isnan(err), np.inf, err)
    return np.where(got == exact, 0.0, err)


def load_backends(names: tuple[str, ...] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Load ``derive.kernels`` backends (default: all): ({name: kernels}, {name: why it could not be loaded})."""
    loaded: dict[str, Any] = {}
    errors: dict[str, str] = {}
    from derive import kernels

    for name in backend_names() if names is None else names:
        try:
            loaded[name] = kernels.load(name)
        except kernels.FrameworkMissing as error:
            errors[name] = f"skipped, {error}"
        except Exception as error:  # reported, not raised: the comparators are still worth showing
            errors[name] = f"{type(error).__name__}: {error}"
    return loaded, errors


# ----------------------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Cell:
    """One (regime, column) of the tables: the max relative error and whether every case met its allowance."""

    regime: str
    column: str  # a comparator name, or "backend:output label"
    max_rel_err: float
    n_cases: int
    n_nonfinite: int  # NaN/inf results where the exact value is finite
    n_over: int  # cases beyond goal + cond * 2^-53 (comparators: beyond the nb_logpmf goal)
    goal: float
    worst: dict[str, float] = field(default_factory=dict)  # inputs, error and allowance of the worst case
    precision: str = "float64"  # of the inputs, goal and allowance

    @property
    def ok(self) -> bool:
        return self.n_over == 0


#: What a cell's worst case records beside its inputs.
_CASE_RESULT = ("got", "exact", "rel_err", "allowance")


def _cell(regime: str, column: str, got: np.ndarray, exact: np.ndarray, cond: np.ndarray, goal: float,
          sample: dict[str, np.ndarray], precision: str = "float64") -> Cell:
    import numpy as np

    roundoff, tiny = _FORMATS[precision]
    err = relative_error(got, exact, tiny)
    allowance = goal + cond * roundoff
    ratio = err / allowance
    i = int(np.argmax(ratio))
    worst = {k: float(v[i]) for k, v in sample.items()}
    worst.update(zip(_CASE_RESULT, (float(got[i]), float(exact[i]), float(err[i]), float(allowance[i])), strict=True))
    nonfinite = int(np.sum(~np.isfinite(got) & np.isfinite(exact)))
    return Cell(regime, column, float(np.max(err)), len(err), nonfinite, int(np.sum(err > allowance)), goal, worst,
                precision)


def measure(samples: dict[str, dict[str, np.ndarray]], backends: dict[str, Any],
            comparators: tuple[str, ...] = tuple(COMPARATORS), narrow: dict[str, Any] | None = None,
            narrow_comparators: tuple[str, ...] = ()) -> list[Cell]:
    """Every cell: comparators (against the oracle's NB log-PMF) and every output of every loaded backend; then, for
    the float32 columns ``narrow`` (see :func:`narrow_backends`) and ``narrow_comparators`` (see
    :data:`COMPARATORS_FLOAT32`), the same on the samples rounded to float32."""
    cells: list[Cell] = []
    for regime, sample in samples.items():
        cells += _measured(regime, sample, backends, comparators, "float64")
        if narrow or narrow_comparators:
            cells += _measured(regime, rounded(sample, FLOAT32), narrow or {}, narrow_comparators, FLOAT32)
    return cells


def rounded(sample: dict[str, np.ndarray], precision: str) -> dict[str, np.ndarray]:
    """Every input of ``sample`` rounded to ``precision`` (float64 arrays holding its numbers): what its kernels get."""
    import numpy as np

    return {name: np.asarray(values, dtype=precision).astype(np.float64) for name, values in sample.items()}


def _measured(regime: str, sample: dict[str, np.ndarray], backends: dict[str, Any], comparators: tuple[str, ...],
              precision: str) -> list[Cell]:
    import numpy as np

    goal = goals(precision)
    refs = references(sample)
    exact, _ = refs[COMPARED]
    no_cond = np.zeros_like(exact)
    cells = [_cell(regime, name, comparator_logpmf(name, sample["x"], sample["mu"], sample["theta"]), exact, no_cond,
                   goal[COMPARED], sample, precision) for name in comparators]
    for backend, loaded in backends.items():
        for label, got in kernel_outputs(loaded, sample).items():
            value, cond = refs[label]
            cells.append(_cell(regime, f"{backend}:{label}", got, value, cond, goal[label], sample, precision))
    return cells


# ----------------------------------------------------------------------------------------------------------
# Reporting


def _fmt(cell: Cell | None, mark: bool) -> str:
    if cell is None:
        return "-"
    text = "NaN/inf" if cell.n_nonfinite else ("0" if cell.max_rel_err == 0 else f"{cell.max_rel_err:.1e}")
    if cell.n_nonfinite:
        text += f" ({cell.n_nonfinite})"
    return text + (" !" if mark and not cell.ok else "")


def _index(cells: list[Cell]) -> dict[tuple[str, str], Cell]:
    return {(c.regime, c.column): c for c in cells}


def _tables(cells: list[Cell]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table: the log-PMF comparison, then one table per backend."""
    index = _index(cells)
    regimes = list(dict.fromkeys(c.regime for c in cells))
    backends = list(dict.fromkeys(c.column.split(":")[0] for c in cells if ":" in c.column))
    comparators = [name for name in (*COMPARATORS, *COMPARATORS_FLOAT32) if any(c.column == name for c in cells)]

    header = ["regime", *comparators, *(f"ours ({b})" for b in backends)]
    rows = [[REGIMES[r].label if r in REGIMES else r]
            + [_fmt(index.get((r, name)), False) for name in comparators]
            + [_fmt(index.get((r, f"{b}:{COMPARED}")), True) for b in backends] for r in regimes]
    tables = [("NB log-PMF: max relative error against the oracle", header, rows)]
    for b in backends:
        header = ["kernel", "goal", *(REGIMES[r].label if r in REGIMES else r for r in regimes), "verdict"]
        rows = []
        for label in goals():
            row_cells = [index.get((r, f"{b}:{label}")) for r in regimes]
            verdict = "PASS" if all(c is not None and c.ok for c in row_cells) else "FAIL"
            target = next((c.goal for c in row_cells if c is not None), goals()[label])
            rows.append([label, f"{target:.2g}", *(_fmt(c, True) for c in row_cells), verdict])
        tables.append((f"Every kernel, {b} backend: max relative error per regime", header, rows))
    return tables


LEGEND = ("'!' marks a regime where some case exceeds its allowance goal + cond * 2^-53 (float32 columns: inputs "
          "rounded to float32, the oracle there, goal + cond * 2^-24); "
          "NaN/inf (n) counts non-finite results where the exact value is finite.")


def _verdicts(cells: list[Cell]) -> list[str]:
    """One PASS/FAIL line per backend and kernel output, with the worst case of each failure."""
    lines = []
    by_column: dict[str, list[Cell]] = {}
    for c in cells:
        if ":" in c.column:
            by_column.setdefault(c.column, []).append(c)
    for column, group in by_column.items():
        backend, label = column.split(":")
        over = sum(c.n_over for c in group)
        total = sum(c.n_cases for c in group)
        worst = max(group, key=lambda c: c.worst["rel_err"] / c.worst["allowance"])
        largest = max(c.max_rel_err for c in group)
        verdict = "PASS" if over == 0 else "FAIL"
        line = f"{verdict}  {backend:13s} {label:32s} max {largest:.1e}  (goal {group[0].goal:.2g})"
        if over:
            w = worst.worst
            inputs = ", ".join(f"{k}={v!r}" for k, v in w.items() if k not in _CASE_RESULT)
            line += (f"; {over}/{total} cases beyond the allowance; worst ({REGIMES[worst.regime].label}): {inputs}:"
                     f" got {w['got']!r}, exact {w['exact']!r}, rel err {w['rel_err']:.2e} > {w['allowance']:.2e}")
        lines.append(line)
    return lines


def text_report(cells: list[Cell]) -> str:
    """The tables as aligned text, then the PASS/FAIL lines."""
    out = []
    for title, header, rows in _tables(cells):
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        out.append(title)
        for row in [header, *rows]:
            out.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        out.append("")
    out.append(LEGEND)
    out.extend(_verdicts(cells))
    return "\n".join(out)


def markdown_table(cells: list[Cell]) -> str:
    """The same tables in Markdown (for the docs), with the legend and the failures, if any."""
    out = []
    for title, header, rows in _tables(cells):
        out += [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
        out.append("")
    out.append(LEGEND.replace("*", r"\*"))
    failures = [line for line in _verdicts(cells) if line.startswith("FAIL")]
    if failures:
        out += ["", *(f"- `{line}`" for line in failures)]
    return "\n".join(out) + "\n"


def markdown_report(cells: list[Cell], seed: int, cases: int) -> str:
    """:func:`markdown_table` preceded by how it was measured (seed, cases, oracle precision, regimes)."""
    from derive import oracle

    regimes = "\n".join(f"- **{r.label}**: {r.describe()}" for r in REGIMES.values())
    return (f"Seed {seed}, {cases} cases per regime; exact values from mpmath at {oracle.DPS} digits "
            f"(`derive accuracy --seed {seed} --cases {cases}` repeats it). Regimes:\n\n{regimes}\n\n"
            + markdown_table(cells))


def measure_all(seed: int, cases: int, names: tuple[str, ...] | None = None,
                precisions: tuple[str, ...] = ("float64", FLOAT32)) -> tuple[list[Cell], dict[str, str]]:
    """Sample every regime, load the backends (default: all) and measure in ``precisions`` (float32: the backends
    that compute in it, and the float32 comparators): (cells, {backend: why it is unavailable})."""
    loaded, errors = load_backends(names)
    wide = "float64" in precisions
    narrow = FLOAT32 in precisions
    return measure(sample_all(seed, cases), loaded if wide else {}, tuple(COMPARATORS) if wide else (),
                   narrow_backends(loaded) if narrow else None, narrow_comparators() if narrow else ()), errors


# ----------------------------------------------------------------------------------------------------------
# The command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, metavar="N",
                        help=f"cases per regime (default {DEFAULT_CASES})")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: a new one each run, printed so the run can be repeated)")
    parser.add_argument("--backend", action="append", choices=backend_names(), dest="backends",
                        help="measure only this backend (repeatable; default: all)")
    parser.add_argument("--precision", choices=("both", "float64", FLOAT32), default="both",
                        help="float64 columns, float32 columns (the backends that compute float32 in float32, and "
                             "the float32 formulas people use), or both (default)")
    parser.add_argument("--write", type=Path, metavar="PATH", help="also write the tables as Markdown to PATH")


def run(args: argparse.Namespace) -> int:
    from derive import oracle

    seed = args.seed if args.seed is not None else secrets.randbits(32)
    print(f"derive accuracy: seed {seed}, {args.cases} cases per regime, oracle: mpmath at {oracle.DPS} digits "
          f"(rerun with --seed {seed})")
    start = time.perf_counter()
    precisions = ("float64", FLOAT32) if args.precision == "both" else (args.precision,)
    cells, errors = measure_all(seed, args.cases, tuple(args.backends) if args.backends else None, precisions)
    for name, why in errors.items():
        print(f"backend {name} unavailable: {why}", file=sys.stderr)
    print(text_report(cells))
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(markdown_report(cells, seed, args.cases))
        print(f"wrote {args.write}")
    failed = bool(errors) or any(not c.ok for c in cells if ":" in c.column)
    return 1 if failed else 0
