"""The outputs the numerics are printed into: one folder per backend, found by looking at the folders.

A *code backend* is a folder here with a ``config.py`` that defines ``BACKEND`` (a
:class:`derive.backends.base.Backend`): nothing else in the project lists backend names, so adding one is adding its
folder. ``latex`` and ``docs`` are outputs too, but of documents, not kernels: they have no ``config.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def code_backends() -> tuple[str, ...]:
    """Names of the folders that generate kernels (those with a ``config.py``), in their configs' ``position``
    order (where several are shown side by side), then by name."""
    found = [m.name for m in pkgutil.iter_modules([str(_HERE)]) if m.ispkg and (_HERE / m.name / "config.py").exists()]
    return tuple(sorted(found, key=lambda name: (_config(name).position, name)))


def backend(name: str):
    """The ``Backend`` config of code backend ``name``."""
    if name not in code_backends():
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(code_backends())}")
    return _config(name)


def _config(name: str):
    return importlib.import_module(f"derive.backends.{name}.config").BACKEND
