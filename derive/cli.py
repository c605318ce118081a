"""The ``derive`` command line.

Each subcommand lives with the code it drives; this module only wires them: a command is a module with
``configure(parser)`` and ``run(args) -> int``. Building the parser imports every command module (each adds its
own options, also for ``derive --help``), so those modules keep their heavy imports (numpy, matplotlib, the
kernels, the compiler) inside the functions that use them: ``derive list`` never pays for importing matplotlib
or compiling C.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: name -> (module, one-line help). Modules provide ``configure(parser)`` and ``run(args)``.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("derive.commands.show", "list the names of all derivations"),
    "show": ("derive.commands.show", "show a derivation's result, its LaTeX or its chain of steps"),
    "verify": ("derive.commands.verify", "build every derivation and re-check every step"),
    "kernels": ("derive.codegen", "generate the numpy and C kernels into generated/"),
    "docs": ("derive.backends.docs.build", "regenerate the documentation site into docs/"),
    "accuracy": ("derive.accuracy", "measure the kernels' accuracy against a 60-digit mpmath oracle"),
    "bench": ("derive.bench", "benchmark the kernels against scipy, lambdify and the scvi-tools formula"),
    "gpu": ("derive.gpu", "the torch kernels' accuracy and speed on a CUDA device (says 'no GPU' without one)"),
    "all": ("derive.commands.everything", "the main job: verify, kernels, docs (and check they are fresh)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="derive",
        description="The Negative Binomial likelihood derived with SymPy, documented, and turned into kernels.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        configure = getattr(module, f"configure_{name}", None) or module.configure
        configure(command)
        command.set_defaults(_module=module_name, _name=name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    run = getattr(module, f"run_{args._name}", None) or module.run
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
