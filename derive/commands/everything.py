"""``derive all``: the main job. Verify every derivation, regenerate kernels and docs."""

from __future__ import annotations

import argparse
import importlib

#: The stages of the main job, in order: (command module, description).
STAGES = (
    ("derive.commands.verify", "verify every derivation"),
    ("derive.codegen", "generate kernels into generated/"),
    ("derive.backends.docs.build", "regenerate docs/"),
    ("derive.commands.check_kernels", "load every kernel backend (compiling the C one) and compare with scipy"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-docs", action="store_true", help="skip the documentation stage")


def run(args: argparse.Namespace) -> int:
    for module_name, description in STAGES:
        if args.skip_docs and module_name.endswith("docs.build"):
            continue
        print(f"== {description}")
        module = importlib.import_module(module_name)
        stage_args = argparse.ArgumentParser()
        module.configure(stage_args)
        status = module.run(stage_args.parse_args([]))
        if status:
            return status
    return 0
