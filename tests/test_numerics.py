"""The implementation language (derive/numerics): ordered arithmetic is printed in order, and every implemented
primitive is printed from its one description in every backend (no backend writes it by hand)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from derive import kernels
from derive.backends import backend, code_backends
from derive.backends.c.numerics import CNumericsPrinter
from derive.backends.numpy.numerics import NumpyNumericsPrinter
from derive.numerics.ir import F, Minus, Negate, Over, Plus, Times
from derive.primitives import PRIMITIVES
from derive.series import coefficients

#: Primitives whose implementation is still written in the templates (issue 12 moves them one by one).
PENDING: set[str] = set()

_OPERATIONS = {Plus: lambda a, b: a + b, Minus: lambda a, b: a - b, Times: lambda a, b: a * b,
               Over: lambda a, b: a / b}


def _random_tree(rng, leaves: list[F], depth: int) -> F:
    if depth == 0 or rng.random() < 0.2:
        return leaves[rng.integers(len(leaves))]
    if rng.random() < 0.1:
        return -_random_tree(rng, leaves, depth - 1)
    left, right = _random_tree(rng, leaves, depth - 1), _random_tree(rng, leaves, depth - 1)
    return [left + right, left - right, left * right, left / right][rng.integers(4)]


def _in_order(expr: sp.Basic, values: dict) -> float:
    """The tree evaluated operation by operation in Python floats: the order the printers must keep."""
    if isinstance(expr, sp.Symbol):
        return values[expr.name]
    if isinstance(expr, Negate):
        return -_in_order(expr.args[0], values)
    a, b = (_in_order(arg, values) for arg in expr.args)
    return _OPERATIONS[type(expr)](a, b)


@pytest.mark.parametrize("printer", [CNumericsPrinter(), NumpyNumericsPrinter({})], ids=["c", "numpy"])
def test_ordered_arithmetic_prints_in_its_order(printer):
    """Random trees over values chosen so that every reassociation rounds differently: the printed text (C and Python
    share the infix syntax of + - * / and unary minus) evaluates to the same bits as the tree in its order."""
    rng = np.random.default_rng(5)
    names = "abcd"
    leaves = [F(sp.Symbol(n)) for n in names]
    for _ in range(400):
        tree = _random_tree(rng, leaves, 5).expr
        values = {n: float(v) for n, v in zip(names, rng.uniform(0.1, 3.0, 4) * 10.0 ** rng.integers(-3, 4, 4),
                                              strict=True)}
        try:
            expected = _in_order(tree, values)
        except ZeroDivisionError:  # (a subtree minus itself)
            continue
        text = printer.doprint(tree)
        assert float(eval(text, {}, values)).hex() == expected.hex(), text


def _definitions(text: str, pattern: str) -> list[str]:
    return re.findall(pattern, text, flags=re.MULTILINE)


def test_pending_primitives_are_the_ones_without_an_implementation():
    missing = {p.c_name for p in PRIMITIVES if p.implementation(coefficients()) is None}
    assert missing == PENDING


@pytest.mark.parametrize("name", code_backends())
def test_every_implemented_primitive_is_printed_not_written(name):
    """Each implemented primitive is defined once in the generated file, by the generated block, and by no template
    or runtime file of the backend (natives: not at all)."""
    config = backend(name)
    hand = "".join(path.read_text(encoding="utf-8") for folder in ("templates", "runtime")
                   for path in sorted((config.folder / folder).glob("*")))
    generated = "".join(kernels.generated_text(path) for path in config.outputs.values())
    numerics = config.numerics_source(coefficients())
    c_style = name == "c"
    for primitive in PRIMITIVES:
        if primitive.implementation(coefficients()) is None:
            continue
        pattern = (rf"^static inline double nbk_{primitive.c_name}\(" if c_style
                   else rf"^def _{primitive.c_name}\(")
        assert not _definitions(hand, pattern), f"{primitive.__name__} written by hand in {name}"
        expected = 0 if primitive.c_name in config.natives else 1
        assert len(_definitions(numerics, pattern)) == expected, primitive.__name__
        assert len(_definitions(generated, pattern)) == expected, primitive.__name__
