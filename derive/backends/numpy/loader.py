"""Loading the numpy backend: the generated module itself (standalone: numpy and scipy.special only)."""

from __future__ import annotations

import hashlib
import importlib.util
import types

from derive.kernels import GENERATED, cache_dir, generated_text


def load() -> types.ModuleType:
    text = generated_text("python/nbkernels.py")
    path = GENERATED / "python" / "nbkernels.py"
    if not path.exists():
        key = hashlib.sha256(text.encode()).hexdigest()[:20]
        path = cache_dir() / f"nbkernels-{key}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("nbderive_generated_nbkernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.backend = "numpy"
    module.names = list(module.__all__)
    return module


