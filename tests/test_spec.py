"""The registry of kernels (derive/spec.py): every kernel says what the rest of the project reads from it (goals,
labels, input kinds, an oracle), and every Gradient it records points at real inputs and outputs and is right."""

from __future__ import annotations

import math
from pathlib import Path

import mpmath
import pytest
from mpmath import mp, mpf

from derive.models import models
from derive.models.common import KINDS
from derive.spec import Gradient, KernelSpec, gradients_of, kernel_specs, reductions, spec

SPECS = {s.name: s for s in kernel_specs()}
GRADIENTS = [(s.name, g) for s in SPECS.values() for g in s.gradients]
README = Path(__file__).resolve().parent.parent / "README.md"
#: An ordinary point of every input (log inputs are the logs of the plain ones).
POINT = {"x": 3.0, "mu": 2.5, "theta": 1.5, "sigma2": 0.7}
POINT |= {f"log_{name}": math.log(POINT[name]) for name in ("mu", "theta")}


def test_kernels_come_from_the_model_folders_in_their_order():
    order = [s.model for s in SPECS.values()]
    assert order == sorted(order, key=models().index), "kernels grouped by model, models in ORDER"
    names = list(SPECS) + list(reductions())
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", list(SPECS))
def test_every_kernel_describes_its_outputs_and_inputs(name):
    s = SPECS[name]
    assert len(s.goals) == len(s.outputs) and all(0 < goal < 1e-12 for goal in s.goals)
    assert len(s.labels) == len(set(s.labels)) == len(s.outputs)
    assert s.oracle is not None and callable(s.oracle.value)
    assert len(s.kinds) == len(s.inputs) and set(s.kinds) <= set(KINDS.values())
    assert not s.domain or s.domain == tuple(zip(s.input_names, s.kinds, strict=True))
    assert all(name in POINT or name in dict(s.draws) for name in s.input_names), "every input can be sampled"
    assert s.log_inputs == tuple(i for i, n in enumerate(s.input_names) if n.startswith("log_"))


def test_labels_are_unique_across_kernels():
    labels = [label for s in SPECS.values() for label in s.labels]
    assert len(labels) == len(set(labels))


def _variables(s: KernelSpec) -> set[str]:
    """What a kernel's value may be differentiated against: its inputs, and the log of each plain one."""
    return set(s.input_names) | {f"log_{n}" for n in s.input_names}


@pytest.mark.parametrize(("name", "gradient"), GRADIENTS, ids=[f"{n}:{g.wrt}" for n, g in GRADIENTS])
def test_every_gradient_points_at_an_existing_input_and_output(name, gradient: Gradient):
    holder = SPECS[name]
    of = SPECS[gradient.of or name]
    assert 0 <= gradient.output < len(holder.outputs) and 0 <= gradient.of_output < len(of.outputs)
    assert gradient.sign in (1, -1)
    assert gradient.wrt in _variables(of)
    kinds = dict(zip(of.input_names, of.kinds, strict=True))
    assert kinds.get(gradient.wrt.removeprefix("log_")) != "count", "counts are not differentiable"
    # The holder's arguments determine the differentiated kernel's: each is one of them or the log of one.
    assert all(n in holder.input_names or f"log_{n}" in holder.input_names for n in of.input_names)
    if of is holder:
        assert gradient.output != gradient.of_output, "an output is not its own derivative"


def _value_at(of: KernelSpec, wrt: str, t: mpf) -> tuple[mpf, ...]:
    """The oracle of ``of`` at POINT, with variable ``wrt`` set to t (exp(t) for the plain input of a log one)."""
    args = []
    for n in of.input_names:
        if n == wrt:
            args.append(t)
        elif f"log_{n}" == wrt:
            args.append(mp.exp(t))
        else:
            args.append(mpf(POINT[n]))
    value = of.oracle.value(*args)
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize(("name", "gradient"), GRADIENTS, ids=[f"{n}:{g.wrt}" for n, g in GRADIENTS])
def test_every_gradient_is_the_derivative_it_says(name, gradient: Gradient):
    """Against a finite difference of the differentiated kernel's oracle, at 50 digits: the sign convention and the
    variable (plain or log) are right, not only the names. (To 1e-12: theta = 1.5 and exp(log(1.5)) differ by a
    rounding.)"""
    holder, of = SPECS[name], SPECS[gradient.of or name]
    with mp.workdps(50):
        given = holder.oracle.value(*(mpf(POINT[n]) for n in holder.input_names))
        given = (given if isinstance(given, tuple) else (given,))[gradient.output]
        derivative = mpmath.diff(lambda t: _value_at(of, gradient.wrt, t)[gradient.of_output], mpf(POINT[gradient.wrt]))
        assert abs(given - gradient.sign * derivative) <= 1e-12 * abs(derivative), (given, derivative)


def test_backward_kernels_take_the_same_arguments():
    """gradients_of: what an autograd wrapper of a value kernel calls, input by input."""
    assert {g.wrt: k.name for k, g in gradients_of("nb_logpmf")} == {"mu": "nb_nll_grad_mu",
                                                                     "theta": "nb_nll_grad_theta"}
    assert {g.wrt: (k.name, g.output) for k, g in gradients_of("nb_nll_fused")} == {
        "log_mu": ("nb_nll_fused", 1), "log_theta": ("nb_nll_fused", 2)}
    for name in SPECS:
        for k, g in gradients_of(name):
            assert k.inputs == SPECS[name].inputs and g.wrt in SPECS[name].input_names


def test_unknown_kernels_are_named_in_the_error():
    with pytest.raises(KeyError, match="no kernel named 'nb_logpdf'.*nb_logpmf"):
        spec("nb_logpdf")


def test_the_readme_lists_every_kernel():
    functions = README.read_text(encoding="utf-8").split("Functions:", 1)[1].split("They broadcast", 1)[0]
    listed = {part.strip(" `.\n") for part in functions.replace("\n", " ").split(",")}
    assert listed == set(SPECS) | set(reductions())
