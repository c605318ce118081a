"""Calls of the torch backend's generated functions one by one (for the tests of the primitives, the double-double
functions and the runtime): the module's own ``_<name>`` (or torch's function where it is native), on float64
tensors made from the arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from derive.numerics.ir import PAIR


def probe(signatures: Sequence[tuple[str, Sequence[str], str]]) -> dict[str, Callable]:
    """name -> f(*args): each real argument a 1-D array, each pair a (hi, lo) of them; an array or (hi, lo) back."""
    import torch

    from derive import kernels
    from derive.backends.torch.config import BACKEND

    module = kernels.load("torch")

    def tensor(a):
        return torch.as_tensor(np.asarray(a, dtype=np.float64))

    def caller(name: str, params: Sequence[str], result: str) -> Callable:
        native = BACKEND.natives.get(name)
        function = eval(native, {"torch": torch}) if native else getattr(module, f"_{name}")

        def call(*args):
            converted = [(tensor(a[0]), tensor(a[1])) if kind == PAIR else tensor(a)
                         for kind, a in zip(params, args, strict=True)]
            value = function(*converted)
            if result == PAIR:
                return tuple(np.asarray(part, dtype=float).ravel() for part in value)
            return np.asarray(value, dtype=float).ravel()

        return call

    return {name: caller(name, params, result) for name, params, result in signatures}
