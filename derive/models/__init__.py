"""The likelihoods, one folder each (``nb``, ``poisson``, ``gaussian``), found by looking at the folders.

A model is a subpackage here whose ``__init__`` defines ``ORDER``: where its derivations and kernels are listed among
the other models' (lower first). Its folder holds

- ``derivations.py``: the mathematics, each result a registered, verified chain (``nb.loglik``);
- ``stable.py``: rewrites of those results that keep their digits in double precision (``stable.nb_logpmf_zero``);
- ``kernels.py``: ``specs()``, the kernels the backends generate from them (:class:`derive.spec.KernelSpec`);
- ``oracle.py``: the mpmath closed forms those kernels are checked against, typed apart from the derivations.

Nothing else lists the models, so a new likelihood (ZINB) is one new folder.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from functools import cache
from types import ModuleType


@cache
def models() -> tuple[str, ...]:
    """The model folders' names, in their ``ORDER``."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            order = getattr(importlib.import_module(f"{__name__}.{info.name}"), "ORDER", None)
            if order is not None:
                found.append((order, info.name))
    return tuple(name for _, name in sorted(found))


def modules(part: str) -> tuple[ModuleType, ...]:
    """Module ``part`` (e.g. ``"kernels"``) of every model that has one, in the models' order."""
    names = [f"{__name__}.{model}.{part}" for model in models()]
    return tuple(importlib.import_module(name) for name in names if importlib.util.find_spec(name) is not None)
