"""Loading the torch backend: the generated module (it needs PyTorch, an optional extra: nbderive[torch])."""

from __future__ import annotations

import types

from derive.kernels import FrameworkMissing, import_generated


def load() -> types.ModuleType:
    try:
        import torch  # noqa: F401
    except ImportError as error:
        raise FrameworkMissing("the torch backend needs PyTorch: pip install 'nbderive[torch]' "
                               "(torch==2.13.0, whose CPU wheel the project's machines have)") from error
    module = import_generated("torch/nbkernels.py", "nbderive_generated_nbkernels_torch")
    module.backend = "torch"
    module.names = list(module.__all__)
    return module
