"""``derive list`` and ``derive show NAME``: read the registry from a terminal."""

from __future__ import annotations

import argparse
import sys

import sympy as sp

from derive import registry
from derive.backends.latex.printer import latex
from derive.steps import Derivation

METHOD_WORDS = {
    "definition": "definition",
    "computed": "computed by SymPy",
    "symbolic": "proved symbolically",
    "numeric": "checked numerically",
    "asymptotic": "asymptotic form, checked where it is used",
}


def configure_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--titles", action="store_true", help="print each derivation's title beside its name")


def run_list(args: argparse.Namespace) -> int:
    for name in registry.names():
        if args.titles:
            print(f"{name:28s} {registry.derivation(name).title}")
        else:
            print(name)
    return 0


def configure_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a derivation name, e.g. nb.loglik (see 'derive list')")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--latex", action="store_true", help="print the result as LaTeX")
    form.add_argument("--pretty", action="store_true", help="print the result as 2-D terminal art")
    parser.add_argument("--steps", action="store_true",
                        help="print the whole chain: each step, its justification and how it was verified")


def _render(expr: sp.Expr, args: argparse.Namespace) -> str:
    if args.latex:
        return latex(expr)
    if args.pretty:
        return sp.pretty(expr, use_unicode=True)
    return sp.sstr(expr)


def _step_lines(d: Derivation, args: argparse.Namespace) -> list[str]:
    lines = [f"{d.name}: {d.title}" + (f"  (seed §{d.section})" if d.section else "")]
    for number, step in enumerate(d.steps, start=1):
        how = METHOD_WORDS[step.method] + (f": {step.detail}" if step.detail else "")
        lines.append(f"\n[{number}] {step.why}\n    ({how})")
        body = _render(step.expr, args)
        lines.extend("    " + line for line in body.splitlines())
    return lines


def run_show(args: argparse.Namespace) -> int:
    try:
        d = registry.derivation(args.name)
    except registry.UnknownNameError as error:
        print(f"derive: {error}", file=sys.stderr)
        return 2
    if args.steps:
        print("\n".join(_step_lines(d, args)))
        return 0
    body = _render(d.result, args)
    if d.lhs is not None and not args.pretty:
        lhs = latex(d.lhs) if args.latex else sp.sstr(d.lhs)
        print(f"{lhs} = {body}")
    else:
        print(body)
    return 0


configure = configure_show
run = run_show
