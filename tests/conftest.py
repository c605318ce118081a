"""Shared fixtures for the kernel tests: the generated kernels of every backend (found from the backend folders)."""

from __future__ import annotations

import pytest

from derive.kernels import backends, load


@pytest.fixture(scope="session")
def numpy_kernels():
    return load("numpy")


@pytest.fixture(scope="session")
def c_kernels():
    return load("c")


@pytest.fixture(scope="session", params=backends())
def any_backend(request):
    """Each backend in turn (a test using it runs once per backend)."""
    return load(request.param)


@pytest.fixture(scope="session")
def every_backend():
    """Every backend at once, for tests that check one convention across all of them in one run."""
    return tuple(load(name) for name in backends())
