"""Shared fixtures for the kernel tests: the generated kernels of every backend (found from the backend folders)."""

from __future__ import annotations

import pytest

from derive.backends import backend
from derive.kernels import NumpyView, available, backends, load


def _kernels(name: str):
    return NumpyView(load(name)) if backend(name).requires else load(name)


def loaded(name: str):
    """The kernels of backend ``name`` (numpy results); the test is skipped, saying why, where its framework is not
    installed."""
    if name not in available():
        pytest.skip(f"backend {name}: its framework is not installed (pip install 'nbderive[{name}]')")
    return _kernels(name)


@pytest.fixture(scope="session")
def numpy_kernels():
    return load("numpy")


@pytest.fixture(scope="session")
def c_kernels():
    return load("c")


@pytest.fixture(scope="session", params=backends())
def any_backend(request):
    """Each backend in turn (a test using it runs once per backend)."""
    return loaded(request.param)


@pytest.fixture(scope="session")
def every_backend():
    """Every backend whose framework is installed, at once, for tests that check one convention across all of them
    in one run."""
    return tuple(_kernels(name) for name in available())
