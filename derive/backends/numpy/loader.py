"""Loading the numpy backend: the generated module itself (standalone: numpy and scipy.special only)."""

from __future__ import annotations

import types

from derive.kernels import import_generated


def load() -> types.ModuleType:
    module = import_generated("python/nbkernels.py", "nbderive_generated_nbkernels")
    module.backend = "numpy"
    module.names = list(module.__all__)
    return module
