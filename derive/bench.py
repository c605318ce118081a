"""``derive bench``: how fast the kernels are, against what people run today, on the same inputs in one run.

Speed claims are only worth something as ratios measured side by side, so every contender gets the same arrays,
the repeats are interleaved round-robin (a busy machine slows all contenders alike, not just one) and the table
reports medians, with the CPU that other processes used meanwhile (a noisy run says so). A bare C loop doing
only ``log1p(mu/theta)`` per element, built with the kernels' compiler and flags, is the floor: a kernel near
it is limited by libm, not by its own code.

Module-level imports stay light: ``derive --help`` imports every command module.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

DEFAULT_CELLS, DEFAULT_GENES = 2000, 500
SMOKE_CELLS, SMOKE_GENES = 40, 25
DEFAULT_REPEATS = 7
MIN_REPEATS_FOR_TARGETS = 5
TARGET_ENTRIES = 1_000_000
ZERO_FRACTION = 0.85
SEED = 20240611
SCVI_EPS = 1e-8
#: Python-side bookkeeping a ctypes call may allocate (pointer objects, a tuple); anything per element is far above.
SLACK_BYTES = 64 * 1024
#: Other processes' CPU use during the timing, in cores, above which the report calls the ratios noisy.
BUSY_CORES = 0.1
#: Pause after each timed call: libgomp's idle workers spin for milliseconds after a parallel region, and on a
#: machine with other load that spinning takes a core from the next contender's timed call.
SETTLE_SECONDS = 0.01
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")

# The floor and its parts: bare per-element loops with nothing a kernel could skip. theta is per gene (last axis),
# as the kernels receive it, so the floor pays the same broadcasting as they do.
FLOOR_SOURCE = r"""
#include <math.h>

void floor_log1p(const double *x, const double *mu, const double *theta, double *out, long rows, long cols) {
    (void)x;
    for (long i = 0; i < rows; ++i) {
        const double *m = mu + i * cols;
        double *o = out + i * cols;
        for (long j = 0; j < cols; ++j) o[j] = log1p(m[j] / theta[j]);
    }
}

void floor_log1p_2threads(const double *x, const double *mu, const double *theta, double *out, long rows, long cols) {
    (void)x;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(2)
#endif
    for (long i = 0; i < rows; ++i) {
        const double *m = mu + i * cols;
        double *o = out + i * cols;
        for (long j = 0; j < cols; ++j) o[j] = log1p(m[j] / theta[j]);
    }
}

void part_copy(const double *x, const double *mu, const double *theta, double *out, long rows, long cols) {
    (void)x;
    (void)theta;
    for (long k = 0; k < rows * cols; ++k) out[k] = mu[k];
}

void part_log(const double *x, const double *mu, const double *theta, double *out, long rows, long cols) {
    (void)x;
    (void)theta;
    for (long k = 0; k < rows * cols; ++k) out[k] = log(mu[k]);
}

void part_lgamma(const double *x, const double *mu, const double *theta, double *out, long rows, long cols) {
    (void)mu;
    for (long i = 0; i < rows; ++i) {
        const double *c = x + i * cols;
        double *o = out + i * cols;
        for (long j = 0; j < cols; ++j) o[j] = lgamma(c[j] + theta[j]);
    }
}
"""
FLOOR_FUNCTIONS = ("floor_log1p", "floor_log1p_2threads", "part_copy", "part_log", "part_lgamma")


# ----------------------------------------------------------------------------------------------------------
# data


@dataclasses.dataclass
class DataSet:
    """One benchmark input: counts and parameters with theta per gene (broadcast along the last axis)."""

    key: str
    label: str
    x: Any
    mu: Any
    theta: Any
    log_mu: Any
    log_theta: Any

    @property
    def entries(self) -> int:
        return int(self.x.size)

    @property
    def input_bytes(self) -> int:
        """What a log-PMF call receives: x, mu and the per-gene theta."""
        return int(self.x.nbytes + self.mu.nbytes + self.theta.nbytes)

    @property
    def zero_fraction(self) -> float:
        return float((self.x == 0).mean())

    def describe(self) -> str:
        cells, genes = self.x.shape
        size = f"{cells} x {genes} = {self.entries:,} entries"
        return f"({self.key}) {self.label}: {size}, zeros {self.zero_fraction:.1%}"


def _log_uniform(rng: Any, low: float, high: float, size: Any) -> Any:
    import numpy as np

    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _draw_nb(rng: Any, mu: Any, theta: Any) -> Any:
    """Counts from the NB(mu, theta) the kernels compute, as float64 (what a model's loss receives)."""
    import numpy as np

    theta_full = np.broadcast_to(theta, mu.shape)
    return rng.negative_binomial(theta_full, theta_full / (theta_full + mu)).astype(np.float64)


def _scale_for_zeros(base_mu: Any, theta: Any, target: float) -> float:
    """The factor c with mean P(x = 0 | c mu, theta) = target; P(0) falls monotonically in c, so bisect log c."""
    import numpy as np

    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        p0 = np.exp(-theta * np.log1p(np.exp(mid) * base_mu / theta)).mean()
        lo, hi = (mid, hi) if p0 > target else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))


def _finish(key: str, label: str, x: Any, mu: Any, theta: Any) -> DataSet:
    import numpy as np

    x, mu, theta = (np.ascontiguousarray(a, dtype=np.float64) for a in (x, mu, theta))
    return DataSet(key, label, x, mu, theta, np.log(mu), np.log(theta))


def single_cell_like(cells: int, genes: int, seed: int = SEED) -> DataSet:
    """Data (a): sparse like scRNA-seq: mu = library size x gene mean (log-normal), theta per gene, ~85% zeros."""
    rng = _rng(seed)
    theta = _log_uniform(rng, 0.1, 50.0, genes)
    library = rng.lognormal(0.0, 0.5, cells)
    gene_mean = rng.lognormal(0.0, 1.5, genes)
    base = library[:, None] * gene_mean[None, :] * rng.lognormal(0.0, 0.3, (cells, genes))
    mu = _scale_for_zeros(base, theta, ZERO_FRACTION) * base
    return _finish("a", "single-cell-like", _draw_nb(rng, mu, theta), mu, theta)


def dense_counts(cells: int, genes: int, seed: int = SEED) -> DataSet:
    """Data (b): dense typical counts: mu log-uniform on 1..1000, theta per gene 0.5..100, few zeros."""
    rng = _rng(seed + 1)
    theta = _log_uniform(rng, 0.5, 100.0, genes)
    mu = _log_uniform(rng, 1.0, 1000.0, (cells, genes))
    return _finish("b", "dense counts", _draw_nb(rng, mu, theta), mu, theta)


def _rng(seed: int) -> Any:
    import numpy as np

    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------------------------------------
# contenders


@dataclasses.dataclass
class Prepared:
    """A zero-argument call with its inputs bound, and the buffers it writes into (allocated before timing)."""

    call: Callable[[], Any]
    buffers: list[Any] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Contender:
    """A way to compute the NB log-PMF (or a part of it); ``logpmf`` maps its output back for the agreement check."""

    name: str
    prepare: Callable[[DataSet], Prepared]
    logpmf: Callable[[Any, DataSet], Any] | None = None
    reduced: bool = False
    group: str = "main"
    #: Whether tracemalloc sees its buffers (numpy's and C's; not torch's, whose peak is then not reported).
    traced: bool = True
    #: What the targets call it ("scipy", "c1", ...), if they use it.
    role: str = ""


@dataclasses.dataclass
class Result:
    contender: str
    dataset: str
    times: list[float] = dataclasses.field(default_factory=list)
    peak_extra: int | None = None
    new_output_bytes: int | None = None
    max_abs_diff: float | None = None
    nonfinite: int | None = None
    error: str | None = None

    @property
    def median_ms(self) -> float | None:
        return 1e3 * statistics.median(self.times) if self.times else None

    @property
    def min_ms(self) -> float | None:
        """The best run: what the code costs when nothing else competes (the targets use medians)."""
        return 1e3 * min(self.times) if self.times else None


def _scipy(data: DataSet) -> Prepared:
    from scipy.stats import nbinom

    x, mu, theta = data.x, data.mu, data.theta
    return Prepared(lambda: nbinom.logpmf(x, theta, theta / (theta + mu)))


def _lambdify(data: DataSet) -> Prepared:
    import sympy as sp

    import derive
    from derive.symbols import mu, theta, x

    fn = sp.lambdify((x, mu, theta), derive.expr("nb.loglik"), modules=["scipy", "numpy"])
    return Prepared(lambda: fn(data.x, data.mu, data.theta))


def _scvi(data: DataSet) -> Prepared:
    import numpy as np
    from scipy.special import gammaln

    def log_nb_positive(x: Any, mu: Any, theta: Any, eps: float = SCVI_EPS) -> Any:
        log_theta_mu_eps = np.log(theta + mu + eps)
        return (theta * (np.log(theta + eps) - log_theta_mu_eps) + x * (np.log(mu + eps) - log_theta_mu_eps)
                + gammaln(x + theta) - gammaln(theta) - gammaln(x + 1))

    return Prepared(lambda: log_nb_positive(data.x, data.mu, data.theta))


class KernelsUnavailable(RuntimeError):
    """derive.kernels is missing or cannot load a backend (reported in the table, not raised)."""


def _kernels() -> Any:
    try:
        from derive import kernels
    except ImportError as exc:
        raise KernelsUnavailable(f"derive.kernels: {exc}") from exc
    return kernels


def _backend(name: str) -> Any:
    try:
        return _kernels().load(name)
    except KernelsUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to build a backend is reported, not fatal
        raise KernelsUnavailable(f"kernels.load({name!r}): {type(exc).__name__}: {exc}") from exc


def _get_threads(backend: Any) -> int | None:
    for attr in ("get_threads", "threads", "num_threads"):
        value = getattr(backend, attr, None)
        if callable(value):
            value = value()
        if isinstance(value, int):
            return value
    return None


def _set_threads(backend: Any, n: int) -> None:
    if not callable(getattr(backend, "set_threads", None)):
        raise KernelsUnavailable("the C backend has no set_threads(n)")
    backend.set_threads(n)


def _threaded(backend: Any, threads: int | None, call: Callable[[], Any]) -> Callable[[], Any]:
    """Pin the thread count inside the call: repeats are interleaved with other thread counts."""
    if threads is None:
        return call

    def pinned() -> Any:
        _set_threads(backend, threads)
        return call()

    return pinned


def _signature(kernel: str) -> tuple[tuple[str, ...], int]:
    """(input names, outputs it can write into out= buffers) of a kernel, or of a reduction (none: it returns a new,
    smaller array), from the registry of kernels. The input names are the DataSet's attributes."""
    from derive.spec import reductions, spec

    summed = reductions()
    if kernel in summed:
        return summed[kernel].input_names, 0
    found = spec(kernel)
    return found.input_names, len(found.outputs)


def _arguments(kernel: str, data: DataSet) -> tuple[Any, ...]:
    return tuple(getattr(data, name) for name in _signature(kernel)[0])


def _numpy_logpmf(data: DataSet) -> Prepared:
    fn = _backend("numpy").nb_logpmf
    args = _arguments("nb_logpmf", data)
    return Prepared(lambda: fn(*args))


def _c_kernel(kernel: str, threads: int | None, *, use_out: bool = True) -> Callable[[DataSet], Prepared]:
    def prepare(data: DataSet) -> Prepared:
        import numpy as np

        backend = _backend("c")
        fn = getattr(backend, kernel)
        args = _arguments(kernel, data)
        n_out = _signature(kernel)[1] if use_out else 0
        buffers = [np.empty_like(data.x) for _ in range(n_out)]
        if buffers:
            out: Any = tuple(buffers) if n_out > 1 else buffers[0]
            call = _threaded(backend, threads, lambda: fn(*args, out=out))
        else:
            call = _threaded(backend, threads, lambda: fn(*args))
        return Prepared(call, buffers)

    return prepare


_FLOOR_LIB: dict[str, Any] = {}


def compile_floor() -> Any:
    """The floor loops as a ctypes library, built by the kernels' own compiler with the kernels' flags."""
    if "lib" not in _FLOOR_LIB:
        import ctypes

        from derive.backends.c.loader import compile_c_source

        lib = compile_c_source(FLOOR_SOURCE, "bench_floor")
        for name in FLOOR_FUNCTIONS:
            fn = getattr(lib, name)
            fn.restype = None
            fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_long] * 2
        _FLOOR_LIB["lib"] = lib
    return _FLOOR_LIB["lib"]


def _floor(function: str) -> Callable[[DataSet], Prepared]:
    def prepare(data: DataSet) -> Prepared:
        import numpy as np

        fn = getattr(compile_floor(), function)
        out = np.empty_like(data.x)
        rows, cols = data.x.shape
        ptrs = (data.x.ctypes.data, data.mu.ctypes.data, data.theta.ctypes.data, out.ctypes.data)

        def call() -> Any:
            fn(*ptrs, rows, cols)
            return out

        return Prepared(call, [out])

    return prepare


def _torch_loss(formula: str, dtype: str, device: str = "cpu") -> Callable[[DataSet], Prepared]:
    """The log-PMF and the gradients of the summed NLL w.r.t. mu and theta (one backward) in torch, on ``device``:
    ``formula`` "ours" (the torch backend: its derived gradient kernels) or "scvi" (scvi-tools' formula, autograd).
    On CUDA the call waits for the device (torch.cuda.synchronize), so that a timing is the work, not its launch."""

    def prepare(data: DataSet) -> Prepared:
        try:
            import torch
        except ImportError as exc:
            raise KernelsUnavailable("torch is not installed (pip install 'nbderive[torch]')") from exc
        kind = getattr(torch, dtype)
        x, mu0, theta0 = (torch.as_tensor(a, dtype=kind, device=device) for a in (data.x, data.mu, data.theta))
        logpmf = _backend("torch").nb_logpmf if formula == "ours" else _scvi_torch
        wait = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)

        def call() -> Any:
            mu, theta = mu0.detach().requires_grad_(True), theta0.detach().requires_grad_(True)
            value = logpmf(x, mu, theta)
            torch.autograd.grad(-value.sum(), (mu, theta))
            wait()
            return value.detach()

        return Prepared(call)

    return prepare


def _scvi_torch(x: Any, mu: Any, theta: Any, eps: float = SCVI_EPS) -> Any:
    """scvi-tools' log_nb_positive, in torch (as _scvi's numpy copy)."""
    import torch

    log_theta_mu_eps = torch.log(theta + mu + eps)
    return (theta * (torch.log(theta + eps) - log_theta_mu_eps) + x * (torch.log(mu + eps) - log_theta_mu_eps)
            + torch.lgamma(x + theta) - torch.lgamma(theta) - torch.lgamma(x + 1))


def _from_tensor(out: Any, data: DataSet) -> Any:
    return out.double().cpu().numpy()


def _identity(out: Any, data: DataSet) -> Any:
    return out


def _from_fused(out: Any, data: DataSet) -> Any:
    return -out[0]


def contenders(default_threads: int | None) -> list[Contender]:
    """Everything measured, in table order. C rows set their thread count inside the timed call."""
    default = f"default: {default_threads} threads" if default_threads else "default threads"
    return [
        Contender("scipy.stats.nbinom.logpmf", _scipy, _identity, role="scipy"),
        Contender("sympy lambdify (plain formula)", _lambdify, _identity, role="lambdify"),
        Contender("scvi-tools formula (numpy)", _scvi, _identity, role="scvi"),
        Contender("ours: numpy nb_logpmf", _numpy_logpmf, _identity, role="numpy"),
        Contender(f"ours: C nb_logpmf ({default})", _c_kernel("nb_logpmf", default_threads), _identity, role="c"),
        Contender("ours: C nb_logpmf (1 thread)", _c_kernel("nb_logpmf", 1), _identity, role="c1"),
        Contender("ours: C nb_logpmf (2 threads)", _c_kernel("nb_logpmf", 2), _identity, role="c2"),
        Contender(f"ours: C nb_nll_fused ({default})", _c_kernel("nb_nll_fused", default_threads), _from_fused,
                  role="fused"),
        Contender(f"ours: C nb_nll_sum_genes ({default})", _c_kernel("nb_nll_sum_genes", default_threads),
                  _identity, reduced=True, role="sum"),
        Contender("ours: torch nb_logpmf + backward (float64)", _torch_loss("ours", "float64"), _from_tensor,
                  traced=False),
        Contender("scvi-tools formula (torch, autograd, float64)", _torch_loss("scvi", "float64"), _from_tensor,
                  traced=False),
        Contender("ours: torch nb_logpmf + backward (float32)", _torch_loss("ours", "float32"), _from_tensor,
                  traced=False),
        Contender("scvi-tools formula (torch, autograd, float32)", _torch_loss("scvi", "float32"), _from_tensor,
                  traced=False),
        Contender("floor: C log1p(mu/theta) (1 thread)", _floor("floor_log1p"), role="floor"),
        Contender("bare: C log1p(mu/theta), 2 threads (OpenMP)", _floor("floor_log1p_2threads"), group="parts"),
        Contender("bare: C copy mu -> out", _floor("part_copy"), group="parts"),
        Contender("bare: C log(mu)", _floor("part_log"), group="parts"),
        Contender("bare: C lgamma(x + theta)", _floor("part_lgamma"), group="parts"),
    ]


# ----------------------------------------------------------------------------------------------------------
# measuring


def _arrays(out: Any) -> list[Any]:
    import numpy as np

    items = out if isinstance(out, tuple | list) else (out,)
    return [a for a in items if isinstance(a, np.ndarray)]


def _peak_extra(prepared: Prepared) -> tuple[int, int]:
    """Peak bytes a call allocates (tracemalloc sees numpy's buffers) and how many of them are fresh outputs."""
    import tracemalloc

    import numpy as np

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = prepared.call()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    fresh = sum(a.nbytes for a in _arrays(out)
                if not any(np.shares_memory(a, buf) for buf in prepared.buffers))
    return max(peak, 0), fresh


def _agreement(contender: Contender, out: Any, data: DataSet, reference: Any) -> tuple[float | None, int | None]:
    """Max |difference| from scipy on entries where both are finite, and how many outputs are not finite."""
    import numpy as np

    if contender.logpmf is None or reference is None:
        return None, None
    value = np.asarray(contender.logpmf(out, data), dtype=np.float64)
    if contender.reduced:
        # a per-cell sum of the NLL: compare with the negated per-cell sum of scipy's log-PMF
        reference = -reference.sum(axis=-1)
    finite = np.isfinite(value) & np.isfinite(reference)
    diff = float(np.max(np.abs(value[finite] - reference[finite]))) if finite.any() else float("nan")
    return diff, int((~np.isfinite(value)).sum())


class CpuMeter:
    """How much CPU *other* processes used while we timed: all CPUs' busy time (/proc/stat) minus our own.

    The load average lags by a minute; this says whether the ratios of this very run were disturbed.
    """

    def __init__(self) -> None:
        self.start = self._snapshot()

    @staticmethod
    def _snapshot() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as handle:
                fields = [int(v) for v in handle.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        own = os.times()
        return time.perf_counter(), busy, own.user + own.system + own.children_user + own.children_system

    def others_cores(self) -> float | None:
        """Average number of cores used by other processes since construction."""
        end = self._snapshot()
        if self.start is None or end is None or end[0] <= self.start[0]:
            return None
        others = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, others / (end[0] - self.start[0]))


def measure(datasets: Sequence[DataSet], entries: Sequence[Contender], repeats: int,
            log: Callable[[str], None] = print) -> dict[tuple[str, str], Result]:
    """Time every contender on every data set: a warm-up call, then ``repeats`` interleaved rounds."""
    import numpy as np

    if len({c.name for c in entries}) != len(entries):
        raise ValueError("contender names must be unique: results are keyed by name")
    results: dict[tuple[str, str], Result] = {}
    for data in datasets:
        with np.errstate(all="ignore"):
            reference = np.asarray(_scipy(data).call())
        ready: list[tuple[Contender, Prepared, Result]] = []
        for contender in entries:
            result = results.setdefault((contender.name, data.key), Result(contender.name, data.key))
            try:
                prepared = contender.prepare(data)
                with np.errstate(all="ignore"):
                    out = prepared.call()  # warm-up: first-call costs (compiling, thread pool start) are not timed
                    result.max_abs_diff, result.nonfinite = _agreement(contender, out, data, reference)
                    if contender.traced:
                        result.peak_extra, result.new_output_bytes = _peak_extra(prepared)
            except Exception as exc:  # noqa: BLE001 - a contender that cannot run is a row, not a crash
                result.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:100]
                continue
            ready.append((contender, prepared, result))
        log(f"  timing {len(ready)} contenders on ({data.key}), {repeats} round(s)...")
        gc.collect()
        gc.disable()
        try:
            with np.errstate(all="ignore"):
                for _ in range(repeats):
                    for _contender, prepared, result in ready:
                        start = time.perf_counter()
                        prepared.call()
                        result.times.append(time.perf_counter() - start)
                        time.sleep(SETTLE_SECONDS)
        finally:
            gc.enable()
    return results


# ----------------------------------------------------------------------------------------------------------
# reporting


@dataclasses.dataclass
class Target:
    text: str
    value: float | None
    limit: float
    higher_is_better: bool
    unit: str = "x"
    why_missing: str = ""

    @property
    def passed(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


def _ms(results: dict[tuple[str, str], Result], name: str, key: str) -> float | None:
    result = results.get((name, key))
    return result.median_ms if result else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def targets(results: dict[tuple[str, str], Result], names: dict[str, str], data: dict[str, DataSet]) -> list[Target]:
    """The issue's targets: speed as ratios of medians on data (a) (and (b) where stated); memory from tracemalloc."""
    a, b = "a", "b"

    def ms(role: str, key: str = a) -> float | None:
        return _ms(results, names[role], key)

    found: list[Target] = [
        Target("C nb_logpmf (default threads) vs scipy: speedup", _ratio(ms("scipy"), ms("c")), 10, True),
        Target("C nb_logpmf (default threads) vs lambdify: speedup", _ratio(ms("lambdify"), ms("c")), 5, True),
        Target("C nb_logpmf (1 thread) / floor loop", _ratio(ms("c1"), ms("floor")), 1.6, False),
        Target("numpy nb_logpmf vs lambdify on (a): speedup", _ratio(ms("lambdify"), ms("numpy")), 1.5, True),
        Target("numpy nb_logpmf vs lambdify on (b): speedup (not slower)",
               _ratio(ms("lambdify", b), ms("numpy", b)), 1.0, True),
        Target("C nb_nll_fused / C nb_logpmf (default threads)", _ratio(ms("fused"), ms("c")), 1.6, False),
        Target("C nb_logpmf speedup from 1 to 2 threads", _ratio(ms("c1"), ms("c2")), 1.7, True),
    ]
    memory: list[float] = []
    for key, dataset in data.items():
        result = results.get((names["numpy"], key))
        if result is None or result.peak_extra is None:
            memory = []
            break
        memory.append(result.peak_extra / dataset.input_bytes)
    found.append(Target("numpy nb_logpmf peak extra memory / input size (worst of (a), (b))",
                        max(memory) if memory else None, 4, False))
    extra: list[int] = []
    for role, key in itertools.product(("c", "c1", "c2", "fused", "sum"), data):
        result = results.get((names[role], key))
        if result is None or result.peak_extra is None or result.new_output_bytes is None:
            extra = []
            break
        extra.append(result.peak_extra - result.new_output_bytes)
    allocates = _c_source_allocates()
    scan = {None: "", False: "; generated C has no malloc", True: "; generated C CALLS malloc"}[allocates]
    if allocates:
        extra = [SLACK_BYTES + 1]  # tracemalloc cannot see C's malloc: the source scan decides
    found.append(Target(f"C kernels: peak bytes allocated beyond their outputs (worst C row, (a) and (b){scan})",
                        float(max(extra)) if extra else None, SLACK_BYTES, False, unit=" B"))
    return found


def _c_source_allocates() -> bool | None:
    """Whether the generated C calls an allocator: tracemalloc sees numpy's buffers but not C's malloc."""
    import re

    try:
        source = (_kernels().GENERATED / "c" / "nbkernels.c").read_text()
    except (KernelsUnavailable, AttributeError, OSError):
        return None
    return re.search(r"\b(malloc|calloc|realloc|alloca|aligned_alloc)\s*\(", source) is not None


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}{suffix}"


def _fmt_diff(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def table_rows(results: dict[tuple[str, str], Result], entries: Sequence[Contender], datasets: Sequence[DataSet],
               names: dict[str, str], group: str = "main") -> list[list[str]]:
    rows = []
    for data in datasets:
        scipy_ms = _ms(results, names["scipy"], data.key)
        floor_ms = _ms(results, names["floor"], data.key)
        for contender in entries:
            if contender.group != group:
                continue
            result = results[(contender.name, data.key)]
            if result.error:
                rows.append([contender.name, data.key, "n/a", "-", "-", "-", "-", "-", "-",
                             f"unavailable: {result.error}"])
                continue
            median = result.median_ms
            per_element = 1e6 * median / data.entries if median is not None else None
            rows.append([
                contender.name, data.key, _fmt(median), _fmt(result.min_ms), _fmt(_ratio(scipy_ms, median), 1, "x"),
                _fmt(_ratio(median, floor_ms), 2, "x"), _fmt(per_element, 1),
                _fmt(result.peak_extra / 2**20 if result.peak_extra is not None else None, 1),
                _fmt_diff(result.max_abs_diff), "" if not result.nonfinite else f"{result.nonfinite} non-finite",
            ])
    return rows


HEADERS = ["contender", "data", "median ms", "min ms", "scipy / this", "this / floor", "ns/entry", "peak extra MiB",
           "max abs diff vs scipy", "notes"]


def _text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    numeric = {i for i in range(1, len(headers) - 1)}

    def line(row: list[str]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [str(c).rjust(w) if i in numeric else str(c).ljust(w) for i, (c, w) in pairs]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table (cells' own pipes escaped) for the README and docs."""
    align = ["---"] + ["---:"] * (len(headers) - 2) + ["---"]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    return "\n".join([line(headers), "| " + " | ".join(align) + " |", *(line(row) for row in rows)])


def _target_lines(found: list[Target], judged: bool) -> list[str]:
    lines = []
    for target in found:
        status = {True: "PASS", False: "FAIL", None: "n/a "}[target.passed]
        if not judged and target.passed is not None:
            status += "*"
        op = ">=" if target.higher_is_better else "<="
        if target.unit == " B":
            shown, limit = _fmt(target.value, 0, " B"), f"{target.limit:,} B"
        else:
            shown, limit = _fmt(target.value, 2, "x"), f"{target.limit}x"
        lines.append(f"{status}  {target.text}: {shown} (target {op} {limit})")
    return lines


def machine_info() -> list[str]:
    """What the numbers depend on: cores, library versions, compiler and flags, thread and OpenBLAS settings."""
    import numpy as np
    import scipy
    import sympy

    from derive.backends.c.loader import CFLAGS, OPENMP_FLAGS

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = ", ".join(f"{name}={os.environ[name]}" if name in os.environ else f"{name} unset" for name in OPENBLAS_VARS)
    return [
        f"cpu: {cpu}; cores: {os.cpu_count()} ({usable} usable)",
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"sympy {sympy.__version__}",
        f"compiler: {_compiler_text()}; flags: {' '.join((*CFLAGS, *OPENMP_FLAGS))}",
        f"env: {env} (OpenBLAS settings touch BLAS only, not the elementwise code measured here)",
    ]


def _compiler_text() -> str:
    """The compiler the kernels (and the floor) are built with, and its version."""
    from derive.backends.c.loader import find_compiler
    from derive.kernels import CompilerError

    try:
        compiler = find_compiler()
    except CompilerError:
        return "none found (the C rows are unavailable)"
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False)
    return f"{compiler} ({version.stdout.splitlines()[0]})" if version.stdout else compiler


# ----------------------------------------------------------------------------------------------------------
# the command


def _parse_size(text: str) -> tuple[int, int]:
    """'CELLSxGENES' or a number of entries (genes stay 500, or fewer for tiny sizes)."""
    lowered = text.lower().replace("×", "x")
    if "x" in lowered:
        cells, genes = (int(float(part)) for part in lowered.split("x", 1))
    else:
        entries = int(float(lowered))
        genes = min(DEFAULT_GENES, max(1, int(entries**0.5)))
        cells = max(1, round(entries / genes))
    if cells < 1 or genes < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return cells, genes


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=_parse_size, default=None, metavar="CxG|N",
                        help=f"cells x genes (e.g. 2000x500) or a number of entries; default "
                             f"{DEFAULT_CELLS}x{DEFAULT_GENES}")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"timed runs per contender, median reported (default {DEFAULT_REPEATS}; targets are "
                             f"judged only with >= {MIN_REPEATS_FOR_TARGETS})")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the generated data (default fixed)")
    parser.add_argument("--write", type=Path, default=None, metavar="PATH", help="also write a Markdown report")
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny size ({SMOKE_CELLS}x{SMOKE_GENES}) and 1 repeat: checks everything runs (CI)")


def run(args: argparse.Namespace) -> int:
    cells, genes = args.size or ((SMOKE_CELLS, SMOKE_GENES) if args.smoke else (DEFAULT_CELLS, DEFAULT_GENES))
    repeats = args.repeats or (1 if args.smoke else DEFAULT_REPEATS)
    if repeats < 1:
        raise SystemExit("derive bench: --repeats must be at least 1")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    info = machine_info()
    log(f"derive bench: generating data ({cells} x {genes}, seed {args.seed})...")
    datasets = [single_cell_like(cells, genes, args.seed), dense_counts(cells, genes, args.seed)]
    try:
        default_threads = _get_threads(_backend("c"))
    except KernelsUnavailable:
        default_threads = None
    entries = contenders(default_threads)
    names = {c.role: c.name for c in entries if c.role}
    meter = CpuMeter()
    results = measure(datasets, entries, repeats, log)
    others = meter.others_cores()
    if others is not None:
        noisy = "" if others < BUSY_CORES else " (busy: ratios are noisy, thread scaling most of all)"
        info.append(f"other processes used {others:.2f} cores on average during the run{noisy}")

    judged = datasets[0].entries >= TARGET_ENTRIES and repeats >= MIN_REPEATS_FOR_TARGETS
    found = targets(results, names, {d.key: d for d in datasets})
    rows = table_rows(results, entries, datasets, names)
    part_rows = table_rows(results, entries, datasets, names, group="parts")
    caveat = ("" if judged else f"* indicative only: targets are defined at >= {TARGET_ENTRIES:,} entries with "
              f">= {MIN_REPEATS_FOR_TARGETS} repeats (this run: {datasets[0].entries:,} entries, {repeats} repeat(s))")
    notes = [
        f"medians of {repeats} interleaved run(s) after one warm-up; scipy / this = speedup over scipy; "
        "this / floor = cost in floor loops (floor: 1 thread)",
        "peak extra = bytes allocated during one call (tracemalloc, which sees numpy buffers), outputs included; "
        "C rows write into preallocated out= buffers when the kernel accepts them",
        "max abs diff vs scipy: sanity check that every row computes the same thing (accuracy is `derive accuracy`)",
    ]

    lines = ["machine:", *(f"  {line}" for line in info), "data:", *(f"  {d.describe()}" for d in datasets), ""]
    lines += [_text_table(HEADERS, rows), "",
              "bare per-element C loops (1 thread unless stated; what limits the kernels):",
              _text_table(HEADERS, part_rows), "", *notes, "", "targets (speed on data (a) unless stated):",
              *_target_lines(found, judged)]
    if caveat:
        lines.append(caveat)
    print("\n".join(lines))

    if args.write:
        md = ["# Benchmark: the NB log-PMF", "", "Generated by `derive bench"
              + (" --smoke" if args.smoke else "") + f" --size {cells}x{genes} --repeats {repeats}`.", "",
              "## Machine", "", *(f"- {line}" for line in info), "", "## Data", "",
              *(f"- {d.describe()}" for d in datasets), "", "## Results", "", _md_table(HEADERS, rows), "",
              "Bare per-element C loops (1 thread unless stated), for what limits the kernels:", "",
              _md_table(HEADERS, part_rows), "", *(f"- {note}" for note in notes), "", "## Targets", "",
              *(f"- {line}" for line in _target_lines(found, judged))]
        if caveat:
            md += ["", caveat]
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text("\n".join(md) + "\n")
        log(f"derive bench: wrote {args.write}")
    return 0
