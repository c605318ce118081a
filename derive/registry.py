"""The registry of named derivations: built lazily, verified when built, cached per process.

Models register a builder per name with :func:`register`; nothing is derived until somebody asks, so
``derive list`` is instant while ``derive show NAME`` derives (and verifies) only what NAME depends on. The builders
are registered by importing every model folder's ``derivations`` and ``stable`` modules (:mod:`derive.models`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import cache

import sympy as sp

from derive.steps import Derivation

#: The modules of a model folder whose import registers derivations.
DERIVATION_MODULES = ("derivations", "stable")

_BUILDERS: dict[str, Callable[[], Derivation]] = {}
_CACHE: dict[str, Derivation] = {}


class UnknownNameError(KeyError):
    """A derivation name that is not registered; the message lists the closest names."""

    def __init__(self, name: str, known: list[str]):
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else " Run 'derive list' for all names."
        super().__init__(f"unknown derivation {name!r}.{hint}")
        self.name = name
        self.close = close

    def __str__(self) -> str:
        return self.args[0]


def register(name: str) -> Callable[[Callable[[], Derivation]], Callable[[], Derivation]]:
    """Decorator: ``builder`` returns the verified Derivation called ``name``."""

    def decorate(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
        if name in _BUILDERS:
            raise ValueError(f"derivation {name!r} registered twice")
        _BUILDERS[name] = builder
        return builder

    return decorate


@cache
def _load_models() -> None:
    """Import every model folder's derivation modules once: importing them registers their builders."""
    from derive.models import modules

    for part in DERIVATION_MODULES:
        modules(part)


def names() -> list[str]:
    """All registered derivation names, sorted."""
    _load_models()
    return sorted(_BUILDERS)


def derivation(name: str) -> Derivation:
    """The verified chain called ``name`` (built on first use)."""
    if not isinstance(name, str):
        raise TypeError(f"a derivation name is a string, got {type(name).__name__}")
    _load_models()
    if name not in _BUILDERS:
        raise UnknownNameError(name, sorted(_BUILDERS))
    if name not in _CACHE:
        built = _BUILDERS[name]()
        if built.name != name:
            raise ValueError(f"builder for {name!r} returned a derivation named {built.name!r}")
        _CACHE[name] = built
    return _CACHE[name]


def expr(name: str) -> sp.Expr:
    """The result (last step) of the derivation called ``name``."""
    return derivation(name).result
