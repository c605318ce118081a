"""The PyTorch backend: the kernels as differentiable custom operators on tensors (CPU or CUDA; opaque to
torch.compile, so they work inside a compiled training step), in float64 and in float32 (GPUs run float32 up to 64
times faster)."""

from __future__ import annotations

from pathlib import Path

from derive.backends.base import Backend, double_literal
from derive.backends.torch.backward import backward
from derive.backends.torch.numerics import print_library, print_numerics
from derive.backends.torch.printer import torch_code
from derive.backends.torch.probe import probe

BACKEND = Backend(
    name="torch",
    position=2,
    folder=Path(__file__).parent,
    printer=torch_code,
    outputs={"nbkernels.py.j2": "torch/nbkernels.py"},
    filters={"double": double_literal("math.nan"), "backward": backward, "zip": zip},
    numerics=print_numerics,
    library=print_library,
    definition_pattern=r"^def _{}\(",
    natives={"exp": "torch.exp", "log1p": "torch.log1p"},
    probe=probe,
    runtime_suffix=".py",
    requires="torch",
    narrow=("float32",),
)
