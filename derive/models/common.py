"""What several models share: the first step of a stable form, the two pieces every kernel spec begins with, and
its accuracy goals.

Model folders import from here; nothing here knows a model by name.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.precision import Precision
from derive.registry import expr
from derive.spec import NAN, Branch, KernelSpec
from derive.steps import Chain
from derive.symbols import x

#: The input kinds of :attr:`derive.spec.KernelSpec.domain`, by the letter kernel builders spell them with.
KINDS = {"c": "count", "p": "positive", "l": "log", "r": "real"}


def start(chain: Chain, name: str, count: sp.Symbol = x) -> Chain:
    """Begin a stable form from the result of derivation ``name`` (with ``count`` for x, e.g. x >= 1): every stable
    form is then a chain of steps proved equal to the model's own result."""
    return chain.define(expr(name).subs(x, count), f"start from {name}")


def with_domain(spec: KernelSpec, kinds: str, regimes: int) -> KernelSpec:
    """Attach the inputs' kinds (one letter per input, e.g. "cpp"), their ordinary domain, and the number of edge
    branches before it (``regimes`` branches are left after them)."""
    named = tuple(KINDS[kind] for kind in kinds)
    domain = tuple((symbol.name, kind) for symbol, kind in zip(spec.inputs, named, strict=True))
    return replace(spec, domain=domain, kinds=named, edges=len(spec.branches) - regimes)


def nan_branch(condition: sp.Basic, n: int) -> Branch:
    """The first branch of a kernel with ``n`` outputs: NaN inputs and invalid parameters give NaN, as in scipy."""
    return Branch(condition, (NAN,) * n, "NaN input or invalid parameter: NaN (as scipy)")


def goals(precision: Precision, *kinds: str) -> tuple[float, ...]:
    """The accuracy goals of a kernel's outputs, one kind ("value" or "gradient") per output: the precision's
    (Precision.goal: issue 4's float64 goals in the same number of ulps), so that no model types float64's."""
    return tuple(float(precision.goal(kind)) for kind in kinds)
