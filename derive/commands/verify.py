"""``derive verify``: build every derivation (each step checked as it is built), then re-check all steps."""

from __future__ import annotations

import argparse
import time
from collections import Counter

from derive import registry


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")


def verify_all(quiet: bool = False) -> Counter:
    """Build and re-verify every derivation; return the count of steps by method."""
    counts: Counter = Counter()
    for name in registry.names():
        start = time.perf_counter()
        d = registry.derivation(name)
        d.reverify()
        counts.update(d.methods)
        if not quiet:
            print(f"  {name:28s} {len(d.steps):3d} steps  {time.perf_counter() - start:6.2f} s")
    return counts


def run(args: argparse.Namespace) -> int:
    counts = verify_all(args.quiet)
    summary = ", ".join(f"{n} {method}" for method, n in sorted(counts.items()))
    print(f"verified {len(registry.names())} derivations ({summary})")
    return 0
