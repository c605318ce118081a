"""Calls of the numpy backend's generated functions one by one (for the tests of the primitives, the double-double
functions and the runtime): the module's own ``_<name>``, or numpy's function where the backend uses it natively."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.special

from derive.numerics.ir import PAIR


def probe(signatures: Sequence[tuple[str, Sequence[str], str]]) -> dict[str, Callable]:
    """name -> f(*args): each real argument a 1-D array, each pair a (hi, lo) of them; an array or (hi, lo) back."""
    from derive import kernels
    from derive.backends.numpy.config import BACKEND

    module = kernels.load("numpy")

    def caller(name: str, result: str) -> Callable:
        native = BACKEND.natives.get(name)
        function = eval(native, {"np": np, "_sc": scipy.special}) if native else getattr(module, f"_{name}")

        def call(*args):
            with np.errstate(all="ignore"):
                value = function(*args)
            if result == PAIR:
                return tuple(np.asarray(part, dtype=float).ravel() for part in value)
            return np.asarray(value, dtype=float).ravel()

        return call

    return {name: caller(name, result) for name, _, result in signatures}
