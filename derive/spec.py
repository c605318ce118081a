"""Kernel specifications: what each generated function computes, and the one list of them.

A kernel is a list of branches, tried in order (the first whose condition holds gives the outputs), after
optional ``lets`` (named values computed for every element, e.g. mu = exp(log_mu)). The first branches state
the conventions (as scipy: NaN parameters give NaN, impossible counts give -inf); the last ones choose the
numerically right form for each regime. Every output expression comes from a registered derivation (stable
forms, proved equal to the plain ones), so backends print, they never decide.

Each model folder declares its kernels (``derive/models/<model>/kernels.py``, ``specs()``); :func:`kernel_specs`
collects them in the models' order, and everything else (backends, accuracy, oracle, benchmark, tests) reads them
from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from derive.registry import expr
from derive.symbols import eta, lam, mu, sigma2, theta, x, x_pos

#: Beyond +-this log-mean, mu = e^eta is not formed (it overflows at 709.78, loses digits below -708).
HUGE_LOG_MU = 700
#: The largest double: "finite" in conditions (IsInf only tests +inf).
FINITE_MAX = sp.Float("1.7976931348623157e308")

NAN, NEG_INF, POS_INF = sp.nan, sp.S.NegativeInfinity, sp.S.Infinity

# Kernel-level symbols: no assumptions, so that conventions (mu < 0, theta <= 0) are not folded away by SymPy.
X, MU, THETA = sp.symbols("x mu theta")
LOG_MU, LOG_THETA, SIGMA2 = sp.symbols("log_mu log_theta sigma2")
_TO_KERNEL = {x: X, x_pos: X, mu: MU, theta: THETA, eta: LOG_MU, lam: LOG_THETA, sigma2: SIGMA2}


def kernel_expr(name: str) -> sp.Expr:
    """A derivation's result in kernel symbols."""
    return to_kernel(expr(name))


def to_kernel(e: sp.Expr) -> sp.Expr:
    """An expression in the derivations' symbols (with their assumptions) in kernel symbols (without)."""
    return sp.sympify(e).xreplace(_TO_KERNEL)


@dataclass(frozen=True)
class Branch:
    """Outputs that hold where ``condition`` does (and no earlier branch's condition)."""

    condition: sp.Basic
    outputs: tuple[sp.Expr, ...]
    note: str
    lets: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    #: Finite for every ordinary input and the most common case (x = 0 in count data): a vectorised backend may
    #: evaluate it over all elements first and overwrite the others, instead of gathering and scattering.
    dense: bool = False
    #: A second common case right after the dense branch (x = 0 where the dense form's range ends): backends that run
    #: the dense branch in a pass of its own may run this one over the elements it leaves, in a loop of its own.
    sweep: bool = False


@dataclass(frozen=True)
class KernelSpec:
    """One generated function: inputs, outputs, branches, and the derivations it comes from."""

    name: str
    doc: str
    inputs: tuple[sp.Symbol, ...]
    outputs: tuple[str, ...]
    branches: tuple[Branch, ...]
    sources: tuple[str, ...]
    lets: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    #: "sum_last": also generate a reduction that sums output 0 over the last axis (no full-size result).
    reduction: str = ""
    reduction_name: str = ""
    #: (input name, kind) with kind "count" (integer >= 0), "positive" (finite > 0), "log" (|v| <= HUGE_LOG_MU)
    #: or "real" (finite): where every input is of its kind, none of the first ``edges`` branches applies, so a
    #: backend may skip them after one cheap whole-array check (numpy does).
    domain: tuple[tuple[str, str], ...] = ()
    edges: int = 0

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)


@cache
def kernel_specs() -> tuple[KernelSpec, ...]:
    """Every generated kernel, in the order the generated files list them: each model's ``specs()``, models in their
    ``ORDER`` (:func:`derive.models.models`)."""
    from derive.models import modules

    found = tuple(s for module in modules("kernels") for s in module.specs())
    names = [s.name for s in found] + [s.reduction_name for s in found if s.reduction]
    if len(set(names)) != len(names):
        raise ValueError(f"kernel names must be unique across models: {names}")
    return found


def spec(name: str) -> KernelSpec:
    """The kernel called ``name``."""
    for s in kernel_specs():
        if s.name == name:
            return s
    raise KeyError(f"no kernel named {name!r}; known: {', '.join(s.name for s in kernel_specs())}")


__all__ = ["KernelSpec", "Branch", "kernel_specs", "spec", "kernel_expr", "to_kernel", "X", "MU", "THETA", "LOG_MU",
           "LOG_THETA", "SIGMA2"]
