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
    for primitive in PRIMITIVES:
        if primitive.implementation(coefficients()) is None:
            continue
        pattern = config.definition_pattern.format(primitive.c_name)
        assert not _definitions(hand, pattern), f"{primitive.__name__} written by hand in {name}"
        expected = 0 if primitive.c_name in config.natives else 1
        assert len(_definitions(numerics, pattern)) == expected, primitive.__name__
        assert len(_definitions(generated, pattern)) == expected, primitive.__name__


def _real_only(fn) -> bool:
    from derive.numerics.ir import REAL

    return fn.result == REAL and all(kind == REAL for kind in fn.types().values()) and not any(
        fn.type_of_param(i) != REAL for i in range(len(fn.params)))


def test_float32_implementations_have_float64s_structure_and_float32_numbers():
    """The implementations built from float32's coefficients: the same functions, parameters and regimes as
    float64's, and every number in those that compute in the working precision alone is a float32 (coefficients
    and thresholds rounded to it, series shorter). Refinements (pairs, long double) are float64's stages for float32
    (derive/precision.py): issue 13 prints them; here they only have to build."""
    from derive.numerics.collect import generated_functions
    from derive.precision import FLOAT32, FLOAT64

    wide = {fn.name: fn for fn in generated_functions(coefficients(FLOAT64), frozenset())}
    narrow = {fn.name: fn for fn in generated_functions(coefficients(FLOAT32), frozenset())}
    assert narrow.keys() == wide.keys()
    checked = 0
    for name, fn in narrow.items():
        assert fn.params == wide[name].params and len(fn.regimes) == len(wide[name].regimes), name
        if not _real_only(fn):
            continue
        numbers = {float(n) for expr in expressions_of(fn) for n in expr.atoms(sp.Float)}
        # (thresholds that are short decimals, 0.1 or 1e-15, are algorithm choices a comparison rounds; a computed
        # coefficient or constant has all its digits)
        leaked = [v for v in numbers if float(np.float32(v)) != v and len(_digits(v)) > 4]
        assert not leaked, (name, leaked)
        checked += 1
    assert checked >= 15
    shorter = coefficients(FLOAT32)
    assert len(shorter.stirling) < len(coefficients(FLOAT64).stirling)


def _digits(value: float) -> str:
    return repr(abs(value)).split("e")[0].replace(".", "").strip("0")


def expressions_of(fn):
    from derive.numerics.ir import expressions

    return list(expressions(fn))
