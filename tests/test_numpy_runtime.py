"""The numpy runtime (derive/backends/numpy/runtime/), each function on its own."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

RUNTIME = Path(__file__).resolve().parent.parent / "derive" / "backends" / "numpy" / "runtime"


@pytest.fixture(scope="module")
def select():
    spec = importlib.util.spec_from_file_location("regimes_runtime", RUNTIME / "regimes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("degree", [1, 2, 5, 10, 18])
def test_polyval_w_is_the_sum_it_evaluates(select, degree):
    coefficients = np.array([1.0 / (2 * j + 3) for j in range(degree)])
    w = np.array([0.1875, 0.03125, 2.0**-20])  # exact in binary: the check is exact up to the roundings
    got = select._polyval_w(coefficients, w.copy())
    for wi, gi in zip(w, got, strict=True):
        exact = sum(Fraction(c) * Fraction(wi) ** (j + 1) for j, c in enumerate(coefficients))
        assert abs(gi - float(exact)) <= 4e-16 * float(exact)


@pytest.mark.parametrize("dense_share", [0.0, 0.5, 0.9, 1.0])
def test_select_gives_each_element_its_first_regime(select, dense_share):
    """Whatever path it takes (whole arrays, dense first, gathers), each element gets the first regime that holds
    for it, or the default."""
    rng = np.random.default_rng(1)
    t = np.where(rng.random(1000) < dense_share, rng.uniform(-0.5, 0.5, 1000), rng.uniform(2.0, 5.0, 1000))
    t[::97] = -7.0
    regimes = ((lambda t: t == -7.0, lambda t: np.full(t.shape, -1.0), False),
               (lambda t: np.abs(t) < 1.0, lambda t: 10.0 + t, True),
               (lambda t: t > 4.5, lambda t: 1000.0 + t, False))
    got = select._select((t,), regimes, lambda t: 100.0 + t)
    expected = np.where(t == -7.0, -1.0, np.where(np.abs(t) < 1.0, 10.0 + t, np.where(t > 4.5, 1000.0 + t, 100.0 + t)))
    np.testing.assert_array_equal(got, expected)


def test_select_on_a_scalar_and_a_grid(select):
    assert select._select((np.asarray(0.5),), ((lambda t: t > 0, lambda t: 2 * t, False),), lambda t: -t) == 1.0
    grid = np.arange(12.0).reshape(3, 4)
    got = select._select((grid,), ((lambda g: g % 2 == 0, lambda g: g / 2, False),), lambda g: -g)
    np.testing.assert_array_equal(got, np.where(grid % 2 == 0, grid / 2, -grid))
