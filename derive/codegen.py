"""``derive kernels``: print every kernel spec through every backend's templates into ``generated/``.

Output is deterministic: no timestamps, no paths, only the SymPy version and the source derivations in the
header. ``--check`` regenerates in memory and reports files that differ (the staleness test uses it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from derive.backends import backend, code_backends

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "generated"


def render(name: str) -> dict[str, str]:
    """Generated files of one backend: {relative path: text}."""
    import sympy as sp

    from derive.precision import FLOAT64
    from derive.series import coefficients
    from derive.spec import HUGE_LOG_MU, kernel_specs

    config = backend(name)
    specs = kernel_specs()
    sources = sorted({source for s in specs for source in s.sources})
    env = config.environment()
    coef = coefficients(FLOAT64)
    context = {"kernels": _printed(config, FLOAT64), "coef": coef, "sources": sources,
               "sympy_version": sp.__version__, "huge_log": HUGE_LOG_MU, "library": config.library_source(),
               "runtime": config.runtime_source(), "numerics": config.numerics_source(coef),
               "narrow": [_narrow(config, name) for name in config.narrow]}
    return {path: env.get_template(template).render(**context) for template, path in config.outputs.items()}


def _printed(config, precision) -> list:
    """Every kernel of ``precision`` printed by ``config``'s printer (its names with the precision's suffix)."""
    from functools import partial

    from derive.backends.common import print_kernel
    from derive.spec import kernel_specs

    printer = partial(config.printer, suffix=precision.suffix) if precision.suffix else config.printer
    return [print_kernel(s, printer, config.local_suffix, config.hoist, config.plan) for s in kernel_specs(precision)]


def _narrow(config, name: str) -> dict:
    """What the templates print for a precision beside float64: its kernels, numerics and suffix."""
    import math

    from derive.precision import precision
    from derive.series import coefficients

    found = precision(name)
    e = found.ordinary_exponent
    return {"name": name, "suffix": found.suffix, "kernels": _printed(config, found),
            "numerics": config.numerics_source(coefficients(found)),
            "ordinary": repr(float(2**e)), "ordinary_log": repr(e * math.log(2))}


def render_all() -> dict[str, str]:
    files: dict[str, str] = {}
    for name in code_backends():
        files.update(render(name))
    return files


def stale_files(root: Path = DEFAULT_ROOT) -> list[str]:
    """Relative paths under ``root`` whose committed text differs from what the code generates now."""
    stale = []
    for path, text in render_all().items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def write_all(root: Path = DEFAULT_ROOT) -> list[Path]:
    written = []
    for path, text in render_all().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT, help="output root (default: generated/)")
    parser.add_argument("--check", action="store_true", help="only report files that are stale; exit 1 if any")


def run(args: argparse.Namespace) -> int:
    if args.check:
        stale = stale_files(args.out)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for target in write_all(args.out):
        print(f"wrote {target.relative_to(args.out.parent) if args.out.parent in target.parents else target}")
    return 0
