"""The main job's last check: every generated backend loads, agree with each other and with scipy."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from scipy import stats

    from derive import kernels

    rng = np.random.default_rng(0)
    x = rng.integers(0, 60, 2000).astype(float)
    mu = 10 ** rng.uniform(-1, 2, 2000)
    theta = 10 ** rng.uniform(-0.5, 2, 2000)
    reference = stats.nbinom.logpmf(x, theta, theta / (theta + mu))
    for backend in kernels.missing():
        print(f"  {backend:6s} skipped: its framework is not installed (an optional extra: nbderive[{backend}])")
    for backend in kernels.available():
        got = np.asarray(kernels.load(backend).nb_logpmf(x, mu, theta))
        worst = float(np.max(np.abs(got - reference) / np.abs(reference)))
        print(f"  {backend:6s} nb_logpmf vs scipy: max relative difference {worst:.1e}")
        if not worst < 1e-11:
            print(f"derive: the {backend} kernels disagree with scipy where scipy is reliable")
            return 1
    return 0
