"""Kernel specifications: what each generated function computes, and the one list of them.

A kernel is a list of branches, tried in order (the first whose condition holds gives the outputs), after
optional ``lets`` (named values computed for every element, e.g. mu = exp(log_mu)). The first branches state
the conventions (as scipy: NaN parameters give NaN, impossible counts give -inf); the last ones choose the
numerically right form for each regime. Every output expression comes from a registered derivation (stable
forms, proved equal to the plain ones), so backends print, they never decide.

Each model folder declares its kernels (``derive/models/<model>/kernels.py``, ``specs(precision)``);
:func:`kernel_specs` collects them in the models' order, and everything else (backends, accuracy, oracle, benchmark,
tests) reads them from there.

Precision is a parameter (:mod:`derive.precision`): ``kernel_specs(FLOAT32)`` has the same kernels, inputs, outputs,
gradients and branches as float64's, with the thresholds (overflow and underflow switches, accuracy goals) that
follow from float32's epsilon, smallest normal and largest finite number. None is typed here or in the models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import sympy as sp

from derive.precision import FLOAT64, Precision
from derive.precision import precision as find_precision
from derive.registry import expr
from derive.symbols import eta, lam, mu, sigma2, theta, x, x_pos

#: float64's Precision.huge_log_mu (700): the templates' whole-array check of "log" inputs (derive.codegen). Kernel
#: specs read their own precision's.
HUGE_LOG_MU = FLOAT64.huge_log_mu

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
class Gradient:
    """Output ``output`` of the kernel that lists this is ``sign`` times the derivative of output ``of_output`` of
    kernel ``of`` (the same kernel if empty) with respect to the variable ``wrt``.

    Variables are the kernels' input names; ``log_v`` is log(v), so each kernel's value is defined at the other's
    arguments (mse_grad_logmu(x, log_mu) is d mse(x, mu)/d log_mu at mu = e^log_mu). The nll gradients are
    derivatives of the negative log-likelihood: nb_nll_grad_mu = -d nb_logpmf/d mu, so ``sign`` is -1 there. Where
    the kernel takes the same inputs as ``of`` and ``wrt`` is one of them, it is ``of``'s backward for that input
    (:func:`gradients_of`), what an autograd wrapper calls.
    """

    output: int
    wrt: str
    of: str = ""
    of_output: int = 0
    sign: int = 1


@dataclass(frozen=True)
class Oracle:
    """The high-precision reference of a kernel (see :mod:`derive.oracle`), typed from the literature's closed forms
    in the model's ``oracle.py``, apart from the derivations it checks.

    ``value`` takes mpf arguments (the kernel's, in its order) and returns an mpf, or a tuple of them for several
    outputs, at the current mpmath precision. ``condition``, where given, is the condition number the problem itself
    has beyond its rounded log inputs (P(x = 0) = exp(L): |L|), per output in units of float64 rounding.
    """

    value: Callable[..., Any]
    condition: Callable[..., Any] | None = None


@dataclass(frozen=True)
class KernelSpec:
    """One generated function: inputs, outputs, branches, the derivations it comes from, and what the rest of the
    project needs to know about it (accuracy goals, gradients, oracle, how its inputs are sampled)."""

    name: str
    doc: str
    inputs: tuple[sp.Symbol, ...]
    outputs: tuple[str, ...]
    branches: tuple[Branch, ...]
    sources: tuple[str, ...]
    lets: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    #: "sum_last_negated": also generate ``reduction_name``, which sums output 0 over the last axis and negates it (the
    #: NLL per row, without a full-size result).
    reduction: str = ""
    reduction_name: str = ""
    #: (input name, kind) with kind "count" (integer >= 0), "positive" (finite > 0), "log" (|v| <= huge_log_mu)
    #: or "real" (finite): where every input is of its kind, none of the first ``edges`` branches applies, so a
    #: backend may skip them after one cheap whole-array check (numpy does).
    domain: tuple[tuple[str, str], ...] = ()
    edges: int = 0
    #: Each input's kind (as in ``domain``), also for kernels without a domain check: "log" inputs are rounded logs
    #: the kernel exponentiates (their rounding enters the accuracy allowance), "count" inputs are not differentiable.
    kinds: tuple[str, ...] = ()
    #: The relative accuracy each output must meet (plus the oracle's condition number times 2^-53): the precision's
    #: Precision.goal("value") or goal("gradient") (issue 4's 1e-14 and 1e-13 for float64).
    goals: tuple[float, ...] = ()
    #: Short names of the outputs in reports, where several outputs need telling apart (see ``labels``).
    output_labels: tuple[str, ...] = ()
    #: Which outputs are derivatives of what (see :class:`Gradient`).
    gradients: tuple[Gradient, ...] = ()
    oracle: Oracle | None = None
    #: Inputs that are not coordinates of the accuracy regimes (x, mu, theta and their logs), each as a function of a
    #: sample of those (a dict of arrays): e.g. the Gaussian's sigma2, the NB variance.
    draws: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = ()
    #: The model folder the kernel comes from (set by :func:`kernel_specs`).
    model: str = ""
    #: The format whose thresholds and goals the kernel was built with (set by :func:`kernel_specs`).
    precision: Precision = FLOAT64
    #: Why this kernel, in a precision whose refinements are a wider one's (float32), is computed whole in the wider
    #: one and rounded back: its forms' own arithmetic misses the goal somewhere (its model's ``WIDENED`` says where,
    #: as measured). Empty: computed in its own precision. Set by :func:`kernel_specs`.
    widened: str = ""
    #: A widened kernel whose dense branch (the common case, x = 0) its own precision still computes: measured within
    #: the goal where the rest is not (its model's ``NARROW_DENSE``). Set by :func:`kernel_specs`.
    narrow_dense: bool = False

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    @property
    def labels(self) -> tuple[str, ...]:
        """One label per output, as the accuracy report names them: the kernel's name, with [output] for
        multi-output kernels."""
        if len(self.outputs) == 1:
            return (self.name,)
        return tuple(f"{self.name}[{o}]" for o in (self.output_labels or self.outputs))

    @property
    def log_inputs(self) -> tuple[int, ...]:
        """Positions of the inputs of kind "log"."""
        return tuple(i for i, kind in enumerate(self.kinds) if kind == "log")


def kernel_specs(precision: Precision | str = FLOAT64) -> tuple[KernelSpec, ...]:
    """Every generated kernel for ``precision`` (or its name), in the order the generated files list them: each
    model's ``specs(precision)``, models in their ``ORDER`` (:func:`derive.models.models`). Built once per precision
    (the default and FLOAT64 give the same tuple)."""
    return _kernel_specs(find_precision(precision) if isinstance(precision, str) else precision)


@cache
def _kernel_specs(precision: Precision) -> tuple[KernelSpec, ...]:
    from derive.models import modules

    found = tuple(replace(s, model=module.__name__.split(".")[-2], precision=precision,
                          widened=getattr(module, "WIDENED", {}).get(s.name, "") if precision.wider else "",
                          narrow_dense=bool(precision.wider) and s.name in getattr(module, "NARROW_DENSE", ()))
                  for module in modules("kernels") for s in module.specs(precision))
    names = [s.name for s in found] + [s.reduction_name for s in found if s.reduction]
    if len(set(names)) != len(names):
        raise ValueError(f"kernel names must be unique across models: {names}")
    return found


def spec(name: str, precision: Precision | str = FLOAT64) -> KernelSpec:
    """The kernel called ``name``, built for ``precision``."""
    specs = kernel_specs(precision)
    for s in specs:
        if s.name == name:
            return s
    raise KeyError(f"no kernel named {name!r}; known: {', '.join(s.name for s in specs)}")


def reductions(precision: Precision | str = FLOAT64) -> dict[str, KernelSpec]:
    """The generated reductions (e.g. nb_nll_sum_genes) by name, with the kernel each one sums."""
    return {s.reduction_name: s for s in kernel_specs(precision) if s.reduction}


def gradients_of(name: str, precision: Precision | str = FLOAT64) -> tuple[tuple[KernelSpec, Gradient], ...]:
    """The derivatives of kernel ``name``'s outputs w.r.t. its own inputs that some kernel computes from the same
    arguments (``name`` itself for the fused kernel): (that kernel, its Gradient). An autograd wrapper's backward."""
    value = spec(name, precision)
    return tuple((s, g) for s in kernel_specs(precision) for g in s.gradients
                 if (g.of or s.name) == name and s.inputs == value.inputs and g.wrt in value.input_names)


__all__ = ["KernelSpec", "Branch", "Gradient", "Oracle", "kernel_specs", "spec", "reductions", "gradients_of",
           "kernel_expr", "to_kernel", "HUGE_LOG_MU", "X", "MU", "THETA", "LOG_MU", "LOG_THETA",
           "SIGMA2"]
