"""Placeholder: filled by its issue's work."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    raise SystemExit("derive: this command is not built yet")
