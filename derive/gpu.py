"""``derive gpu``: the torch kernels' accuracy and speed on a CUDA device, where one is present.

The same accuracy tables as ``derive accuracy`` (every kernel output against the mpmath oracle, per regime), with
the inputs made tensors on the device, and the training-loop timing of ``derive bench`` (value plus backward of the
summed NLL, ours against scvi-tools' formula with autograd, float64 and float32) run there. Without a GPU (or
without torch) it says so and exits 0, so that the same command can be run unchanged on any machine
(``benchmarks/gpu.py``); ``--device cpu`` runs it on the CPU (the tests do, on a small problem).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time

#: The timed rows: (label, formula, dtype).
#: (float32: the torch kernels' float32 bodies, which compute x = 0 of the log-PMF and the mu-gradient in float32 and
#: hand the rest to float64: KernelSpec.widened.)
TIMED = (("ours: torch nb_logpmf + backward (float64)", "ours", "float64"),
         ("scvi-tools formula (torch, autograd, float64)", "scvi", "float64"),
         ("ours: torch nb_logpmf + backward (float32)", "ours", "float32"),
         ("scvi-tools formula (torch, autograd, float32)", "scvi", "float32"))


class BadDevice(ValueError):
    """The --device text names no torch device."""


def unavailable(device: str) -> str | None:
    """Why nothing can be measured on ``device`` (None where it can); BadDevice where it is no device at all."""
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install 'nbderive[torch]'): nothing measured"
    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError) as error:
        raise BadDevice(f"--device {device!r} is not a torch device ({error})") from None
    if kind == "cuda" and not torch.cuda.is_available():
        return "no GPU: torch.cuda.is_available() is False, nothing measured"
    if kind not in ("cuda", "cpu"):
        raise BadDevice(f"--device {device!r}: only cuda and cpu are measured")
    return None


def device_name(device: str) -> str:
    import torch

    if torch.device(device).type == "cuda":
        return f"{device}: {torch.cuda.get_device_name(torch.device(device))} (torch {torch.__version__})"
    from derive.bench import machine_info

    return f"{machine_info()[0]} (torch {torch.__version__})"


def accuracy_report(device: str, seed: int, cases: int) -> tuple[str, bool]:
    """The accuracy tables of the torch kernels on ``device``, float64 and float32, and whether every output met its
    goal."""
    from derive import accuracy, kernels

    module = kernels.load("torch")
    narrow = {f"torch@{device} float32": kernels.NumpyView(module, device, dtype="float32")}
    cells = accuracy.measure(accuracy.sample_all(seed, cases), {f"torch@{device}": kernels.NumpyView(module, device)},
                             (), narrow)
    return accuracy.text_report(cells), all(c.ok for c in cells)


def speed_report(device: str, cells: int, genes: int, repeats: int) -> str:
    """Median times of the training-loop rows on both data sets, and each of ours against the formula's."""
    from derive import bench

    datasets = [bench.single_cell_like(cells, genes), bench.dense_counts(cells, genes)]
    entries = [bench.Contender(label, bench._torch_loss(formula, dtype, device), bench._from_tensor,
                               traced=False) for label, formula, dtype in TIMED]
    results = bench.measure(datasets, entries, repeats, log=lambda line: print(line, file=sys.stderr))
    formula_of = {dtype: entry.name for (_, formula, dtype), entry in zip(TIMED, entries, strict=True)
                  if formula == "scvi"}
    rows = []
    for data in datasets:
        for (_, formula, dtype), entry in zip(TIMED, entries, strict=True):
            result = results[(entry.name, data.key)]
            formula_ms = results[(formula_of[dtype], data.key)].median_ms
            ratio = bench._ratio(formula_ms, result.median_ms) if formula == "ours" else None
            rows.append([entry.name, data.key, bench._fmt(result.median_ms), bench._fmt(result.min_ms),
                         bench._fmt(ratio, 2, "x") if ratio else "-", result.error or ""])
    headers = ["contender", "data", "median ms", "min ms", "formula / ours", "notes"]
    described = [f"data {data.key}: {data.describe()}" for data in datasets]
    return "\n".join([*described, bench._text_table(headers, rows)])


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cuda", help="torch device (default cuda; 'cpu' runs it on the CPU)")
    parser.add_argument("--cases", type=int, default=300, metavar="N", help="accuracy cases per regime (default 300)")
    parser.add_argument("--seed", type=int, default=None, help="accuracy seed (default: a new one, printed)")
    parser.add_argument("--cells", type=int, default=2000, help="timed data: cells (default 2000)")
    parser.add_argument("--genes", type=int, default=500, help="timed data: genes (default 500)")
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds (default 9)")


def run(args: argparse.Namespace) -> int:
    for name in ("cases", "cells", "genes", "repeats"):
        if getattr(args, name) < 1:
            print(f"derive gpu: --{name} must be at least 1", file=sys.stderr)
            return 2
    try:
        why = unavailable(args.device)
    except BadDevice as error:
        print(f"derive gpu: {error}", file=sys.stderr)
        return 2
    if why:
        print(f"derive gpu: {why}")
        return 0
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    print(f"derive gpu on {device_name(args.device)}")
    print(f"accuracy: seed {seed}, {args.cases} cases per regime (rerun with --seed {seed})")
    start = time.perf_counter()
    report, met = accuracy_report(args.device, seed, args.cases)
    print(report)
    print(f"speed: value + backward of the summed NLL, {args.cells} x {args.genes}, median of {args.repeats}")
    print(speed_report(args.device, args.cells, args.genes, args.repeats))
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0 if met else 1
