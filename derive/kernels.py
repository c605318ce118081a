"""Load the generated kernels: ``load("numpy")``, ``load("c")``, ... one interface for every backend.

Each backend folder (``derive/backends/<name>/``) has a ``loader.py`` whose ``load()`` returns an object with one
function per kernel, the same names and semantics in every backend. Which backends exist is read from the folders
(:func:`derive.backends.code_backends`), never listed here.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from pathlib import Path
from typing import Any

GENERATED = Path(__file__).resolve().parent.parent / "generated"


class CompilerError(RuntimeError):
    """A backend's code cannot be built here (no compiler, or the compiler failed)."""


class FrameworkMissing(ImportError):
    """A backend's framework (an optional extra, e.g. torch) is not installed."""


def backends() -> tuple[str, ...]:
    """The names of the code backends, in display order."""
    from derive.backends import code_backends

    return code_backends()


def available() -> tuple[str, ...]:
    """The code backends whose framework is installed (all but the optional ones missing here)."""
    from derive.backends import backend

    return tuple(name for name in backends() if backend(name).available())


def missing() -> tuple[str, ...]:
    """The code backends generated but not loadable here, their framework not installed."""
    return tuple(name for name in backends() if name not in available())


def cache_dir() -> Path:
    """Where built kernels live: $NBDERIVE_CACHE, else $XDG_CACHE_HOME/nbderive, else ~/.cache/nbderive."""
    if os.environ.get("NBDERIVE_CACHE"):
        return Path(os.environ["NBDERIVE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nbderive"


def generated_text(relative: str) -> str:
    """The committed generated file, or (outside a source checkout) the same text rendered now."""
    path = GENERATED / relative
    if path.exists():
        return path.read_text(encoding="utf-8")
    from derive.codegen import render_all

    return render_all()[relative]


def import_generated(relative: str, name: str):
    """The generated Python module ``relative`` (under generated/; outside a source checkout, its text rendered now
    and cached by hash) imported as ``name``, registered in sys.modules (torch.compile looks modules up by name)."""
    import hashlib
    import importlib.util
    import sys

    path = GENERATED / relative
    if not path.exists():
        text = generated_text(relative)
        key = hashlib.sha256(text.encode()).hexdigest()[:20]
        path = cache_dir() / f"{relative.replace('/', '-').removesuffix('.py')}-{key}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@cache
def load(backend: str = "numpy"):
    """The kernels of ``backend`` (see :func:`backends`): an object with one function per kernel."""
    if backend not in backends():
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(backends())}")
    return importlib.import_module(f"derive.backends.{backend}.loader").load()


class NumpyView:
    """A framework backend's kernels (torch: tensors in and out) with numpy results: each output as a numpy array, a
    numpy scalar where 0-d. Code written for every backend (the tests, the accuracy tables) then compares values,
    not array types. With ``device`` or ``dtype``, the arguments are first made tensors of that dtype (float64 by
    default) there (the CPU by default): ``derive gpu``, the float32 accuracy columns; without either, they go to the
    kernels as given (which convert them themselves, to float64)."""

    def __init__(self, module: Any, device: str | None = None, dtype: str | None = None):
        self._module, self._device, self._dtype = module, device, dtype
        self.backend, self.names = module.backend, module.names

    def __getattr__(self, name: str) -> Any:
        import numpy as np

        function = getattr(self._module, name)

        def numpy_of(out: Any) -> Any:
            return np.asarray(out.cpu() if hasattr(out, "cpu") else out)[()]

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._device is not None or self._dtype is not None:
                import torch

                args = tuple(torch.as_tensor(np.asarray(a, dtype=self._dtype or np.float64), device=self._device)
                             for a in args)
            out = function(*args, **kwargs)
            return tuple(numpy_of(o) for o in out) if isinstance(out, tuple) else numpy_of(out)

        return call
