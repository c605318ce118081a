"""Shared fixtures for the kernel tests: the two backends of the generated kernels."""

from __future__ import annotations

import pytest

from derive.kernels import load

BACKENDS = ("numpy", "c")


@pytest.fixture(scope="session")
def numpy_kernels():
    return load("numpy")


@pytest.fixture(scope="session")
def c_kernels():
    return load("c")


@pytest.fixture(scope="session", params=BACKENDS)
def any_backend(request, numpy_kernels, c_kernels):
    """Each backend in turn (a test using it runs once per backend)."""
    return numpy_kernels if request.param == "numpy" else c_kernels
